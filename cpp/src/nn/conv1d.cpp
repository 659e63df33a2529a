// Conv1D forward and backward as direct convolution over phase planes (layers.hpp). The three
// products, y = W ⋆ x, dW = dY ⋆ x and dx = Wᵀ ⋆ dY, run as register-blocked loops over runs of
// 8 contiguous positions (simd.hpp). At the study's sizes (K = 3, 1 to 16 input channels, chunks of
// 16 series) an im2col matrix and a GEMM's packing of it cost as much as the multiplications.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "fhn_inverse/nn/layers.hpp"
#include "simd.hpp"

namespace fhn_inverse::nn {

namespace {

using namespace simd;

long round8(long v) { return (v + 7) / 8 * 8; }

// One layer on a chunk of n series. Plane buffers hold, per series j and channel c, s planes of Q
// floats; padded output-gradient rows hold E = ⌊(K − 1)/s⌋ zeros, Lout values, zeros (Q + E).
struct Geometry {
  long cin, lin, cout, K, s, pad, lout, E, Q, n;
  long ck() const { return cin * K; }
  long plane(long c, long j, long r) const { return ((j * cin + c) * s + r) * Q; }
  long row(long co, long j) const { return (j * cout + co) * (Q + E); }
};

Geometry geometry(const Conv1D& c, long n) {
  const Shape in = c.input_shape();
  return {in.channels, in.length, c.filters, c.kernel, c.stride, c.pad_left, c.out_length,
          (c.kernel - 1) / c.stride, c.plane_length, n};
}

// out[a·ld + i] = bias[a] + Σ_t w[t·ldw + a] in[off[t] + i] for G output rows a and 8·V
// positions i (the first `count` stored): per tap V 8-wide loads and G broadcasts into G·V
// accumulators (12 of them for the 4 × 3 block: 7 loads per 12 FMAs). The forward pass (rows:
// output channels; taps: (ci, k) runs of the planes) and the input gradient (rows: input
// channels of one plane; taps: (co, k) runs of dY) are both this loop. It reads 8·V positions
// from every tap's start, stored or not.
template <int G, int V>
void tap_block(long taps, const long* off, const float* w, long ldw, const float* in,
               const float* bias, float* out, long ld, long count) {
  v8 acc[G][V];
#pragma GCC unroll 8
  for (int a = 0; a < G; ++a)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[a][v] = splat(bias ? bias[a] : 0.0f);
  for (long t = 0; t < taps; ++t, w += ldw) {
    v8 x[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) x[v] = load8(in + off[t] + 8 * v);
#pragma GCC unroll 8
    for (int a = 0; a < G; ++a) {
      const v8 wa = splat(w[a]);
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[a][v] += wa * x[v];
    }
  }
#pragma GCC unroll 4
  for (int v = 0; v < V; ++v) {
    const long left = count - 8 * v;
    if (left <= 0) break;
#pragma GCC unroll 8
    for (int a = 0; a < G; ++a) store_first(out + a * ld + 8 * v, acc[a][v], left);
  }
}

// tap_block over rows [0, rows) in blocks of 4, 2, 1 (of 8 first for runs of 8 positions: 8
// accumulators), for one run of 8·V positions.
template <int V>
void tap_run(long rows, long taps, const long* off, const float* w, long ldw, const float* in,
             const float* bias, float* out, long ld, long count) {
  long a = 0;
  auto block = [&](auto width) {
    constexpr int G = decltype(width)::value;
    tap_block<G, V>(taps, off, w + a, ldw, in, bias ? bias + a : nullptr, out + a * ld, ld, count);
    a += G;
  };
  if constexpr (V == 1)
    while (rows - a >= 8) block(std::integral_constant<int, 8>{});
  while (rows - a >= 4) block(std::integral_constant<int, 4>{});
  if (rows - a >= 2) block(std::integral_constant<int, 2>{});
  if (rows - a == 1) block(std::integral_constant<int, 1>{});
}

// Positions [0, count) in runs of 24 while more than 16 remain (4 × 3 blocks: 12 accumulators,
// 7 loads per 12 FMAs), then one run of 16 or 8. Every run starts at a multiple of 8 below
// count and reads at most 7 positions past count.
void tap_rows(long rows, long taps, const long* off, const float* w, long ldw, const float* in,
              const float* bias, float* out, long ld, long count) {
  for (long l = 0; l < count;) {
    const long left = count - l;
    if (left > 16) {
      tap_run<3>(rows, taps, off, w, ldw, in + l, bias, out + l, ld, std::min(24L, left));
      l += 24;
    } else if (left > 8) {
      tap_run<2>(rows, taps, off, w, ldw, in + l, bias, out + l, ld, left);
      l += 16;
    } else {
      tap_run<1>(rows, taps, off, w, ldw, in + l, bias, out + l, ld, left);
      l += 8;
    }
  }
}

// Positions read past the last one stored (tap_rows), and past the padded dY rows' end by the
// input gradient.
constexpr long kOverread = 16;

// dW[co, t] = Σ_j Σ_l dY[co, j, l] P_j[off[t] + l] for co ∈ [co0, co0 + A) and taps
// t ∈ [t0, t0 + B): A·B accumulators over every series and position (the dY tail of each row
// read masked), one horizontal sum at the end.
template <int A, int B>
void weight_grad_block(const Geometry& g, const long* off, const float* dy, const float* P,
                       float* dW, long co0, long t0) {
  // (loops unrolled, the masked tail apart: the 12 accumulators of the 4 × 3 block stay in
  // registers)
  v8 acc[A][B];
#pragma GCC unroll 4
  for (int a = 0; a < A; ++a)
#pragma GCC unroll 3
    for (int c = 0; c < B; ++c) acc[a][c] = splat(0.0f);
  const long full = g.lout / 8 * 8;
  for (long j = 0; j < g.n; ++j) {
    const float* p[B];
#pragma GCC unroll 3
    for (int c = 0; c < B; ++c) p[c] = P + g.plane(0, j, 0) + off[t0 + c];
    const float* d = dy + (co0 * g.n + j) * g.lout;
    const long ldd = g.n * g.lout;
    auto step = [&](long l, auto masked) {
      v8 pv[B];
#pragma GCC unroll 3
      for (int c = 0; c < B; ++c) pv[c] = load8_reg(p[c] + l);
#pragma GCC unroll 4
      for (int a = 0; a < A; ++a) {
        const v8 dv = masked ? load_first(d + a * ldd + l, g.lout - l) : load8_reg(d + a * ldd + l);
#pragma GCC unroll 3
        for (int c = 0; c < B; ++c) acc[a][c] += dv * pv[c];
      }
    };
    for (long l = 0; l < full; l += 8) step(l, std::false_type{});
    if (full < g.lout) step(full, std::true_type{});
  }
  const long ck = g.ck();
#pragma GCC unroll 4
  for (int a = 0; a < A; ++a)
#pragma GCC unroll 3
    for (int c = 0; c < B; ++c) dW[(co0 + a) * ck + t0 + c] = hsum(acc[a][c]);
}

template <int A>
void weight_grad_rows(const Geometry& g, const long* off, const float* dy, const float* P,
                      float* dW, long co0) {
  const long ck = g.ck();
  long t = 0;
  for (; t + 3 <= ck; t += 3) weight_grad_block<A, 3>(g, off, dy, P, dW, co0, t);
  if (ck - t == 2) weight_grad_block<A, 2>(g, off, dy, P, dW, co0, t);
  if (ck - t == 1) weight_grad_block<A, 1>(g, off, dy, P, dW, co0, t);
}

}  // namespace

// --------------------------------------------------------------------------------------- Conv1D
Padding parse_padding(const std::string& name) {
  if (name == "valid") return Padding::valid;
  if (name == "same") return Padding::same;
  throw std::invalid_argument("padding must be 'valid' or 'same', got '" + name + "'");
}

std::string padding_name(Padding p) { return p == Padding::valid ? "valid" : "same"; }

Conv1D::Conv1D(Shape in, long filters_, long kernel_, long stride_, Padding padding_)
    : Layer(in), filters(filters_), kernel(kernel_), stride(stride_), padding(padding_) {
  require(in.is_sequence(), "Conv1D needs a sequence input (C, L), got shape " + in.str());
  require(filters >= 1, "Conv1D filters must be >= 1, got " + std::to_string(filters));
  require(kernel >= 1, "Conv1D kernel must be >= 1, got " + std::to_string(kernel));
  require(stride >= 1, "Conv1D stride must be >= 1, got " + std::to_string(stride));
  if (padding == Padding::valid) {
    require(in.length >= kernel, "Conv1D kernel " + std::to_string(kernel) +
                                     " must be <= input length " + std::to_string(in.length));
    out_length = (in.length - kernel) / stride + 1;
    pad_left = 0;
  } else {
    out_length = (in.length + stride - 1) / stride;
    const long total = std::max((out_length - 1) * stride + kernel - in.length, 0L);
    pad_left = total / 2;
  }
  // runs read at most 7 positions past Lout (tap_rows), shifted by up to E; every input
  // index's plane position ⌊(i + pad)/s⌋ <= Lout + E lies inside too
  plane_length = round8(round8(out_length) + 8 + (kernel - 1) / stride);
  const long q = plane_length, e = (kernel - 1) / stride;
  for (long ci = 0; ci < in_.channels; ++ci)
    for (long k = 0; k < kernel; ++k) taps.push_back((ci * stride + k % stride) * q + k / stride);
  for (long r = 0; r < stride; ++r) {
    dx_tap_start.push_back(static_cast<long>(dx_taps.size()));
    for (long co = 0; co < filters; ++co)
      for (long k = r; k < kernel; k += stride) dx_taps.push_back(co * (q + e) + e - k / stride);
  }
  dx_tap_start.push_back(static_cast<long>(dx_taps.size()));
}

long Conv1D::scratch_size(long n) const {
  const long e = (kernel - 1) / stride;
  // + kOverread: the input gradient's last run reads a few floats past the padded dY rows
  return in_.channels * n * stride * plane_length + filters * n * (plane_length + e) +
         filters * in_.channels * kernel + kOverread;
}

void Conv1D::init_params(float* params, Rng& rng) const {
  const long nw = filters * in_.channels * kernel;
  glorot_uniform(params, nw, in_.channels * kernel, filters * kernel, rng);
  std::fill(params + nw, params + n_params(), 0.0f);
}

void Conv1D::forward(const float* params, const float* x, float* y, long n, float* scratch,
                     const Context& ctx) const {
  const Geometry g = geometry(*this, n);
  // transposed weights wt (Cin·K, Cout): a tap's weights for consecutive output channels
  const long ck = g.ck();
  float* wt = scratch + g.cin * n * g.s * g.Q + g.cout * n * (g.Q + g.E);
  for (long co = 0; co < g.cout; ++co)
    for (long t = 0; t < ck; ++t) wt[t * g.cout + co] = params[co * ck + t];
  const float* b = params + filters * ck;
  // series by series: its planes P_r[q] = x[q·s + r − pad] inside the row, 0 outside (kept for
  // backward), then the convolution while they are in L1
  float* P = scratch;
  for (long j = 0; j < n; ++j) {
    for (long ci = 0; ci < g.cin; ++ci) {
      // (rows by index: one input channel, so series j is row rows[j])
      const float* xr = ctx.rows ? x + ctx.rows[j] * g.lin : x + (ci * n + j) * g.lin;
      if (g.s == 2) {  // both planes from one run of 16: its even and odd lanes
        float* p0 = P + g.plane(ci, j, 0);
        float* p1 = p0 + g.Q;
        for (long q = 0; q < g.Q;) {
          const long m = 2 * q - g.pad;  // plane 0 reads x[m], plane 1 x[m + 1]
          if (m >= 0 && q + 8 <= g.Q) {  // masked loads: zeros past the row's end
            const v8 a = load_first(xr + m, std::max(0L, g.lin - m)),
                     b = load_first(xr + m + 8, std::max(0L, g.lin - m - 8));
            v8 even, odd;
            deinterleave(a, b, even, odd);
            store8(p0 + q, even);
            store8(p1 + q, odd);
            q += 8;
          } else {
            p0[q] = m >= 0 && m < g.lin ? xr[m] : 0.0f;
            p1[q] = m + 1 >= 0 && m + 1 < g.lin ? xr[m + 1] : 0.0f;
            ++q;
          }
        }
        continue;
      }
      for (long r = 0; r < g.s; ++r) {
        float* pr = P + g.plane(ci, j, r);
        const long lo = std::min(g.Q, g.pad > r ? (g.pad - r + g.s - 1) / g.s : 0L);
        const long hi = std::max(lo, std::min(g.Q, (g.lin + g.pad - r + g.s - 1) / g.s));
        std::fill(pr, pr + lo, 0.0f);
        if (g.s == 1)
          std::memcpy(pr + lo, xr + lo + r - g.pad, sizeof(float) * (hi - lo));
        else
          for (long q = lo; q < hi; ++q) pr[q] = xr[q * g.s + r - g.pad];
        std::fill(pr + hi, pr + g.Q, 0.0f);
      }
    }
    tap_rows(g.cout, ck, taps.data(), wt, g.cout, P + g.plane(0, j, 0), b, y + j * g.lout,
             n * g.lout, g.lout);
  }
}

void Conv1D::backward(const float* params, const float*, const float*, const float* dy,
                      float* dx, float* dparams, long n, float* scratch) const {
  const Geometry g = geometry(*this, n);
  const long ck = g.ck();
  float* P = scratch;                                       // forward's planes
  MapVec db(dparams + filters * ck, filters);
  db = ConstMapRow(dy, filters, n * g.lout).rowwise().sum();
  long co = 0;
  for (; co + 4 <= g.cout; co += 4) weight_grad_rows<4>(g, taps.data(), dy, P, dparams, co);
  switch (g.cout - co) {
    case 3: weight_grad_rows<3>(g, taps.data(), dy, P, dparams, co); break;
    case 2: weight_grad_rows<2>(g, taps.data(), dy, P, dparams, co); break;
    case 1: weight_grad_rows<1>(g, taps.data(), dy, P, dparams, co); break;
    default: break;
  }
  if (!dx) return;
  float* dyp = scratch + g.cin * n * g.s * g.Q;             // (N, Cout, Q + E) padded dY
  for (long c = 0; c < g.cout; ++c)
    for (long j = 0; j < n; ++j) {
      float* row = dyp + g.row(c, j);
      std::fill(row, row + g.E, 0.0f);
      std::memcpy(row + g.E, dy + (c * n + j) * g.lout, sizeof(float) * g.lout);
      std::fill(row + g.E + g.lout, row + g.Q + g.E, 0.0f);
    }
  // per plane r, weights wr (taps (co, k ≡ r), Cin) in dx_taps' order, then the transposed
  // convolution into the planes' place (spent after dW), then back to the input layout
  float* wr = dyp + g.cout * n * (g.Q + g.E);
  float* dP = P;
  const long qn = std::min(g.Q, round8((g.lin - 1 + g.pad) / g.s + 1));  // positions dx reads
  for (long r = 0; r < g.s; ++r) {
    const long t0 = dx_tap_start[r], nt = dx_tap_start[r + 1] - t0;
    long t = 0;
    for (long c = 0; c < g.cout; ++c)
      for (long k = r; k < g.K; k += g.s, ++t)
        for (long ci = 0; ci < g.cin; ++ci) wr[t * g.cin + ci] = params[(c * g.cin + ci) * g.K + k];
    for (long j = 0; j < n; ++j)
      tap_rows(g.cin, nt, dx_taps.data() + t0, wr, g.cin, dyp + g.row(0, j), nullptr,
               dP + g.plane(0, j, r), g.s * g.Q, qn);
  }
  for (long ci = 0; ci < g.cin; ++ci)
    for (long j = 0; j < n; ++j) {
      float* xr = dx + (ci * n + j) * g.lin;
      const float* planes = dP + g.plane(ci, j, 0);
      if (g.s == 2) {  // dx[2u] = a[u], dx[2u + 1] = b[u]: interleave runs of 8
        const long q0 = g.pad / 2;
        const float* a = planes + (g.pad % 2) * g.Q + q0;
        const float* b = planes + (1 - g.pad % 2) * g.Q + q0 + g.pad % 2;
        long u = 0;
        for (; 2 * u + 16 <= g.lin; u += 8) {
          const v8 av = load8(a + u), bv = load8(b + u);
          store8(xr + 2 * u, __builtin_shufflevector(av, bv, 0, 8, 1, 9, 2, 10, 3, 11));
          store8(xr + 2 * u + 8, __builtin_shufflevector(av, bv, 4, 12, 5, 13, 6, 14, 7, 15));
        }
        for (long i = 2 * u; i < g.lin; ++i) xr[i] = i % 2 ? b[i / 2] : a[i / 2];
        continue;
      }
      for (long r = 0; r < g.s; ++r) {  // inputs i ≡ r − pad (mod s) sit in plane r
        const long i0 = ((r - g.pad) % g.s + g.s) % g.s;
        const float* pr = planes + r * g.Q + (i0 + g.pad) / g.s;
        for (long i = i0, q = 0; i < g.lin; i += g.s, ++q) xr[i] = pr[q];
      }
    }
}

}  // namespace fhn_inverse::nn
