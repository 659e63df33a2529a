// Ctrl-C for every native call of a module. The core polls an interrupt hook between work items
// (fhn_inverse/util/interrupt.hpp); the hook installed here answers from the main Python thread
// only: it re-acquires the GIL, runs PyErr_CheckSignals (Python's signal handlers) and, when a
// handler raised, keeps that exception. The core then throws Interrupted, which reaches Python as
// the kept exception — KeyboardInterrupt for Ctrl-C. Each module that links its own copy of the
// core (_core, and every user model compiled on first use) installs it once at import.
#pragma once

#include <pybind11/pybind11.h>

#include <exception>
#include <optional>

#include "fhn_inverse/util/interrupt.hpp"

namespace fhn_inverse::bindings {

namespace runtime_detail {

namespace py = pybind11;

inline unsigned long main_thread_ident = 0;  // Python's main thread, the one that handles signals
// The exception a signal handler raised during the current call of this thread.
inline thread_local std::optional<py::error_already_set> pending;

inline bool python_interrupt_requested() noexcept {
  if (PyThread_get_thread_ident() != main_thread_ident) return false;  // no GIL taken elsewhere
  py::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() == 0) return false;
  pending.emplace();  // takes and clears the raised exception
  return true;
}

inline void translate(std::exception_ptr p) {
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
}

}  // namespace runtime_detail

// Installs the hook and the module's translation of Interrupted (module-local: each module's core
// copy throws its own Interrupted).
inline void install_interrupt_hook() {
  namespace py = pybind11;
  runtime_detail::main_thread_ident =
      py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
  fhn_inverse::set_interrupt_hook(&runtime_detail::python_interrupt_requested);
  py::register_local_exception_translator(&runtime_detail::translate);
}

}  // namespace fhn_inverse::bindings
