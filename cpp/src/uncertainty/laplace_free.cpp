// Laplace covariances of free sets (laplace.hpp): apart from laplace_batch, so that the default
// free set calls the very code the model's own path runs.
#include <Eigen/Cholesky>
#include <cmath>
#include <limits>
#include <string>

#include "fhn_inverse/simulate/free_set.hpp"
#include "fhn_inverse/uncertainty/laplace.hpp"
#include "fhn_inverse/uncertainty/laplace_impl.hpp"
#include "fhn_inverse/util/interrupt.hpp"
#include "fhn_inverse/util/parallel.hpp"

namespace fhn_inverse::uncertainty {

#define FHN_LAPLACE_FREE_INSTANCES(M)                                                            \
  template LaplaceResult laplace_free(const M&, const simulate::FreeSet&, const RowMatrix&,      \
                                      const simulate::SimulatorOptions&, const Eigen::VectorXd&, \
                                      const Eigen::VectorXd&, const Eigen::MatrixXd&, int);
FHN_FOR_EACH_MODEL(FHN_LAPLACE_FREE_INSTANCES)
#undef FHN_LAPLACE_FREE_INSTANCES

}  // namespace fhn_inverse::uncertainty
