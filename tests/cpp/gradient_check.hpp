// The one central-difference helper for every derivative in the project.
// Layers are float32 only (templating them on the scalar type would double the engine for the
// sake of tests), so the check runs in float with a large step: the scalar under test is
// evaluated in double from float outputs (e.g. Σ w·y with random weights w), the step is
// h = 1e-2 and the derivative uses the step actually taken in float, ((x+h) − (x−h)) in float.
// Rounding then contributes ~1e-7·|f|/h ≈ 1e-5·|f| and truncation O(h²) ≈ 1e-4 relative, so the
// default tolerance |num − ana| <= atol + rtol·max(|num|, |ana|) with rtol = atol = 2e-3 separates
// a correct gradient from any wrong term. Keep test inputs away from kinks (ReLU, max pooling).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

namespace fhn_inverse::testing {

struct GradientCheckOptions {
  double step = 1e-2;
  double rtol = 2e-3;
  double atol = 2e-3;
};

// Perturbs x[0..n) one at a time, compares (f(x+h) − f(x−h)) / (2h) with analytic[0..n).
// Returns the largest scaled error max |num − ana| / (atol + rtol·max(|num|, |ana|)) (pass: <= 1).
inline double check_gradient(const std::function<double()>& f, float* x, long n,
                             const float* analytic, const std::string& what,
                             GradientCheckOptions opt = {}) {
  double worst = 0.0;
  for (long i = 0; i < n; ++i) {
    const float xi = x[i];
    const float up = static_cast<float>(xi + opt.step), down = static_cast<float>(xi - opt.step);
    x[i] = up;
    const double fp = f();
    x[i] = down;
    const double fm = f();
    x[i] = xi;
    const double num = (fp - fm) / (static_cast<double>(up) - static_cast<double>(down));
    const double ana = analytic[i];
    const double scaled =
        std::abs(num - ana) / (opt.atol + opt.rtol * std::max(std::abs(num), std::abs(ana)));
    worst = std::max(worst, scaled);
    EXPECT_LE(scaled, 1.0) << what << "[" << i << "]: numerical " << num << " analytic " << ana;
  }
  return worst;
}

}  // namespace fhn_inverse::testing
