// Adam/AdamW known first steps, schedules, clipping.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "fhn_inverse/nn/optimizers.hpp"

using namespace fhn_inverse::nn;

TEST(Adam, FirstStepKnownValue) {
  Adam adam(2, {});
  float p[2] = {1.0f, -1.0f};
  const float g[2] = {2.0f, -0.5f};
  adam.step(p, g, 0.1);
  // step 1: m̂ = g, v̂ = g², update = lr·g/(|g| + ε) ≈ lr·sign(g)
  EXPECT_NEAR(p[0], 0.9f, 1e-6);
  EXPECT_NEAR(p[1], -0.9f, 1e-6);
  EXPECT_EQ(adam.steps(), 1);
}

TEST(Adam, SecondStepMatchesFormula) {
  Adam adam(1, {});
  float p = 0.5f;
  const float g1 = 0.3f, g2 = -0.1f;
  adam.step(&p, &g1, 0.01);
  adam.step(&p, &g2, 0.01);
  const double m = 0.9 * 0.1 * 0.3 + 0.1 * -0.1, v = 0.999 * 0.001 * 0.09 + 0.001 * 0.01;
  const double mh = m / (1 - 0.81), vh = v / (1 - 0.999 * 0.999);
  const double want = 0.5 - 0.01 - 0.01 * mh / (std::sqrt(vh) + 1e-8);
  EXPECT_NEAR(p, want, 1e-6);
}

TEST(Adam, WeightDecayL2AndDecoupled) {
  AdamConfig l2;
  l2.weight_decay = 0.1;
  AdamConfig w = l2;
  w.decoupled = true;
  Adam a(1, l2), aw(1, w);
  float p = 1.0f, pw = 1.0f;
  const float g = 2.0f;
  a.step(&p, &g, 0.1);
  aw.step(&pw, &g, 0.1);
  EXPECT_NEAR(p, 0.9f, 1e-6);           // g + λp = 2.1 > 0, first step ≈ −lr
  EXPECT_NEAR(pw, 0.99f - 0.1f, 1e-6);  // p(1 − lr λ) − lr
}

// Large enough for the step to split over threads (each thread an equal share): 1, 2 and 3
// threads give the serial results bitwise, and each element matches Adam's formula.
TEST(Adam, ThreadSplitStepEqualsSerialStep) {
  const long n = 40003;
  std::vector<float> g(n), p0(n);
  for (long i = 0; i < n; ++i) {
    g[i] = std::sin(0.37 * i);
    p0[i] = std::cos(0.11 * i);
  }
  std::vector<float> ref = p0;
  Adam serial(n, {});
  serial.step(ref.data(), g.data(), 0.01, 1);
  for (long i = 0; i < n; i += 997)  // first step: p − lr·g/(|g| + ε)
    ASSERT_NEAR(ref[i], p0[i] - 0.01 * g[i] / (std::abs(g[i]) + 1e-8), 1e-6);
  for (int threads : {2, 3}) {
    std::vector<float> p = p0;
    Adam split(n, {});
    split.step(p.data(), g.data(), 0.01, threads);
    for (long i = 0; i < n; ++i) ASSERT_EQ(p[i], ref[i]) << threads << " threads, element " << i;
  }
}

TEST(Adam, RejectsBadArguments) {
  Adam adam(1, {});
  float p = 0.0f, g = 0.0f;
  EXPECT_THROW(adam.step(&p, &g, 0.0), std::invalid_argument);
  EXPECT_THROW(adam.step(&p, &g, -1.0), std::invalid_argument);
  AdamConfig bad;
  bad.beta1 = 1.0;
  EXPECT_THROW(Adam(1, bad), std::invalid_argument);
}

TEST(Schedule, Values) {
  Schedule s;
  s.lr = 1.0;
  EXPECT_DOUBLE_EQ(s.at(100), 1.0);
  s.kind = Schedule::Kind::warmup;
  s.warmup_steps = 4;
  EXPECT_DOUBLE_EQ(s.at(0), 0.25);
  EXPECT_DOUBLE_EQ(s.at(3), 1.0);
  EXPECT_DOUBLE_EQ(s.at(10), 1.0);
  s.kind = Schedule::Kind::step;
  s.steps_per_epoch = 10;
  s.step_epochs = 2;
  s.gamma = 0.5;
  EXPECT_DOUBLE_EQ(s.at(19), 1.0);
  EXPECT_DOUBLE_EQ(s.at(20), 0.5);
  EXPECT_DOUBLE_EQ(s.at(45), 0.25);
  s.kind = Schedule::Kind::cosine;
  s.warmup_steps = 0;
  s.total_steps = 100;
  s.min_lr = 0.0;
  EXPECT_DOUBLE_EQ(s.at(0), 1.0);
  EXPECT_NEAR(s.at(50), 0.5, 1e-12);
  EXPECT_NEAR(s.at(100), 0.0, 1e-9);
  EXPECT_THROW(Schedule::parse("linear"), std::invalid_argument);
}

TEST(Clip, GlobalNorm) {
  float g[2] = {3.0f, 4.0f};
  EXPECT_DOUBLE_EQ(clip_grad_norm(g, 2, 10.0), 5.0);
  EXPECT_FLOAT_EQ(g[0], 3.0f);
  clip_grad_norm(g, 2, 1.0);
  EXPECT_NEAR(std::sqrt(g[0] * g[0] + g[1] * g[1]), 1.0, 1e-5);
}
