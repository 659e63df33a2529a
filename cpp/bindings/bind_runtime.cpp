// Thread limit and Ctrl-C (interrupt_hook.hpp) for every native call.
#include <pybind11/pybind11.h>

#include "fhn_inverse/util/parallel.hpp"
#include "interrupt_hook.hpp"

namespace py = pybind11;

void bind_runtime(py::module_& m) {
  fhn_inverse::bindings::install_interrupt_hook();
  m.attr("MAX_THREADS") = fhn_inverse::kMaxThreads;
  m.def(
      "available_threads", &fhn_inverse::available_threads,
      "The team size n_threads=0 gives now: the cores this process may use less the threads other "
      "processes keep running (at least 1; re-measured at most every 250 ms).");
}
