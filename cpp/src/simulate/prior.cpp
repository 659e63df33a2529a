// Gaussian and uniform priors; see prior.hpp.
#include "fhn_inverse/simulate/prior.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace fhn_inverse::simulate {
namespace {

void require_finite(const Eigen::VectorXd& v, const char* name) {
  for (Eigen::Index j = 0; j < v.size(); ++j)
    if (!std::isfinite(v[j]))
      throw std::invalid_argument(std::string(name) + "[" + std::to_string(j) +
                                  "] must be finite, got " + std::to_string(v[j]));
}

void require_box(const Eigen::VectorXd& lower, const Eigen::VectorXd& upper, Eigen::Index p) {
  if (lower.size() != p || upper.size() != p)
    throw std::invalid_argument("lower and upper must have size " + std::to_string(p) + ", got " +
                                std::to_string(lower.size()) + " and " +
                                std::to_string(upper.size()));
  for (Eigen::Index j = 0; j < p; ++j)
    if (std::isnan(lower[j]) || std::isnan(upper[j]) || !(lower[j] < upper[j]))
      throw std::invalid_argument("bounds must satisfy lower[" + std::to_string(j) + "] < upper[" +
                                  std::to_string(j) + "], got " + std::to_string(lower[j]) +
                                  " and " + std::to_string(upper[j]));
}

void require_count(long n) {
  if (n < 1) throw std::invalid_argument("n must be >= 1, got " + std::to_string(n));
}

}  // namespace

GaussianPrior::GaussianPrior(Eigen::VectorXd mean, Eigen::MatrixXd covariance,
                             Eigen::VectorXd lower, Eigen::VectorXd upper, long max_tries)
    : mean_(std::move(mean)),
      covariance_(std::move(covariance)),
      lower_(std::move(lower)),
      upper_(std::move(upper)),
      max_tries_(max_tries) {
  const Eigen::Index p = mean_.size();
  if (p < 1) throw std::invalid_argument("mean must have at least 1 entry, got 0");
  require_finite(mean_, "mean");
  if (covariance_.rows() != p || covariance_.cols() != p)
    throw std::invalid_argument(
        "covariance must have shape (" + std::to_string(p) + ", " + std::to_string(p) + "), got (" +
        std::to_string(covariance_.rows()) + ", " + std::to_string(covariance_.cols()) + ")");
  if (!covariance_.allFinite()) throw std::invalid_argument("covariance must be finite");
  if (!covariance_.isApprox(covariance_.transpose(), 1e-12))
    throw std::invalid_argument("covariance must be symmetric");
  Eigen::LLT<Eigen::MatrixXd> llt(covariance_);
  if (llt.info() != Eigen::Success)
    throw std::invalid_argument("covariance must be positive definite");
  chol_ = llt.matrixL();
  if (lower_.size() == 0 && upper_.size() == 0) {
    lower_ = Eigen::VectorXd::Constant(p, -std::numeric_limits<double>::infinity());
    upper_ = Eigen::VectorXd::Constant(p, std::numeric_limits<double>::infinity());
  }
  require_box(lower_, upper_, p);
  if (max_tries_ < 1)
    throw std::invalid_argument("max_tries must be >= 1, got " + std::to_string(max_tries_));
}

RowMatrix GaussianPrior::sample(long n, std::uint64_t seed, std::uint64_t first_index,
                                Stream stream) const {
  require_count(n);
  const Eigen::Index p = mean_.size();
  RowMatrix out(n, p);
  Eigen::VectorXd z(p), x(p);
  for (long i = 0; i < n; ++i) {
    Rng rng(seed, stream, first_index + static_cast<std::uint64_t>(i));
    long tries = 0;
    for (;;) {
      for (Eigen::Index j = 0; j < p; ++j) z[j] = rng.normal();
      x.noalias() = mean_ + chol_ * z;
      if ((x.array() >= lower_.array()).all() && (x.array() <= upper_.array()).all()) break;
      if (++tries >= max_tries_)
        throw std::runtime_error("Gaussian prior: no sample inside the bounds after " +
                                 std::to_string(max_tries_) +
                                 " tries; the box holds too little of the prior's mass");
    }
    out.row(i) = x.transpose();
  }
  return out;
}

