// Adam and AdamW over the Network's flat parameter buffer: the optimizer owns its first and
// second moments (P floats each) and the step count; step() is one fused pass over P values
// with PyTorch's arithmetic (torch.optim.Adam/AdamW, single-tensor path):
//   m ← m + (1−β1)(g − m);  v ← β2 v + (1−β2) g²;  p ← p − (lr/(1−β1ᵗ)) m / (√v/√(1−β2ᵗ) + ε)
// Adam's weight decay is L2 (g ← g + λp); AdamW's is decoupled (p ← p(1 − lr λ)) (Loshchilov &
// Hutter 2019). Also: learning-rate schedules and gradient clipping by global norm.
#pragma once

#include <string>
#include <vector>

namespace fhn_inverse::nn {

struct AdamConfig {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double weight_decay = 0.0;
  bool decoupled = false;  // true: AdamW
  void validate() const;
};

class Adam {
 public:
  Adam(long n_params, AdamConfig config);
  // One update of params (P) with grads (P) at learning rate lr > 0. Large buffers are split
  // over n_threads (element-wise: the result does not depend on the thread count).
  void step(float* params, const float* grads, double lr, int n_threads = 1);
  // The same update in parts, for a caller that runs it block by block as the gradients become
  // final (Network::forward_backward's update): next(lr) gives the coefficients of the next step,
  // apply updates elements [lo, hi) with them (any partition, any order, from any thread: each
  // element gets step's arithmetic), and advance() counts the step once every element is done.
  struct Coefficients {
    float step_size, bc2_sqrt, w1, b2, w2, eps, wd, decay;
    bool decoupled, l2;
  };
  Coefficients next(double lr) const;
  void apply(const Coefficients& c, float* params, const float* grads, long lo, long hi);
  void advance() { ++t_; }
  void reset();
  long steps() const { return t_; }
  const AdamConfig& config() const { return config_; }
  std::vector<float>& m() { return m_; }
  std::vector<float>& v() { return v_; }

 private:
  AdamConfig config_;
  std::vector<float> m_, v_;  // (P) moments
  long t_ = 0;
};

// Learning rate at 0-based optimizer step t (epoch = t / steps_per_epoch):
//   constant: lr;   warmup: lr·min(1, (t+1)/warmup_steps);
//   step:     lr·γ^⌊epoch/step_epochs⌋;
//   cosine:   linear warm-up over warmup_steps, then min_lr + ½(lr − min_lr)(1 + cos(π·progress))
//             with progress from 0 to 1 over the remaining steps up to total_steps.
struct Schedule {
  enum class Kind { constant, warmup, step, cosine } kind = Kind::constant;
  double lr = 1e-3;
  long warmup_steps = 0;
  long step_epochs = 1;
  double gamma = 0.1;
  double min_lr = 0.0;
  long total_steps = 0;      // set by the trainer for cosine
  long steps_per_epoch = 1;  // set by the trainer
  double at(long t) const;
  void validate() const;
  static Kind parse(const std::string& name);  // constant | warmup | step | cosine
  static std::string name(Kind kind);
};

// Scales grads (P) so that their global L2 norm is at most max_norm (PyTorch's
// clip_grad_norm_: factor max_norm/(norm + 1e-6) when below 1). Returns the norm before clipping.
double clip_grad_norm(float* grads, long n, double max_norm);

}  // namespace fhn_inverse::nn
