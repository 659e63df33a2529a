// The observed quantity of a model. Built-in models observe one state component
// (observed_component); a model that declares observe_gradient (a user model observing an
// expression of its states) is observed through observe(x), and its sensitivities through the
// chain rule: ∂y/∂q = ∇observe(x) · ∂x/∂q. The first kind takes the component directly, as before.
//
// A model may observe several quantities (channels): it declares observed_count = K and
// observe_channel(x, c) with observe_gradient_channel(x, c, gradient). A row of its series then
// holds the K channels one after the other (channel c at [c·L, (c + 1)·L)), its sensitivities
// likewise ((c·L + k)·P + i), and the Laplace information sums the channels' terms.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

namespace fhn_inverse::simulate {

// Whether a model declares static void observe_gradient(const State& x, double* gradient).
template <class M, class = void>
struct observes_expression : std::false_type {};
template <class M>
struct observes_expression<
    M, std::void_t<decltype(M::observe_gradient(std::declval<const typename M::State&>(),
                                                static_cast<double*>(nullptr)))>> : std::true_type {
};

// Whether a model declares observed_count (several observed quantities).
template <class M, class = void>
struct observes_channels : std::false_type {};
template <class M>
struct observes_channels<M, std::void_t<decltype(M::observed_count)>> : std::true_type {};

// The number of observed quantities of a model (1 unless it declares observed_count).
template <class Model>
constexpr std::size_t observed_count() {
  if constexpr (observes_channels<Model>::value)
    return Model::observed_count;
  else
    return 1;
}

// The observed value (channel c) of the state held in y[0..S) (y: the state, or an augmented
// state).
template <class Model, class Y>
inline double observed_value(const Y& y, [[maybe_unused]] std::size_t c = 0) {
  if constexpr (observes_channels<Model>::value) {
    typename Model::State x;
    for (std::size_t a = 0; a < Model::state_size; ++a) x[a] = y[a];
    return Model::observe_channel(x, c);
  } else if constexpr (observes_expression<Model>::value) {
    typename Model::State x;
    for (std::size_t a = 0; a < Model::state_size; ++a) x[a] = y[a];
    return Model::observe(x);
  } else {
    return y[Model::observed_component];
  }
}

// The observed value's sensitivity to the quantity whose block of ∂x/∂q starts at
// y[S·(1 + block)], in an augmented state y = (x, ∂x/∂q_0, ∂x/∂q_1, ...).
template <class Model, class Y>
inline double observed_sensitivity(const Y& y, std::size_t block,
                                   [[maybe_unused]] std::size_t c = 0) {
  constexpr std::size_t S = Model::state_size;
  if constexpr (observes_channels<Model>::value) {
    typename Model::State x;
    for (std::size_t a = 0; a < S; ++a) x[a] = y[a];
    double gradient[S];
    Model::observe_gradient_channel(x, c, gradient);
    double d = 0.0;
    for (std::size_t a = 0; a < S; ++a) d += gradient[a] * y[S * (1 + block) + a];
    return d;
  } else if constexpr (observes_expression<Model>::value) {
    typename Model::State x;
    for (std::size_t a = 0; a < S; ++a) x[a] = y[a];
    double gradient[S];
    Model::observe_gradient(x, gradient);
    double d = 0.0;
    for (std::size_t a = 0; a < S; ++a) d += gradient[a] * y[S * (1 + block) + a];
    return d;
  } else {
    return y[S * (1 + block) + Model::observed_component];
  }
}

}  // namespace fhn_inverse::simulate
