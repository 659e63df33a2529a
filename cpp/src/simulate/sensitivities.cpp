// Forward sensitivities through the augmented system; see sensitivities.hpp.
#include "fhn_inverse/simulate/sensitivities.hpp"

#include <algorithm>
#include <limits>

#include "fhn_inverse/simulate/sensitivities_impl.hpp"
#include "fhn_inverse/util/interrupt.hpp"
#include "fhn_inverse/simulate/integrate.hpp"
#include "fhn_inverse/util/parallel.hpp"

namespace fhn_inverse::simulate {

#define FHN_SENSITIVITY_INSTANCES(M)                                                           \
  template Status sensitivities_one(const M&, const double*, const SimulatorOptions&, double*, \
                                    double*);                                                  \
  template SensitivityResult sensitivities_batch(const M&, const RowMatrix&,                   \
                                                 const SimulatorOptions&, int);
FHN_FOR_EACH_MODEL(FHN_SENSITIVITY_INSTANCES)
#undef FHN_SENSITIVITY_INSTANCES

}  // namespace fhn_inverse::simulate
