// Where a training step of the study's CNN goes, layer by layer: each layer's forward and backward
// pass, as the engine builds and runs it (each convolution fused with the swish, pooling and
// Flatten after it; a layer with packed weights run from them), timed on one thread
// for chunks of several sizes, in ns per series. A chunk's activations, caches and gradients
// outgrow the core's L2 cache between 8 and 16 series; the per-layer times show which passes
// that costs.
//
//   cmake -S . -B build/cpp -G Ninja -DFHN_BUILD_PYTHON=OFF -DFHN_BUILD_BENCHMARKS=ON \
//         -DCMAKE_BUILD_TYPE=Release
//   cmake --build build/cpp --target layer_times && build/cpp/layer_times [CHUNK ...]
//
// (scripts/test.sh builds it in build/cpp beside the tests.)
//
// Chunks default to 4 8 16 32 (the engine trains the study's batch of 32 in two chunks of 16).
// Each layer runs the whole step's sequence (forward through every layer, then backward) in
// blocks of 200 steps; a layer's time is the fastest block's mean, so that a slow phase of a
// shared machine rarely enters. The load average is printed before and after.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "fhn_inverse/nn/network.hpp"

using namespace fhn_inverse::nn;

namespace {

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return f ? a + " " + b + " " + c : "unknown";
}

std::vector<LayerSpec> study_cnn() {
  std::vector<LayerSpec> s;
  auto conv = [&](long filters) {
    LayerSpec c;
    c.kind = "conv1d";
    c.filters = filters;
    c.kernel = 3;
    c.stride = 2;
    s.push_back(c);
    s.push_back(LayerSpec{"swish"});
  };
  auto pool = [&] {
    LayerSpec p;
    p.kind = "avgpool1d";
    p.pool = 2;
    s.push_back(p);
  };
  conv(8);
  pool();
  conv(16);
  pool();
  conv(32);
  s.push_back(LayerSpec{"flatten"});
  for (long units : {32L, 32L, 2L}) {
    LayerSpec d;
    d.kind = "dense";
    d.units = units;
    s.push_back(d);
    s.push_back(LayerSpec{units == 2 ? "sigmoid" : "swish"});
  }
  return s;
}

struct Times {
  std::vector<double> fwd, bwd;
};

// ns per series of each layer's forward and backward pass for chunks of n series.
Times measure(long n, std::vector<std::string>& names) {
  const Shape input = Shape::sequence(1, 1000);
  Network net(input, study_cnn(), 3, n);
  const std::vector<const Layer*> layers = net.layers();
  const std::size_t m = layers.size();
  names.clear();
  std::mt19937 gen(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<std::vector<float>> act(m + 1), scratch(m), dx(m), grads(m), packed(m);
  std::vector<long> offset(m);
  long p = 0;
  act[0].resize(n * input.size());
  for (float& v : act[0]) v = normal(gen);
  for (std::size_t i = 0; i < m; ++i) {
    names.push_back(layers[i]->name());
    offset[i] = p;
    p += layers[i]->n_params();
    act[i + 1].resize(n *
                      layers[i]->output_floats());  // (the next layer's planes, if it takes them)
    scratch[i].resize(layers[i]->scratch_size(n));
    dx[i].resize(i > 0 ? n * layers[i - 1]->output_floats() : n * input.size());
    grads[i].resize(layers[i]->n_params() + 1);
    // a layer with packed weights (the narrow Dense) runs forward from them in training: packed
    // once per step for both chunks, here once
    if (const PackedWeights* pw = layers[i]->describe().packed) {
      packed[i].resize(pw->packed_size());
      pw->pack(net.params() + offset[i], packed[i].data());
    }
  }
  std::vector<float> dy(act[m].size());
  for (float& v : dy) v = 0.1f * normal(gen);
  Context ctx;
  ctx.training = true;
  ctx.backward = true;
  using clock = std::chrono::steady_clock;
  auto seconds = [](clock::time_point a) {
    return std::chrono::duration<double>(clock::now() - a).count();
  };
  Times best{std::vector<double>(m, 1e30), std::vector<double>(m, 1e30)};
  const int blocks = 20, reps = 200;
  for (int b = -1; b < blocks; ++b) {  // (block −1: warm-up)
    std::vector<double> f(m, 0.0), g(m, 0.0);
    for (int r = 0; r < reps; ++r) {
      for (std::size_t i = 0; i < m; ++i) {
        const auto t = clock::now();
        const float* params = net.params() + offset[i];
        if (const PackedWeights* pw = layers[i]->describe().packed)  // as a training step runs it
          pw->forward_packed(params, packed[i].data(), act[i].data(), act[i + 1].data(), n);
        else
          layers[i]->forward(params, act[i].data(), act[i + 1].data(), n, scratch[i].data(), ctx);
        f[i] += seconds(t);
      }
      const float* d = dy.data();
      for (std::size_t k = m; k-- > 0;) {
        const auto t = clock::now();
        layers[k]->backward(net.params() + offset[k], act[k].data(), act[k + 1].data(), d,
                            k > 0 ? dx[k].data() : nullptr, grads[k].data(), n, scratch[k].data());
        g[k] += seconds(t);
        d = dx[k].data();
      }
    }
    if (b < 0) continue;
    for (std::size_t i = 0; i < m; ++i) {
      best.fwd[i] = std::min(best.fwd[i], f[i] / reps / n * 1e9);
      best.bwd[i] = std::min(best.bwd[i], g[i] / reps / n * 1e9);
    }
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<long> chunks;
  for (int i = 1; i < argc; ++i) {
    char* end = nullptr;
    const long n = std::strtol(argv[i], &end, 10);
    if (*end || n < 1 || n > 4096) {
      std::fprintf(stderr, "layer_times: a chunk size must be an integer in [1, 4096], got '%s'\n",
                   argv[i]);
      return 2;
    }
    chunks.push_back(n);
  }
  if (chunks.empty()) chunks = {4, 8, 16, 32};
  std::printf("load average before: %s\n", load_average().c_str());
  std::vector<std::string> names;
  std::vector<Times> all;
  for (long n : chunks) all.push_back(measure(n, names));
  std::printf("\nns per series, one thread; forward / backward for chunks of");
  for (long n : chunks) std::printf(" %ld", n);
  std::printf(" series\n\n| layer |");
  for (long n : chunks) std::printf(" chunk %ld |", n);
  std::printf("\n|---|");
  for (std::size_t c = 0; c < chunks.size(); ++c) std::printf("---:|");
  std::printf("\n");
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::printf("| %s |", names[i].c_str());
    for (const Times& t : all) std::printf(" %.0f / %.0f |", t.fwd[i], t.bwd[i]);
    std::printf("\n");
  }
  std::printf("| **all layers** |");
  for (const Times& t : all) {
    double f = 0, b = 0;
    for (std::size_t i = 0; i < names.size(); ++i) f += t.fwd[i], b += t.bwd[i];
    std::printf(" **%.0f** (%.0f / %.0f) |", f + b, f, b);
  }
  std::printf("\n\nload average after: %s\n", load_average().c_str());
  return 0;
}
