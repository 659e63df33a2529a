// Free sets: which of a model's quantities a row z of an input holds. A model has three kinds of
// quantity: its parameters θ (param_names), its constants (constant_names) and its initial state
// (state_names, each named with a trailing "0": u0, v0). A free set names k of them; a row z (k)
// sets those, and the rest keep the values of a base model (its constants and initial state) and
// of theta_fixed (the parameters that are not free). The model's own θ in order is the default
// free set, and the default takes the model's own code paths (bitwise the same results).
//
// Rows that free only parameters are expanded to full θ and run through the batch simulator (both
// integrators); rows that free a constant or the initial state make a model per row (the Odeint
// path). Sensitivities of a free constant need the model's constant_jacobian (∂f/∂c, S × C,
// row-major); those of a free initial state start from the unit vector (the variational
// equation without forcing).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "fhn_inverse/models/list.hpp"
#include "fhn_inverse/simulate/sensitivities.hpp"
#include "fhn_inverse/simulate/simulator.hpp"
#include "fhn_inverse/util/interrupt.hpp"

namespace fhn_inverse::simulate {

// Whether a model declares ∂f/∂constants: void constant_jacobian(x, theta, J_f_c) const.
template <class M, class = void>
struct has_constant_jacobian : std::false_type {};
template <class M>
struct has_constant_jacobian<
    M, std::void_t<decltype(std::declval<const M&>().constant_jacobian(
           std::declval<const typename M::State&>(), static_cast<const double*>(nullptr),
           static_cast<double*>(nullptr)))>> : std::true_type {};

struct FreeSet {
  enum class Kind : std::uint8_t { param = 0, constant = 1, initial = 2 };
  struct Entry {
    Kind kind;
    std::size_t index;
    bool operator==(const Entry& o) const { return kind == o.kind && index == o.index; }
  };
  std::vector<Entry> entries;       // one per column of z, in order
  std::vector<double> theta_fixed;  // the model's θ (P values); the free ones are overwritten

  std::size_t size() const { return entries.size(); }
  bool params_only() const;              // no constant and no initial state is free
  bool frees(Kind kind) const;           // some entry of this kind
  bool is_default(std::size_t P) const;  // the parameters 0 … P − 1 in order
};

// The selectable names of a model, in order: θ, constants, initial state (state name + "0").
template <class Model>
std::vector<std::string> quantity_names() {
  std::vector<std::string> out(Model::param_names.begin(), Model::param_names.end());
  out.insert(out.end(), Model::constant_names.begin(), Model::constant_names.end());
  for (const char* s : Model::state_names) out.push_back(std::string(s) + "0");
  return out;
}

// The free set of `names` (each a quantity name, no repeats, at least one) with the fixed θ;
// std::invalid_argument naming a bad name and the accepted ones.
template <class Model>
FreeSet make_free_set(const std::vector<std::string>& names, std::vector<double> theta_fixed);

// The default free set of a model: its θ in order (theta_fixed: the middle of its prior box).
template <class Model>
FreeSet default_free_set();

// The model of row z: the base's constants and initial state with the free ones from z.
// Throws std::invalid_argument (the model's own check) for values it refuses.
template <class Model>
Model row_model(const Model& base, const FreeSet& free, const double* z);

// The full θ (P) of row z.
void row_theta(const FreeSet& free, const double* z, double* theta);

// Checks z (N, k): k columns, finite values, and every row's model valid (std::invalid_argument
// naming the row and the model's reason), so that the parallel loops below cannot throw.
template <class Model>
void check_rows(const Model& base, const FreeSet& free, const RowMatrix& z);

// Batch simulation of z (N, k) under a free set: as simulate_batch. Rows whose model is invalid
// (a constant outside its range) throw std::invalid_argument naming the row before any work.
template <class Model>
BatchResult simulate_free(const Model& base, const FreeSet& free, const RowMatrix& z,
                          const SimulatorOptions& options, int n_threads = 0);

// One row's series and sensitivities to the free quantities: u_out (L), J_out (L·k).
template <class Model>
Status sensitivities_free_one(const Model& base, const FreeSet& free, const double* z,
                              const SimulatorOptions& options, double* u_out, double* J_out,
                              InterruptPoll* poll = nullptr);

// All rows: J (N, L·k), i.e. (N, L, k).
template <class Model>
SensitivityResult sensitivities_free(const Model& base, const FreeSet& free, const RowMatrix& z,
                                     const SimulatorOptions& options, int n_threads = 0);

#define FHN_FREE_SET_EXTERN(M)                                                                     \
  extern template FreeSet make_free_set<M>(const std::vector<std::string>&, std::vector<double>);  \
  extern template FreeSet default_free_set<M>();                                                   \
  extern template M row_model(const M&, const FreeSet&, const double*);                            \
  extern template void check_rows(const M&, const FreeSet&, const RowMatrix&);                     \
  extern template BatchResult simulate_free(const M&, const FreeSet&, const RowMatrix&,            \
                                            const SimulatorOptions&, int);                         \
  extern template Status sensitivities_free_one(const M&, const FreeSet&, const double*,           \
                                                const SimulatorOptions&, double*, double*,         \
                                                InterruptPoll*);                                   \
  extern template SensitivityResult sensitivities_free(const M&, const FreeSet&, const RowMatrix&, \
                                                       const SimulatorOptions&, int);
FHN_FOR_EACH_MODEL(FHN_FREE_SET_EXTERN)
#undef FHN_FREE_SET_EXTERN

}  // namespace fhn_inverse::simulate
