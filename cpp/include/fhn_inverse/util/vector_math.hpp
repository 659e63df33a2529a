// Elementary functions on GCC vectors of doubles (the SIMD lanes of simulate/lanes.hpp), for the
// models' lane right-hand sides: exp to about one ulp (Cody–Waite reduction by ln 2 and a Taylor
// polynomial of degree 13 on |r| ≤ ln 2 / 2, relative error below 3e-16), and tanh and cosh from it
// (absolute error below 5e-16 for tanh, relative below 6e-16 for cosh).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace fhn_inverse::vmath {

template <class V>
using Mask = decltype(V{} < V{});  // the vector of int64 masks of the comparisons of V

template <class V>
inline V splat(double v) {
  return V{} + v;
}

// e^x lane by lane; x is clamped to [−708, 709] (e^x then stays a normal, finite double).
template <class V>
inline V exp(V x) {
  using I = Mask<V>;
  x = x < -708.0 ? splat<V>(-708.0) : x;
  x = x > 709.0 ? splat<V>(709.0) : x;
  constexpr double inv_ln2 = 1.4426950408889634;
  constexpr double ln2_hi = 6.93147180369123816490e-01;  // ln 2 split so that n · ln2_hi is exact
  constexpr double ln2_lo = 1.90821492927058770002e-10;
  const V t = x * inv_ln2 + 0.5;
  I n = __builtin_convertvector(t, I);  // toward zero; then down to the floor
  n -= __builtin_convertvector(n, V) > t ? I{} + 1 : I{};
  const V nf = __builtin_convertvector(n, V);
  const V r = (x - nf * ln2_hi) - nf * ln2_lo;  // |r| ≤ ln 2 / 2
  V p = splat<V>(1.0 / 6227020800.0);           // 1/13!
  constexpr double inv_fact[] = {1.0 / 479001600.0,
                                 1.0 / 39916800.0,
                                 1.0 / 3628800.0,
                                 1.0 / 362880.0,
                                 1.0 / 40320.0,
                                 1.0 / 5040.0,
                                 1.0 / 720.0,
                                 1.0 / 120.0,
                                 1.0 / 24.0,
                                 1.0 / 6.0,
                                 0.5,
                                 1.0,
                                 1.0};
  for (double c : inv_fact) p = p * r + c;
  const I bits = (n + 1023) << 52;  // 2^n
  V scale{};
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// tanh x = 1 − 2 / (e^{2x} + 1), with x clamped to [−20, 20] (where tanh is ±1 in double).
template <class V>
inline V tanh(V x) {
  x = x < -20.0 ? splat<V>(-20.0) : x;
  x = x > 20.0 ? splat<V>(20.0) : x;
  return 1.0 - 2.0 / (exp(x + x) + 1.0);
}

// cosh x = (e^x + e^{−x}) / 2.
template <class V>
inline V cosh(V x) {
  const V e = exp(x);
  return 0.5 * (e + 1.0 / e);
}

// The sign of x: 1, −1, or 0 at 0 (the derivative of |x|, user models' sign).
inline double sign(double x) { return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0); }
template <class V>
inline V sign(V x) {
  const V one = splat<V>(1.0), zero = splat<V>(0.0);
  return x > 0.0 ? one : (x < 0.0 ? -one : zero);
}

// f(x) lane by lane with a scalar function (the functions above have no vector version):
// lanewise(x, [](double a) { return std::log(a); }).
template <class V, class F>
inline V lanewise(V x, F f) {
  V out = x;
  for (std::size_t i = 0; i < sizeof(V) / sizeof(double); ++i) out[i] = f(x[i]);
  return out;
}

// x^y lane by lane (std::pow per lane).
template <class V>
inline V pow(V x, V y) {
  V out = x;
  for (std::size_t i = 0; i < sizeof(V) / sizeof(double); ++i) out[i] = std::pow(x[i], y[i]);
  return out;
}
template <class V>
inline V pow(V x, double y) {
  return pow(x, splat<V>(y));
}
template <class V>
inline V pow(double x, V y) {
  return pow(splat<V>(x), y);
}

}  // namespace fhn_inverse::vmath
