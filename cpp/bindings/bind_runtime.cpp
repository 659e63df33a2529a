// Thread limit and Ctrl-C for every native call. The core polls an interrupt hook between work
// items (fhn_inverse/util/interrupt.hpp); the hook installed here answers from the main Python
// thread only: it re-acquires the GIL, runs PyErr_CheckSignals (Python's signal handlers) and,
// when a handler raised, keeps that exception. The core then throws Interrupted, which reaches
// Python as the kept exception — KeyboardInterrupt for Ctrl-C.
#include <pybind11/pybind11.h>

#include <exception>
#include <optional>

#include "fhn_inverse/util/interrupt.hpp"
#include "fhn_inverse/util/parallel.hpp"

namespace py = pybind11;

namespace {

unsigned long main_thread_ident = 0;  // Python's main thread, the one that handles signals
// The exception a signal handler raised during the current call of this thread.
thread_local std::optional<py::error_already_set> pending;

bool python_interrupt_requested() noexcept {
  if (PyThread_get_thread_ident() != main_thread_ident) return false;  // no GIL taken elsewhere
  py::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() == 0) return false;
  pending.emplace();  // takes and clears the raised exception
  return true;
}

}  // namespace

void bind_runtime(py::module_& m) {
  main_thread_ident =
      py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
  fhn_inverse::set_interrupt_hook(&python_interrupt_requested);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const fhn_inverse::Interrupted&) {
      if (pending) {
        py::error_already_set e = std::move(*pending);
        pending.reset();
        e.restore();
      } else {
        PyErr_SetNone(PyExc_KeyboardInterrupt);
      }
    }
  });
  m.attr("MAX_THREADS") = fhn_inverse::kMaxThreads;
  m.def(
      "available_threads", &fhn_inverse::available_threads,
      "The team size n_threads=0 gives now: the cores this process may use less the threads other "
      "processes keep running (at least 1; re-measured at most every 250 ms).");
}
