// Free sets: rows of chosen quantities expanded to models and θ; see free_set.hpp.
#include "fhn_inverse/simulate/free_set.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "fhn_inverse/simulate/free_set_impl.hpp"
#include "fhn_inverse/simulate/integrate.hpp"
#include "fhn_inverse/util/interrupt.hpp"
#include "fhn_inverse/util/parallel.hpp"

namespace fhn_inverse::simulate {

bool FreeSet::params_only() const {
  return std::all_of(entries.begin(), entries.end(),
                     [](const Entry& e) { return e.kind == Kind::param; });
}

bool FreeSet::frees(Kind kind) const {
  return std::any_of(entries.begin(), entries.end(),
                     [kind](const Entry& e) { return e.kind == kind; });
}

bool FreeSet::is_default(std::size_t P) const {
  if (entries.size() != P) return false;
  for (std::size_t i = 0; i < P; ++i)
    if (!(entries[i] == Entry{Kind::param, i})) return false;
  return true;
}

void row_theta(const FreeSet& free, const double* z, double* theta) {
  std::copy(free.theta_fixed.begin(), free.theta_fixed.end(), theta);
  for (std::size_t j = 0; j < free.entries.size(); ++j)
    if (free.entries[j].kind == FreeSet::Kind::param) theta[free.entries[j].index] = z[j];
}

#define FHN_FREE_SET_INSTANCES(M)                                                           \
  template FreeSet make_free_set<M>(const std::vector<std::string>&, std::vector<double>);  \
  template FreeSet default_free_set<M>();                                                   \
  template M row_model(const M&, const FreeSet&, const double*);                            \
  template void check_rows(const M&, const FreeSet&, const RowMatrix&);                     \
  template BatchResult simulate_free(const M&, const FreeSet&, const RowMatrix&,            \
                                     const SimulatorOptions&, int);                         \
  template Status sensitivities_free_one(const M&, const FreeSet&, const double*,           \
                                         const SimulatorOptions&, double*, double*,         \
                                         InterruptPoll*);                                   \
  template SensitivityResult sensitivities_free(const M&, const FreeSet&, const RowMatrix&, \
                                                const SimulatorOptions&, int);
FHN_FOR_EACH_MODEL(FHN_FREE_SET_INSTANCES)
#undef FHN_FREE_SET_INSTANCES

}  // namespace fhn_inverse::simulate
