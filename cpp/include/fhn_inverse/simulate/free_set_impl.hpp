// The free-set templates (free_set.hpp), generic in the model: free_set.cpp instantiates them for
// the package's models; a model compiled elsewhere (a user model) includes this header.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "fhn_inverse/simulate/free_set.hpp"
#include "fhn_inverse/simulate/integrate.hpp"
#include "fhn_inverse/simulate/observation.hpp"
#include "fhn_inverse/simulate/sensitivities_impl.hpp"
#include "fhn_inverse/simulate/simulator_impl.hpp"
#include "fhn_inverse/util/interrupt.hpp"
#include "fhn_inverse/util/parallel.hpp"

namespace fhn_inverse::simulate {

template <class Model>
FreeSet make_free_set(const std::vector<std::string>& names, std::vector<double> theta_fixed) {
  constexpr std::size_t P = Model::param_size, C = Model::constant_names.size();
  const std::vector<std::string> known = quantity_names<Model>();
  std::string listed;
  for (const auto& n : known) listed += (listed.empty() ? "" : ", ") + n;
  if (names.empty())
    throw std::invalid_argument(std::string("a free set of ") + Model::name +
                                " names at least one of its quantities (" + listed + ")");
  if (theta_fixed.size() != P)
    throw std::invalid_argument("theta_fixed must hold " + std::to_string(P) + " values, got " +
                                std::to_string(theta_fixed.size()));
  for (double v : theta_fixed)
    if (!std::isfinite(v))
      throw std::invalid_argument("theta_fixed must be finite, got " + std::to_string(v));
  FreeSet out{{}, std::move(theta_fixed)};
  for (auto it = names.begin(); it != names.end(); ++it) {
    const std::string& name = *it;
    const auto at = std::find(known.begin(), known.end(), name);
    if (at == known.end())
      throw std::invalid_argument("'" + name + "' is not a quantity of " + Model::name +
                                  "; its quantities are " + listed);
    if (std::find(names.begin(), it, name) != it)  // named before
      throw std::invalid_argument("'" + name + "' appears twice in the free set");
    const auto q = static_cast<std::size_t>(at - known.begin());
    if (q < P)
      out.entries.push_back({FreeSet::Kind::param, q});
    else if (q < P + C)
      out.entries.push_back({FreeSet::Kind::constant, q - P});
    else
      out.entries.push_back({FreeSet::Kind::initial, q - P - C});
  }
  return out;
}

template <class Model>
FreeSet default_free_set() {
  std::vector<std::string> names(Model::param_names.begin(), Model::param_names.end());
  std::vector<double> middle(Model::param_size);
  for (std::size_t i = 0; i < Model::param_size; ++i) {  // 0 where a model declares no range
    const double m = 0.5 * (Model::prior_lower[i] + Model::prior_upper[i]);
    middle[i] = std::isfinite(m) ? m : 0.0;
  }
  return make_free_set<Model>(names, middle);
}

template <class Model>
Model row_model(const Model& base, const FreeSet& free, const double* z) {
  auto c = base.constant_values();
  auto x0 = base.initial();
  for (std::size_t j = 0; j < free.entries.size(); ++j) {
    const auto& e = free.entries[j];
    if (e.kind == FreeSet::Kind::constant) c[e.index] = z[j];
    if (e.kind == FreeSet::Kind::initial) x0[e.index] = z[j];
  }
  return Model(c, x0);
}

template <class Model>
void check_rows(const Model& base, const FreeSet& free, const RowMatrix& z) {
  if (z.rows() < 1 || static_cast<std::size_t>(z.cols()) != free.size())
    throw std::invalid_argument("z must have shape (N >= 1, " + std::to_string(free.size()) +
                                "), got (" + std::to_string(z.rows()) + ", " +
                                std::to_string(z.cols()) + ")");
  if (!z.allFinite()) throw std::invalid_argument("the free quantities must be finite");
  if (free.params_only()) return;
  for (Eigen::Index i = 0; i < z.rows(); ++i) {
    try {
      (void)row_model(base, free, z.row(i).data());
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("row " + std::to_string(i) + ": " + e.what());
    }
  }
}

template <class Model>
BatchResult simulate_free(const Model& base, const FreeSet& free, const RowMatrix& z,
                          const SimulatorOptions& options, int n_threads) {
  constexpr std::size_t P = Model::param_size;
  if (free.is_default(P)) return simulate_batch(base, z, options, n_threads);
  options.validate();
  check_rows(base, free, z);
  const Eigen::Index N = z.rows();
  RowMatrix theta(N, static_cast<Eigen::Index>(P));
  for (Eigen::Index i = 0; i < N; ++i) row_theta(free, z.row(i).data(), theta.row(i).data());
  if (free.params_only()) return simulate_batch(base, theta, options, n_threads);
  const int threads = team_size(resolve_threads(n_threads), N);
  BatchResult result{
      RowMatrix(N, static_cast<Eigen::Index>(observed_count<Model>() * options.t_obs.size())),
      std::vector<std::int8_t>(static_cast<std::size_t>(N))};
  InterruptPoll poll;
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads)
  for (Eigen::Index i = 0; i < N; ++i) {
    if (poll.stop()) continue;
    const Model model = row_model(base, free, z.row(i).data());
    result.status[static_cast<std::size_t>(i)] = static_cast<std::int8_t>(
        simulate_one(model, theta.row(i).data(), options, result.u.row(i).data(), &poll));
  }
  poll.check();
  return result;
}

