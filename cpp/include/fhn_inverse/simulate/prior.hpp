// Priors over parameter vectors: Gaussian (mean, covariance, optional box bounds enforced by
// rejection) and uniform on a box. Sample i is drawn from the stream (seed, stream, first_index +
// i) alone, so any subset or chunking of a draw reproduces the same values. Shapes: mean, lower,
// upper (P); covariance (P, P); samples (N, P) row-major.
#pragma once

#include <Eigen/Core>
#include <Eigen/Cholesky>
#include <cstdint>

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

}  // namespace fhn_inverse::simulate
