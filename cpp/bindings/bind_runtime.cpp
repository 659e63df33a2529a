// Thread limit and Ctrl-C (interrupt_hook.hpp) for every native call.
#include <pybind11/pybind11.h>

#include <fftw3.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "fhn_inverse/nn/layers.hpp"
#include "fhn_inverse/simulate/lanes.hpp"
#include "fhn_inverse/util/parallel.hpp"
#include "interrupt_hook.hpp"

namespace py = pybind11;

namespace {

// What this build of the core was compiled for and with: the instruction sets its kernels use (the
// compiler's predefined macros under the build's -march), their level, the simulator's SIMD width,
// the compiler, BLAS and FFTW.
py::dict build_info() {
  std::vector<std::string> isa;
#ifdef __SSE4_2__
  isa.emplace_back("sse4.2");
#endif
#ifdef __AVX__
  isa.emplace_back("avx");
#endif
#ifdef __AVX2__
  isa.emplace_back("avx2");
#endif
#ifdef __FMA__
  isa.emplace_back("fma");
#endif
#ifdef __AVX512F__
  isa.emplace_back("avx512f");
#endif
#ifdef __AVX512BW__
  isa.emplace_back("avx512bw");
#endif
#ifdef __AVX512DQ__
  isa.emplace_back("avx512dq");
#endif
#ifdef __AVX512VL__
  isa.emplace_back("avx512vl");
#endif
#if defined(__AVX512F__)
  const char* level = "avx512";
#elif defined(__AVX2__) && defined(__FMA__)
  const char* level = "avx2";
#else
  const char* level = "baseline";
#endif
  py::dict out;
  out["version"] = FHN_INVERSE_VERSION;
  out["level"] = level;
  out["instruction_sets"] = isa;
  out["float_lanes"] = fhn_inverse::nn::kernel_float_lanes();
  out["simd_doubles"] = fhn_inverse::simulate::kWidth;
  out["simulator_lanes"] = fhn_inverse::simulate::kLanes;
#if defined(__clang__)
  out["compiler"] = std::string("clang ") + __VERSION__;
#elif defined(__GNUC__)
  out["compiler"] = std::string("GCC ") + __VERSION__;
#endif
#ifdef FHN_OPENBLAS
  out["blas"] = "openblas";
#else
  out["blas"] = "eigen";
#endif
  out["fftw"] = std::string(fftw_version);
  out["openmp"] = _OPENMP;
  return out;
}

}  // namespace

void bind_runtime(py::module_& m) {
  m.def(
      "build_info", &build_info,
      "What this build of the core was compiled for: instruction sets and their level, SIMD width, "
      "compiler, BLAS, FFTW, OpenMP.");
  fhn_inverse::bindings::install_interrupt_hook();
  m.attr("MAX_THREADS") = fhn_inverse::kMaxThreads;
  m.def(
      "available_threads", &fhn_inverse::available_threads,
      "The team size n_threads=0 gives now: the cores this process may use less the threads other "
      "processes keep running (at least 1; re-measured at most every 250 ms).");
}