namespace free_set_detail {

// The augmented system of every quantity: x, then S_q = ∂x/∂q for the P parameters, the C
// constants (models with constant_jacobian; none otherwise) and the S initial-state components.
template <class Model>
struct QuantitySensitivities {
  static constexpr std::size_t S = Model::state_size, P = Model::param_size;
  static constexpr std::size_t C =
      has_constant_jacobian<Model>::value ? Model::constant_names.size() : 0;
  static constexpr std::size_t Q = P + C + S;
  using State = std::array<double, S*(1 + Q)>;

  const Model& model;
  const double* theta;

  void operator()(const State& y, State& dydt, double /*t*/) const {
    typename Model::State x, fx;
    for (std::size_t a = 0; a < S; ++a) x[a] = y[a];
    model.rhs(x, fx, theta);
    double J_f_x[S * S], J_f_theta[S * P], J_f_c[S * (C > 0 ? C : 1)];
    model.jacobians(x, theta, J_f_x, J_f_theta);
    if constexpr (C > 0) model.constant_jacobian(x, theta, J_f_c);
    for (std::size_t a = 0; a < S; ++a) dydt[a] = fx[a];
    for (std::size_t q = 0; q < Q; ++q) {
      const double* s = &y[S * (1 + q)];
      for (std::size_t a = 0; a < S; ++a) {
        double d = q < P ? J_f_theta[a * P + q] : q < P + C ? J_f_c[a * C + (q - P)] : 0.0;
        for (std::size_t b = 0; b < S; ++b) d += J_f_x[a * S + b] * s[b];
        dydt[S * (1 + q) + a] = d;
      }
    }
  }

  State initial() const {
    State y{};
    for (std::size_t a = 0; a < S; ++a) {
      y[a] = model.initial()[a];
      y[S * (1 + P + C + a) + a] = 1.0;  // ∂x(t0)/∂x0 = I
    }
    return y;
  }

  static std::size_t column(const FreeSet::Entry& e) {
    return e.kind == FreeSet::Kind::param      ? e.index
           : e.kind == FreeSet::Kind::constant ? P + e.index
                                               : P + C + e.index;
  }
};

template <class Model>
void check_sensitivities(const FreeSet& free) {
  if (!has_constant_jacobian<Model>::value && free.frees(FreeSet::Kind::constant))
    throw std::invalid_argument(std::string(Model::name) +
                                " declares no constant_jacobian: sensitivities to its constants "
                                "are not available (free its parameters or initial state)");
}

}  // namespace free_set_detail

template <class Model>
Status sensitivities_free_one(const Model& base, const FreeSet& free, const double* z,
                              const SimulatorOptions& options, double* u_out, double* J_out,
                              InterruptPoll* poll) {
  constexpr std::size_t P = Model::param_size;
  constexpr std::size_t K = observed_count<Model>();
  const std::size_t k = free.size(), L = options.t_obs.size();
  std::array<double, P> theta;
  row_theta(free, z, theta.data());
  Status status;
  if (free.params_only()) {
    using System = SensitivitySystem<Model>;
    const System system{base, theta.data()};
    status = integrate_on_grid<typename System::State>(
        system, system.initial(), options, System::S,
        [&](std::size_t step, const typename System::State& y) {
          for (std::size_t c = 0; c < K; ++c) {
            u_out[c * L + step] = observed_value<Model>(y, c);
            for (std::size_t j = 0; j < k; ++j)
              J_out[(c * L + step) * k + j] =
                  observed_sensitivity<Model>(y, free.entries[j].index, c);
          }
        },
        poll);
  } else {
    using System = free_set_detail::QuantitySensitivities<Model>;
    const Model model = row_model(base, free, z);
    const System system{model, theta.data()};
    status = integrate_on_grid<typename System::State>(
        system, system.initial(), options, System::S,
        [&](std::size_t step, const typename System::State& y) {
          for (std::size_t c = 0; c < K; ++c) {
            u_out[c * L + step] = observed_value<Model>(y, c);
            for (std::size_t j = 0; j < k; ++j)
              J_out[(c * L + step) * k + j] =
                  observed_sensitivity<Model>(y, System::column(free.entries[j]), c);
          }
        },
        poll);
  }
  if (status != Status::ok) {
    std::fill(u_out, u_out + K * L, std::numeric_limits<double>::quiet_NaN());
    std::fill(J_out, J_out + K * L * k, std::numeric_limits<double>::quiet_NaN());
  }
  return status;
}

template <class Model>
SensitivityResult sensitivities_free(const Model& base, const FreeSet& free, const RowMatrix& z,
                                     const SimulatorOptions& options, int n_threads) {
  if (free.is_default(Model::param_size)) return sensitivities_batch(base, z, options, n_threads);
  options.validate();
  free_set_detail::check_sensitivities<Model>(free);
  check_rows(base, free, z);
  const Eigen::Index N = z.rows(),
                     L = static_cast<Eigen::Index>(observed_count<Model>() * options.t_obs.size());
  const auto k = static_cast<Eigen::Index>(free.size());
  const int threads = team_size(resolve_threads(n_threads), N);
  SensitivityResult r{RowMatrix(N, L), RowMatrix(N, L * k),
                      std::vector<std::int8_t>(static_cast<std::size_t>(N))};
  InterruptPoll poll;
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
  for (Eigen::Index i = 0; i < N; ++i) {
    if (poll.stop()) continue;
    r.status[static_cast<std::size_t>(i)] = static_cast<std::int8_t>(sensitivities_free_one(
        base, free, z.row(i).data(), options, r.u.row(i).data(), r.J.row(i).data(), &poll));
  }
  poll.check();
  return r;
}

}  // namespace fhn_inverse::simulate
