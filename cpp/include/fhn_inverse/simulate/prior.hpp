// Priors over parameter vectors: Gaussian (mean, covariance, optional box bounds enforced by
// rejection) and uniform on a box. Sample i is drawn from the stream (seed, stream, first_index +
// i) alone, so any subset or chunking of a draw reproduces the same values. Shapes: mean, lower,
// upper (P); covariance (P, P); samples (N, P) row-major.
#pragma once

#include <Eigen/Core>
#include <Eigen/Cholesky>
#include <cstdint>
#include <vector>

#include "fhn_inverse/util/random.hpp"
#include "fhn_inverse/simulate/simulator.hpp"

namespace fhn_inverse::simulate {

class GaussianPrior {
 public:
  // lower/upper: empty for an unbounded prior, else size P with lower < upper (±inf allowed).
  // max_tries: rejection attempts per sample before giving up with std::runtime_error.
  GaussianPrior(Eigen::VectorXd mean, Eigen::MatrixXd covariance, Eigen::VectorXd lower = {},
                Eigen::VectorXd upper = {}, long max_tries = 100000);

  RowMatrix sample(long n, std::uint64_t seed, std::uint64_t first_index = 0,
                   Stream stream = Stream::prior) const;

  const Eigen::VectorXd& mean() const { return mean_; }
  const Eigen::MatrixXd& covariance() const { return covariance_; }
  const Eigen::VectorXd& lower() const { return lower_; }
  const Eigen::VectorXd& upper() const { return upper_; }
  Eigen::Index size() const { return mean_.size(); }

 private:
  Eigen::VectorXd mean_;
  Eigen::MatrixXd covariance_;
  Eigen::MatrixXd chol_;  // lower Cholesky factor of covariance_
  Eigen::VectorXd lower_, upper_;
  long max_tries_;
};

class UniformPrior {
 public:
  UniformPrior(Eigen::VectorXd lower, Eigen::VectorXd upper);

  RowMatrix sample(long n, std::uint64_t seed, std::uint64_t first_index = 0,
                   Stream stream = Stream::prior) const;

  const Eigen::VectorXd& lower() const { return lower_; }
  const Eigen::VectorXd& upper() const { return upper_; }
  Eigen::Index size() const { return lower_.size(); }

 private:
  Eigen::VectorXd lower_, upper_;
};

// Independent marginals, one per parameter: uniform on [lower, upper]; normal N(a, b²) or
// log-normal exp(N(a, b²)), each truncated to [lower, upper] (±inf allowed; a log-normal's lower
// is at least 0) by rejection of that component alone. Vectors: kind, a, b, lower, upper (P).
class IndependentPrior {
 public:
  enum class Kind : std::int8_t { uniform = 0, normal = 1, lognormal = 2 };
  IndependentPrior(std::vector<Kind> kind, Eigen::VectorXd a, Eigen::VectorXd b,
                   Eigen::VectorXd lower, Eigen::VectorXd upper, long max_tries = 100000);

  RowMatrix sample(long n, std::uint64_t seed, std::uint64_t first_index = 0,
                   Stream stream = Stream::prior) const;

  const std::vector<Kind>& kind() const { return kind_; }
  const Eigen::VectorXd& a() const { return a_; }
  const Eigen::VectorXd& b() const { return b_; }
  const Eigen::VectorXd& lower() const { return lower_; }
  const Eigen::VectorXd& upper() const { return upper_; }
  Eigen::Index size() const { return a_.size(); }

 private:
  std::vector<Kind> kind_;
  Eigen::VectorXd a_, b_, lower_, upper_;
  long max_tries_;
};

}  // namespace fhn_inverse::simulate