UniformPrior::UniformPrior(Eigen::VectorXd lower, Eigen::VectorXd upper)
    : lower_(std::move(lower)), upper_(std::move(upper)) {
  if (lower_.size() < 1) throw std::invalid_argument("lower must have at least 1 entry, got 0");
  require_finite(lower_, "lower");
  require_finite(upper_, "upper");
  require_box(lower_, upper_, lower_.size());
}

RowMatrix UniformPrior::sample(long n, std::uint64_t seed, std::uint64_t first_index,
                               Stream stream) const {
  require_count(n);
  const Eigen::Index p = lower_.size();
  RowMatrix out(n, p);
  for (long i = 0; i < n; ++i) {
    Rng rng(seed, stream, first_index + static_cast<std::uint64_t>(i));
    for (Eigen::Index j = 0; j < p; ++j)
      out(i, j) = lower_[j] + (upper_[j] - lower_[j]) * rng.uniform();
  }
  return out;
}

IndependentPrior::IndependentPrior(std::vector<Kind> kind, Eigen::VectorXd a, Eigen::VectorXd b,
                                   Eigen::VectorXd lower, Eigen::VectorXd upper, long max_tries)
    : kind_(std::move(kind)),
      a_(std::move(a)),
      b_(std::move(b)),
      lower_(std::move(lower)),
      upper_(std::move(upper)),
      max_tries_(max_tries) {
  const auto p = static_cast<Eigen::Index>(kind_.size());
  if (p < 1) throw std::invalid_argument("an independent prior needs at least 1 marginal, got 0");
  if (a_.size() != p || b_.size() != p)
    throw std::invalid_argument("a and b must have size " + std::to_string(p));
  require_box(lower_, upper_, p);
  for (Eigen::Index j = 0; j < p; ++j) {
    const std::string at = "marginal " + std::to_string(j);
    switch (kind_[static_cast<std::size_t>(j)]) {
      case Kind::uniform:
        if (!std::isfinite(lower_[j]) || !std::isfinite(upper_[j]))
          throw std::invalid_argument(at + ": a uniform marginal needs finite bounds");
        break;
      case Kind::lognormal:
        if (lower_[j] < 0.0)
          throw std::invalid_argument(at +
                                      ": a log-normal marginal's lower bound must be >= 0, got " +
                                      std::to_string(lower_[j]));
        [[fallthrough]];
      case Kind::normal:
        if (!std::isfinite(a_[j]) || !(b_[j] > 0.0) || !std::isfinite(b_[j]))
          throw std::invalid_argument(at +
                                      ": needs a finite location and a finite scale > 0, got " +
                                      std::to_string(a_[j]) + " and " + std::to_string(b_[j]));
        break;
      default:
        throw std::invalid_argument(at + ": unknown kind");
    }
  }
  if (max_tries_ < 1)
    throw std::invalid_argument("max_tries must be >= 1, got " + std::to_string(max_tries_));
}

RowMatrix IndependentPrior::sample(long n, std::uint64_t seed, std::uint64_t first_index,
                                   Stream stream) const {
  require_count(n);
  const Eigen::Index p = a_.size();
  RowMatrix out(n, p);
  for (long i = 0; i < n; ++i) {
    Rng rng(seed, stream, first_index + static_cast<std::uint64_t>(i));
    for (Eigen::Index j = 0; j < p; ++j) {
      const Kind kind = kind_[static_cast<std::size_t>(j)];
      if (kind == Kind::uniform) {
        out(i, j) = lower_[j] + (upper_[j] - lower_[j]) * rng.uniform();
        continue;
      }
      for (long tries = 0;; ++tries) {
        if (tries >= max_tries_)
          throw std::runtime_error("independent prior: no draw of marginal " + std::to_string(j) +
                                   " inside its bounds after " + std::to_string(max_tries_) +
                                   " tries; the bounds hold too little of its mass");
        const double g = a_[j] + b_[j] * rng.normal();
        const double x = kind == Kind::normal ? g : std::exp(g);
        if (x >= lower_[j] && x <= upper_[j]) {
          out(i, j) = x;
          break;
        }
      }
    }
  }
  return out;
}

}  // namespace fhn_inverse::simulate
