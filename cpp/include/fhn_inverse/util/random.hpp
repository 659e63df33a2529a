// Counter-based random streams. Every draw in the project is a pure function of
// (seed, stream, index): a data set or a training run is identical for any thread count and
// any chunking, on any platform (no std:: distributions, whose algorithms are unspecified).
// Generator: xoshiro256++ seeded through SplitMix64 (Blackman & Vigna 2018).
#pragma once

#include <cmath>
#include <cstdint>

namespace fhn_inverse {

// Independent purposes draw from independent streams.
enum class Stream : std::uint64_t {
  prior = 1,             // parameters θ
  noise_parameters = 2,  // (σ, ρ) of the noise model, when drawn per sample
  noise = 3,             // noise innovations ε
  shuffle = 4,           // mini-batch order
  init = 5,              // network initialisation
  dropout = 6,           // dropout masks
};

inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  Rng(std::uint64_t seed, Stream stream, std::uint64_t index) {
    std::uint64_t sm = seed;
    std::uint64_t key = splitmix64(sm);
    sm = key ^ (static_cast<std::uint64_t>(stream) * 0xD1B54A32D192ED03ULL);
    key = splitmix64(sm);
    sm = key ^ (index * 0xABC98388FB8FAC03ULL + 0x8CB92BA72F3D8DD7ULL);
    for (auto& word : s_) word = splitmix64(sm);
  }

  std::uint64_t next_u64() {
    const std::uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform on [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n) without modulo bias (Lemire 2019); n > 0.
  std::uint64_t below(std::uint64_t n) {
    __uint128_t m = static_cast<__uint128_t>(next_u64()) * n;
    std::uint64_t low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<__uint128_t>(next_u64()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  // Standard normal, Marsaglia's polar method; the second value of each pair is kept.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double x, y, r2;
    do {
      x = 2.0 * uniform() - 1.0;
      y = 2.0 * uniform() - 1.0;
      r2 = x * x + y * y;
    } while (r2 >= 1.0 || r2 == 0.0);
    const double f = std::sqrt(-2.0 * std::log(r2) / r2);
    spare_ = y * f;
    has_spare_ = true;
    return x * f;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
  double spare_ = 0.0;
  bool has_spare_ = false;
};

// Eight xoshiro256++ generators side by side, for bulk draws (dropout masks): lane j is seeded
// from the j-th draw of Rng(seed, stream, index) through SplitMix64. Written with GCC/Clang
// vector extensions, so a step is a handful of AVX2 instructions for 8 × 64 random bits; the
// values are the same on every target.
class Rng8 {
 public:
  typedef std::uint64_t u64x4 __attribute__((vector_size(32)));

  Rng8(std::uint64_t seed, Stream stream, std::uint64_t index) {
    Rng base(seed, stream, index);
    for (int j = 0; j < 8; ++j) {
      std::uint64_t sm = base.next_u64();
      for (int w = 0; w < 4; ++w) s_[w][j / 4][j % 4] = splitmix64(sm);
    }
  }

  // Lanes 0–3 of the step in lo, 4–7 in hi.
  void next(u64x4& lo, u64x4& hi) {
    lo = step(0);
    hi = step(1);
  }

 private:
  static u64x4 rotl(u64x4 x, int k) { return (x << k) | (x >> (64 - k)); }
  u64x4 step(int h) {
    u64x4 &s0 = s_[0][h], &s1 = s_[1][h], &s2 = s_[2][h], &s3 = s_[3][h];
    const u64x4 result = rotl(s0 + s3, 23) + s0;
    const u64x4 t = s1 << 17;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 45);
    return result;
  }
  u64x4 s_[4][2];
};

}  // namespace fhn_inverse
