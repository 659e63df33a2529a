// The models the core is built for, as one list. The simulator (both integrators), the
// sensitivities and the Laplace covariances are templates on the model, instantiated for every
// entry (FHN_FOR_EACH_MODEL in their .cpp files), and the bindings bind every entry
// (models::for_each). Adding a model: its header in models/ (the shape of damped_oscillator.hpp,
// the least a model needs) and its include and one entry below; nothing else.
#pragma once

#include "fhn_inverse/models/damped_oscillator.hpp"
#include "fhn_inverse/models/fitzhugh_nagumo.hpp"
#include "fhn_inverse/models/hodgkin_huxley.hpp"
#include "fhn_inverse/models/morris_lecar.hpp"

// X(model type) for every model: for explicit instantiations at namespace scope.
#define FHN_FOR_EACH_MODEL(X)              \
  X(::fhn_inverse::models::FitzHughNagumo) \
  X(::fhn_inverse::models::MorrisLecar)    \
  X(::fhn_inverse::models::HodgkinHuxley)  \
  X(::fhn_inverse::models::DampedOscillator)

namespace fhn_inverse::models {

template <class... Models>
struct TypeList {};

// The same list as a type, for code that runs per model (the bindings).
using All = TypeList<FitzHughNagumo, MorrisLecar, HodgkinHuxley, DampedOscillator>;

// f(static_cast<Model*>(nullptr)) for every model of the list, in order.
template <class F, class... Models>
void for_each(TypeList<Models...>, F&& f) {
  (f(static_cast<Models*>(nullptr)), ...);
}

}  // namespace fhn_inverse::models
