// Laplace covariances of free sets (laplace.hpp): apart from laplace_batch, so that the default
// free set calls the very code the model's own path runs.
#include <Eigen/Cholesky>
#include <cmath>
#include <limits>
#include <string>

#include "fhn_inverse/simulate/free_set.hpp"
#include "fhn_inverse/uncertainty/laplace.hpp"
#include "fhn_inverse/util/interrupt.hpp"
#include "fhn_inverse/util/parallel.hpp"

namespace fhn_inverse::uncertainty {

template <class Model>
LaplaceResult laplace_free(const Model& base, const simulate::FreeSet& free, const RowMatrix& z,
                           const simulate::SimulatorOptions& options, const Eigen::VectorXd& s,
                           const Eigen::VectorXd& rho, const Eigen::MatrixXd& prior_precision,
                           int n_threads) {
  if (free.is_default(Model::param_size))
    return laplace_batch(base, z, options, s, rho, prior_precision, n_threads);
  options.validate();
  const std::size_t k = free.size(), L = options.t_obs.size();
  detail::validate_laplace_arguments(z, k, s, rho, prior_precision);
  simulate::check_rows(base, free, z);
  if (free.frees(simulate::FreeSet::Kind::constant) &&
      !simulate::has_constant_jacobian<Model>::value)
    throw std::invalid_argument(std::string(Model::name) +
                                " declares no constant_jacobian: its constants cannot be free in "
                                "a Laplace covariance");
  detail::check_semi_definite(prior_precision);
  const Eigen::Index N = z.rows();
  const auto kk = static_cast<Eigen::Index>(k * k);
  const int threads = team_size(resolve_threads(n_threads), N);
  LaplaceResult r{RowMatrix(N, kk), RowMatrix(N, kk),
                  std::vector<std::int8_t>(static_cast<std::size_t>(N))};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  InterruptPoll poll;
#pragma omp parallel num_threads(threads)
  {
    std::vector<double> u(L);
    RowMatrix J(static_cast<Eigen::Index>(L), static_cast<Eigen::Index>(k));
#pragma omp for schedule(dynamic, 4)
    for (Eigen::Index i = 0; i < N; ++i) {
      if (poll.stop()) continue;
      const simulate::Status status = simulate::sensitivities_free_one(
          base, free, z.row(i).data(), options, u.data(), J.data(), &poll);
      r.status[static_cast<std::size_t>(i)] = static_cast<std::int8_t>(status);
      Eigen::Map<RowMatrix> info_out(r.information.row(i).data(), k, k);
      Eigen::Map<RowMatrix> cov_out(r.cov.row(i).data(), k, k);
      if (status != simulate::Status::ok) {
        info_out.setConstant(nan);
        cov_out.setConstant(nan);
        continue;
      }
      for (Eigen::Index t = J.rows() - 1; t > 0; --t) J.row(t) -= rho[i] * J.row(t - 1);  // W J
      J.row(0) *= std::sqrt(1.0 - rho[i] * rho[i]);
      const Eigen::MatrixXd info = (J.transpose() * J) / (s[i] * s[i] * (1.0 - rho[i] * rho[i]));
      const Eigen::MatrixXd H = info + prior_precision;
      Eigen::LLT<Eigen::MatrixXd> llt(H);
      const Eigen::MatrixXd C = llt.info() == Eigen::Success
                                    ? Eigen::MatrixXd(llt.solve(Eigen::MatrixXd::Identity(k, k)))
                                    : Eigen::MatrixXd::Constant(k, k, nan);
      info_out = info;
      cov_out = 0.5 * (C + C.transpose());
    }
  }
  poll.check();
  return r;
}

#define FHN_LAPLACE_FREE_INSTANCES(M)                                                            \
  template LaplaceResult laplace_free(const M&, const simulate::FreeSet&, const RowMatrix&,      \
                                      const simulate::SimulatorOptions&, const Eigen::VectorXd&, \
                                      const Eigen::VectorXd&, const Eigen::MatrixXd&, int);
FHN_FOR_EACH_MODEL(FHN_LAPLACE_FREE_INSTANCES)
#undef FHN_LAPLACE_FREE_INSTANCES

}  // namespace fhn_inverse::uncertainty
