// Dense: y = W x + b over a chunk, its backward, and the split products of wide maps. The
// products go to Eigen (the reference path), OpenBLAS (kernels/blas.hpp) or the narrow
// broadcast kernels (kernels/dense_narrow.hpp).
#include <algorithm>
#include <vector>

#include "fhn_inverse/nn/layers.hpp"
#include "../kernels/blas.hpp"
#include "../kernels/dense_narrow.hpp"

namespace fhn_inverse::nn {

using namespace kernels;

Dense::Dense(Shape in, long units_) : Layer(in), units(units_) {
  require(!in.is_sequence(),
          "Dense needs a vector input (add Flatten after sequence layers), got shape " + in.str());
  require(in.length >= 1, "Dense input features must be >= 1, got " + std::to_string(in.length));
  require(units >= 1, "Dense units must be >= 1, got " + std::to_string(units));
}

std::vector<ParamShape> Dense::params() const {
  return {{"weight", {units, in_.length}}, {"bias", {units}}};
}

void Dense::init_params(float* params, Rng& rng) const {
  glorot_uniform(params, units * in_.length, in_.length, units, rng);
  std::fill(params + units * in_.length, params + units * in_.length + units, 0.0f);
}

LayerDescription Dense::describe() const {
  LayerDescription d;
  d.reads_input_in_place = true;  // every backend packs its operands
  d.wide = units >= 256 && in_.length >= 256;
  d.blas = use_blas();
  d.packed = narrow() ? this : nullptr;
  d.split = this;
  return d;
}

void Dense::forward_reference(const float* params, const float* x, float* y, long n) const {
  const long fin = in_.length;
  ConstMapRow W(params, units, fin);           // (Fout, Fin)
  ConstMapVec b(params + units * fin, units);  // (Fout)
  ConstMapCol X(x, fin, n);                    // (N, Fin) as (Fin, N)
  MapCol Y(y, units, n);                       // (N, Fout) as (Fout, N)
  Y.noalias() = W * X;
  Y.colwise() += b;
}

void Dense::forward(const float* params, const float* x, float* y, long n, float*,
                    const Context&) const {
  const long fin = in_.length;
#ifdef FHN_NARROW_DENSE
  if (narrow()) {
    narrow_dense(params, x, y, units, fin, n);
    MapCol(y, units, n).colwise() += ConstMapVec(params + units * fin, units);
    return;
  }
#endif
#ifdef FHN_OPENBLAS
  if (use_blas()) {  // Y (units × n) = b + Wᵀ-as-stored (row-major W is column-major Wᵀ) × X
    fill_columns(y, units, params + units * fin, units,
                 n);  // the product accumulates onto the bias
    blas_gemm('T', 'N', units, n, fin, params, fin, x, fin, 1.0f, y, units);
    return;
  }
#endif
  forward_reference(params, x, y, n);
}

bool Dense::narrow() const { return kNarrowDense && units <= 64 && in_.length >= 256; }

long Dense::packed_size() const { return narrow() ? in_.length * simd::round_lanes(units) : 0; }

void Dense::pack(const float* params, float* packed) const {
  pack_transposed(params, packed, units, in_.length);
}

void Dense::forward_packed(const float* params, const float* packed, const float* x, float* y,
                           long n) const {
#ifdef FHN_NARROW_DENSE
  const long fin = in_.length;
  narrow_dense_packed(packed, x, y, units, fin, n);
  MapCol(y, units, n).colwise() += ConstMapVec(params + units * fin, units);
#else
  (void)packed;
  forward(params, x, y, n, nullptr, Context{});
#endif
}

void Dense::forward_unpacked(const float* params, const float* x, float* y, long n,
                             float* scratch) const {
#ifdef FHN_NARROW_DENSE
  if (!narrow()) return forward(params, x, y, n, scratch, Context{});  // (no packed form)
  const long fin = in_.length;
  std::vector<float> own;  // (a caller without the layer's scratch)
  if (!scratch) {
    own.resize(lanes_scratch(units, fin));
    scratch = own.data();
  }
  narrow_dense_lanes(params, params + units * fin, x, y, units, fin, n, scratch);
#else
  forward(params, x, y, n, scratch, Context{});
#endif
}

long Dense::scratch_size(long) const {
#ifdef FHN_NARROW_DENSE
  if (narrow()) return lanes_scratch(units, in_.length);
#endif
  return 0;
}

bool Dense::use_blas() const {
#ifdef FHN_OPENBLAS
  return units >= kBlasMin && in_.length >= kBlasMin;
#else
  return false;
#endif
}

void Dense::backward(const float* params, const float* x, const float*, const float* dy, float* dx,
                     float* dparams, long n, float*) const {
  const long fin = in_.length;
  ConstMapCol X(x, fin, n);
  ConstMapCol dY(dy, units, n);
  MapRow dW(dparams, units, fin);
  MapVec db(dparams + units * fin, units);
  db = dY.rowwise().sum();
#ifdef FHN_NARROW_DENSE
  if (narrow()) {  // blocks of kPackedBlock features by the broadcast kernel, the rest here
    const long done = narrow_dense_backward(params, x, dy, dx, dparams, units, fin, n);
    const long rest = fin - done;
    if (rest > 0) {
      dW.rightCols(rest).noalias() = dY * X.bottomRows(rest).transpose();
      if (dx) {
        ConstMapRow W(params, units, fin);
        MapCol dX(dx, fin, n);
        dX.bottomRows(rest).noalias() = W.rightCols(rest).transpose() * dY;
      }
    }
    return;
  }
#endif
#ifdef FHN_OPENBLAS
  if (use_blas()) {
    // dWᵀ (fin × units, column-major = row-major dW) = X (fin × n) dYᵀ;  dX = W (as Wᵀ) dY
    blas_gemm('N', 'T', fin, units, n, x, fin, dy, units, 0.0f, dparams, fin);
    if (dx) blas_gemm('N', 'N', fin, n, units, params, fin, dy, units, 0.0f, dx, fin);
    return;
  }
#endif
  dW.noalias() = dY * X.transpose();
  if (dx) {
    ConstMapRow W(params, units, fin);
    MapCol dX(dx, fin, n);
    dX.noalias() = W.transpose() * dY;
  }
}

// ------------------------------------------------------------------------ split products
namespace {
long split_count(long rows) { return std::max(1L, std::min(4L, rows / 128)); }
// Rows [lo, hi) of part p of `parts` over `rows`, boundaries on multiples of 8.
void split_range(long rows, long parts, long p, long& lo, long& hi) {
  const long step = ((rows + parts - 1) / parts + 7) / 8 * 8;
  lo = std::min(rows, p * step);
  hi = std::min(rows, lo + step);
}
}  // namespace

long Dense::parts(bool backward) const {
  return backward ? std::max(split_count(units), split_count(in_.length)) : split_count(units);
}

void Dense::forward_part(const float* params, const float* x, float* y, long n, long part) const {
  const long fin = in_.length;
  long lo, hi;
  split_range(units, split_count(units), part, lo, hi);
  if (hi <= lo) return;
  ConstMapRow W(params, units, fin);
  ConstMapVec b(params + units * fin, units);
  ConstMapCol X(x, fin, n);
  MapCol Y(y, units, n);
#ifdef FHN_OPENBLAS
  if (use_blas()) {
    fill_columns(y + lo, units, b.data() + lo, hi - lo, n);
    blas_gemm('T', 'N', hi - lo, n, fin, params + lo * fin, fin, x, fin, 1.0f, y + lo, units);
    return;
  }
#endif
  Y.middleRows(lo, hi - lo).noalias() = W.middleRows(lo, hi - lo) * X;
  Y.middleRows(lo, hi - lo).colwise() += b.segment(lo, hi - lo);
}

void Dense::backward_part(const float* params, const float* x, const float* dy, float* dx,
                          float* dparams, long n, long part) const {
  const long fin = in_.length;
  ConstMapCol X(x, fin, n);
  ConstMapCol dY(dy, units, n);
  long lo, hi;
  if (part < split_count(units)) {
    split_range(units, split_count(units), part, lo, hi);
    if (hi > lo) {
      MapRow dW(dparams, units, fin);
      MapVec db(dparams + units * fin, units);
      db.segment(lo, hi - lo) = dY.middleRows(lo, hi - lo).rowwise().sum();
#ifdef FHN_OPENBLAS
      if (use_blas())
        blas_gemm('N', 'T', fin, hi - lo, n, x, fin, dy + lo, units, 0.0f, dparams + lo * fin, fin);
      else
#endif
        // column blocks of ≤ 512 keep Eigen's packing buffers on the stack (≈ 1 MB at most)
        for (long c = 0; c < fin; c += 512) {
          const long cw = std::min(512L, fin - c);
          dW.block(lo, c, hi - lo, cw).noalias() =
              dY.middleRows(lo, hi - lo) * X.middleRows(c, cw).transpose();
        }
    }
  }
  if (dx && part < split_count(fin)) {
    split_range(fin, split_count(fin), part, lo, hi);
    if (hi > lo) {
#ifdef FHN_OPENBLAS
      if (use_blas()) {
        blas_gemm('N', 'N', hi - lo, n, units, params + lo, fin, dy, units, 0.0f, dx + lo, fin);
        return;
      }
#endif
      ConstMapRow W(params, units, fin);
      MapCol dX(dx, fin, n);
      dX.middleRows(lo, hi - lo).noalias() = W.middleCols(lo, hi - lo).transpose() * dY;
    }
  }
}

}  // namespace fhn_inverse::nn
