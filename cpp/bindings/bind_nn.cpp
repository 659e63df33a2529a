// Bindings for the neural-network engine and trainer: conversions and GIL handling only.
// Arrays: x (N, C, L) or (N, F) float32 C order (per the network's input shape), targets and
// outputs (N, D) float32; parameters a flat (P,) float32 vector in the network's layout.
// fit() releases the GIL; its progress hook re-acquires it at most every progress_interval
// seconds to call PyErr_CheckSignals (Ctrl-C → KeyboardInterrupt after the current step) and
// the Python callback.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>

#include "fhn_inverse/nn/network.hpp"
#include "fhn_inverse/nn/optimizers.hpp"
#include "fhn_inverse/util/parallel.hpp"
#include "fhn_inverse/train/trainer.hpp"

namespace py = pybind11;
using namespace fhn_inverse;
using nn::Network;

namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

std::string shape_str(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

// x must be (N, C, L) for a sequence input and (N, F) for a vector input; returns N.
long check_input(const Network& net, const FloatArray& x, const char* name) {
  const nn::Shape in = net.input_shape();
  const bool ok = in.is_sequence()
                      ? x.ndim() == 3 && x.shape(1) == in.channels && x.shape(2) == in.length
                      : x.ndim() == 2 && x.shape(1) == in.length;
  if (!ok || x.shape(0) < 1)
    throw std::invalid_argument(std::string(name) + " must have shape (N, " +
                                (in.is_sequence() ? std::to_string(in.channels) + ", " : "") +
                                std::to_string(in.length) + ") with N >= 1, got " + shape_str(x));
  return static_cast<long>(x.shape(0));
}

void check_targets(const FloatArray& t, long n, long d, const char* name) {
  if (t.ndim() != 2 || t.shape(0) != n || t.shape(1) != d)
    throw std::invalid_argument(std::string(name) + " must have shape (" + std::to_string(n) +
                                ", " + std::to_string(d) + "), got " + shape_str(t));
}

nn::LayerSpec to_spec(const py::dict& d) {
  nn::LayerSpec s;
  for (auto item : d) {
    const std::string key = py::str(item.first);
    if (key == "kind")
      s.kind = item.second.cast<std::string>();
    else if (key == "units")
      s.units = item.second.cast<long>();
    else if (key == "filters")
      s.filters = item.second.cast<long>();
    else if (key == "kernel")
      s.kernel = item.second.cast<long>();
    else if (key == "stride")
      s.stride = item.second.cast<long>();
    else if (key == "padding")
      s.padding = item.second.cast<std::string>();
    else if (key == "pool")
      s.pool = item.second.cast<long>();
    else if (key == "rate")
      s.rate = item.second.cast<double>();
    else
      throw std::invalid_argument("unknown layer field '" + key +
                                  "' (accepted: kind, units, "
                                  "filters, kernel, stride, padding, pool, rate)");
  }
  if (s.kind.empty()) throw std::invalid_argument("every layer needs a 'kind'");
  return s;
}

py::tuple shape_tuple(nn::Shape s) {
  if (s.is_sequence()) return py::make_tuple(s.channels, s.length);
  return py::make_tuple(s.length);
}

py::array_t<float> copy_out(const float* p, std::vector<py::ssize_t> shape) {
  py::array_t<float> a(shape);
  std::memcpy(a.mutable_data(), p, sizeof(float) * a.size());
  return a;
}

// The progress callback's view of a training step.
bool call_progress(const py::function& progress, const train::Progress& p) {
  py::dict info;
  info["epoch"] = p.epoch;
  info["epochs"] = p.epochs;
  info["batch"] = p.batch;
  info["batches"] = p.batches;
  info["loss"] = p.loss;
  info["val_loss"] = p.val_loss;
  info["lr"] = p.lr;
  info["epoch_end"] = p.epoch_end;
  info["samples"] = p.samples;
  py::object r = progress(info);
  return r.is_none() || r.cast<bool>();
}

// The trainer's progress hook: with the GIL, Ctrl-C (PyErr_CheckSignals), then the Python callback
// where there is one. An exception of either stops training and is kept in `error` for the binding
// to raise once the GIL is back. Both references must outlive the training.
train::ProgressFn progress_hook(std::optional<py::error_already_set>& error,
                                const std::optional<py::function>& progress) {
  return [&error, &progress](const train::Progress& p) -> bool {
    py::gil_scoped_acquire acquire;
    if (PyErr_CheckSignals() != 0) {
      error.emplace();
      return false;
    }
    if (!progress) return true;
    try {
      return call_progress(*progress, p);
    } catch (py::error_already_set& e) {
      error.emplace(std::move(e));
      return false;
    }
  };
}

py::dict history_dict(const train::History& h) {
  py::dict out;
  out["loss"] = py::array(py::cast(h.loss));
  out["val_loss"] = py::array(py::cast(h.val_loss));
  out["lr"] = py::array(py::cast(h.lr));
  out["seconds"] = py::array(py::cast(h.seconds));
  out["step_loss"] = py::array(py::cast(h.step_loss));
  out["wait_seconds"] = py::array(py::cast(h.wait_seconds));
  out["samples"] = h.samples;
  out["best_epoch"] = h.best_epoch;
  out["stopped_early"] = h.stopped_early;
  out["interrupted"] = h.interrupted;
  return out;
}

// Network: construction, parameters and layout.
void bind_network_state(py::class_<Network>& cls) {
  cls.def(py::init([](py::tuple input_shape, const py::list& layers, std::uint64_t seed,
                      long max_batch, long max_chunks) {
            nn::Shape in;
            if (input_shape.size() == 1)
              in = nn::Shape::vector(input_shape[0].cast<long>());
            else if (input_shape.size() == 2)
              in = nn::Shape::sequence(input_shape[0].cast<long>(), input_shape[1].cast<long>());
            else
              throw std::invalid_argument("input_shape must be (F,) or (C, L), got " +
                                          std::string(py::str(input_shape)));
            if (in.length < 1 || (input_shape.size() == 2 && in.channels < 1))
              throw std::invalid_argument("input_shape entries must be >= 1, got " +
                                          std::string(py::str(input_shape)));
            std::vector<nn::LayerSpec> specs;
            for (auto l : layers) specs.push_back(to_spec(l.cast<py::dict>()));
            return std::make_unique<Network>(in, specs, seed, max_batch, max_chunks);
          }),
          py::arg("input_shape"), py::arg("layers"), py::arg("seed") = 0,
          py::arg("max_batch") = 256, py::arg("max_chunks") = 8)
      .def_property_readonly("n_params", &Network::n_params)
      .def_property_readonly("input_shape",
                             [](const Network& n) { return shape_tuple(n.input_shape()); })
      .def_property_readonly("output_shape",
                             [](const Network& n) { return shape_tuple(n.output_shape()); })
      .def_property_readonly("max_batch", &Network::max_batch)
      .def_property(
          "params", [](const Network& n) { return copy_out(n.params(), {n.n_params()}); },
          [](Network& n, const FloatArray& p) {
            if (p.ndim() != 1 || p.shape(0) != n.n_params())
              throw std::invalid_argument("params must have shape (" +
                                          std::to_string(n.n_params()) + ",), got " + shape_str(p));
            for (py::ssize_t i = 0; i < p.shape(0); ++i)
              if (!std::isfinite(p.data()[i]))
                throw std::invalid_argument("params must be finite, got " +
                                            std::to_string(p.data()[i]) + " at index " +
                                            std::to_string(i));
            std::memcpy(n.params(), p.data(), sizeof(float) * n.n_params());
          })
      .def_property_readonly("grads",
                             [](Network& n) { return copy_out(n.grads(), {n.n_params()}); })
      .def("param_tensors",
           [](const Network& n) {
             py::list out;
             for (const auto& t : n.param_tensors())
               out.append(py::make_tuple(t.name, t.offset, py::tuple(py::cast(t.shape))));
             return out;
           })
      .def("summary",
           [](const Network& n) {
             py::list out;
             for (const auto& l : n.summary())
               out.append(py::make_tuple(l.name, shape_tuple(l.output), l.n_params));
             return out;
           })
      .def("init", &Network::init, py::arg("seed"))
      .def("set_max_batch", &Network::set_max_batch, py::arg("max_batch"));
}

// Network: evaluation, loss and one forward/backward pass.
void bind_network_evaluation(py::class_<Network>& cls) {
  cls.def(
         "predict",
         [](const Network& net, const FloatArray& x, long long n_threads) {
           const int threads = check_threads(n_threads);
           const long n = check_input(net, x, "x");
           py::array_t<float> y({n, net.output_shape().size()});
           float* yp = y.mutable_data();
           {
             py::gil_scoped_release release;
             net.predict(x.data(), n, yp, threads);
           }
           return y;
         },
         py::arg("x"), py::arg("n_threads") = 0)
      .def(
          "loss",
          [](const Network& net, const FloatArray& x, const FloatArray& t, const std::string& loss,
             long long n_threads) {
            const int threads = check_threads(n_threads);
            const long n = check_input(net, x, "x");
            const auto kind = nn::parse_loss(loss);
            check_targets(t, n, nn::loss_target_size(kind, net.output_shape().size()), "y");
            py::gil_scoped_release release;
            return net.loss(x.data(), t.data(), n, kind, threads);
          },
          py::arg("x"), py::arg("y"), py::arg("loss") = "mse", py::arg("n_threads") = 0)
      .def(
          "forward_backward",
          [](Network& net, const FloatArray& x, const FloatArray& t, const std::string& loss,
             bool training, std::uint64_t seed, std::uint64_t step, long long n_threads) {
            const int threads = check_threads(n_threads);
            const long n = check_input(net, x, "x");
            const auto kind = nn::parse_loss(loss);
            check_targets(t, n, nn::loss_target_size(kind, net.output_shape().size()), "y");
            if (n > net.max_batch()) net.set_max_batch(n);
            std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim());
            py::array_t<float> dx(shape);
            float* dxp = dx.mutable_data();
            double value;
            {
              py::gil_scoped_release release;
              value = net.forward_backward(x.data(), t.data(), n, kind, training, seed, step,
                                           threads, dxp);
            }
            return py::make_tuple(value, copy_out(net.grads(), {net.n_params()}), dx);
          },
          py::arg("x"), py::arg("y"), py::arg("loss") = "mse", py::arg("training") = false,
          py::arg("seed") = 0, py::arg("step") = 0, py::arg("n_threads") = 0,
          "Loss, gradient (P,) and input gradient of one batch; the network's grads are "
          "overwritten.");
}

void bind_optimizer(py::module_& m) {
  py::class_<nn::Adam>(m, "Adam")
      .def(py::init([](long n_params, double beta1, double beta2, double eps, double weight_decay,
                       bool decoupled) {
             nn::AdamConfig c;
             c.beta1 = beta1;
             c.beta2 = beta2;
             c.eps = eps;
             c.weight_decay = weight_decay;
             c.decoupled = decoupled;
             return std::make_unique<nn::Adam>(n_params, c);
           }),
           py::arg("n_params"), py::arg("beta1") = 0.9, py::arg("beta2") = 0.999,
           py::arg("eps") = 1e-8, py::arg("weight_decay") = 0.0, py::arg("decoupled") = false)
      .def(
          "step",
          [](nn::Adam& a, Network& net, double lr) {
            if (static_cast<long>(a.m().size()) != net.n_params())
              throw std::invalid_argument("optimizer size " + std::to_string(a.m().size()) +
                                          " does not match the network's " +
                                          std::to_string(net.n_params()));
            a.step(net.params(), net.grads(), lr);
          },
          py::arg("network"), py::arg("lr"),
          "One update of the network's parameters with its current grads.")
      .def_property_readonly("steps", &nn::Adam::steps)
      .def_property_readonly(
          "m", [](nn::Adam& a) { return copy_out(a.m().data(), {(py::ssize_t)a.m().size()}); })
      .def_property_readonly(
          "v", [](nn::Adam& a) { return copy_out(a.v().data(), {(py::ssize_t)a.v().size()}); })
      .def("reset", &nn::Adam::reset);
}

// The executors' tuning constants (private: benchmarks/tuning_levels.py sweeps them).
void bind_tuning(py::module_& m) {
  static const char* const kTuningFields[] = {
      "min_chunk",     "min_gemm_eval_chunk", "vector_eval_rows",   "vector_eval_chunks",
      "element_parts", "min_gemm_chunk",      "chunked_wide_params"};
  auto tuning_dict = [](const nn::Tuning& t) {
    const long v[] = {t.min_chunk,          t.min_gemm_eval_chunk, t.vector_eval_rows,
                      t.vector_eval_chunks, t.element_parts,       t.min_gemm_chunk,
                      t.chunked_wide_params};
    py::dict d;
    for (int i = 0; i < 7; ++i) d[kTuningFields[i]] = v[i];
    return d;
  };
  m.def(
      "_tuning",
      [tuning_dict](bool defaults) {
        return tuning_dict(defaults ? nn::default_tuning() : nn::current_tuning());
      },
      py::arg("defaults") = false,
      "The executors' tuning constants that networks built from now on take (or, with "
      "defaults=True, this core's defaults), as a dict.");
  m.def(
      "_set_tuning",
      [tuning_dict](py::kwargs kw) {
        nn::Tuning t = nn::current_tuning();
        long* v[] = {&t.min_chunk,          &t.min_gemm_eval_chunk, &t.vector_eval_rows,
                     &t.vector_eval_chunks, &t.element_parts,       &t.min_gemm_chunk,
                     &t.chunked_wide_params};
        for (auto item : kw) {
          const std::string key = py::str(item.first);
          int i = 0;
          while (i < 7 && key != kTuningFields[i]) ++i;
          if (i == 7) {
            std::string names;
            for (const char* f : kTuningFields) names += std::string(names.empty() ? "" : ", ") + f;
            throw py::value_error("unknown tuning field '" + key + "'; accepted: " + names);
          }
          if (py::isinstance<py::bool_>(item.second) || !PyIndex_Check(item.second.ptr()))
            throw py::type_error("tuning " + key + " must be an int, got " +
                                 std::string(py::str(py::type::of(item.second).attr("__name__"))));
          const py::int_ value = py::reinterpret_steal<py::int_>(PyNumber_Index(item.second.ptr()));
          int overflow = 0;
          const long long got = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
          if (overflow)
            throw py::value_error("tuning " + key + " is out of range, got " +
                                  std::string(py::str(value)));
          *v[i] = static_cast<long>(got);
        }
        nn::set_tuning(t);
        return tuning_dict(t);
      },
      "Sets the executors' tuning constants (keyword arguments, any subset of _tuning()'s) for "
      "networks built from now on; returns the tuning now in effect. Results depend on it: for "
      "benchmarks that sweep the constants, not for use.");
}

void bind_engine_queries(py::module_& m) {
  m.def(
      "network_size",
      [](py::tuple input_shape, const py::list& layers, long max_params) {
        nn::Shape in = input_shape.size() == 1 ? nn::Shape::vector(input_shape[0].cast<long>())
                                               : nn::Shape::sequence(input_shape[0].cast<long>(),
                                                                     input_shape[1].cast<long>());
        std::vector<nn::LayerSpec> specs;
        for (auto l : layers) specs.push_back(to_spec(l.cast<py::dict>()));
        const auto s = nn::network_size(in, specs, max_params);
        return py::make_tuple(s.n_params, s.activations_per_sample);
      },
      py::arg("input_shape"), py::arg("layers"), py::arg("max_params") = 1L << 31,
      "(parameters, activation floats per sample) of an architecture, without allocating it; "
      "ValueError for more than max_params parameters (checked layer by layer before each is "
      "built).");

  m.def(
      "layer_kinds",
      [] {
        std::vector<std::pair<std::string, std::vector<std::string>>> out;
        for (const auto& k : nn::layer_kinds()) out.emplace_back(k.kind, k.fields);
        return out;
      },
      "The layer kinds networks are built of, each as (kind, the spec fields it reads): the "
      "built-in ones, then those registered (nn::register_layer).");

  m.def("loss_names", &nn::loss_names,
        "The losses the core trains with: 'mse', 'gaussian_nll', then those registered "
        "(nn/losses.hpp).");

  m.def("blas_backend", &nn::blas_backend,
        "The library behind the engine's matrix products: 'Eigen' or 'OpenBLAS (<config>)'.");

  m.def("epoch_order", &train::epoch_order, py::arg("seed"), py::arg("epoch"), py::arg("n"),
        "The trainer's sample order for one epoch.");
}

// The training configuration, bound once: fhn_inverse.TrainingConfig builds it (to_core).
void bind_train_config(py::module_& m) {
  py::class_<train::TrainConfig>(m, "TrainConfig")
      .def(py::init<>())
      .def_readwrite("epochs", &train::TrainConfig::epochs)
      .def_readwrite("batch_size", &train::TrainConfig::batch_size)
      .def_property(
          "loss", [](const train::TrainConfig& c) { return nn::loss_name(c.loss); },
          [](train::TrainConfig& c, const std::string& v) { c.loss = nn::parse_loss(v); })
      .def_property(
          "lr", [](const train::TrainConfig& c) { return c.schedule.lr; },
          [](train::TrainConfig& c, double v) { c.schedule.lr = v; })
      .def_property(
          "schedule",
          [](const train::TrainConfig& c) { return nn::Schedule::name(c.schedule.kind); },
          [](train::TrainConfig& c, const std::string& v) {
            c.schedule.kind = nn::Schedule::parse(v);
          })
      .def_property(
          "warmup_steps", [](const train::TrainConfig& c) { return c.schedule.warmup_steps; },
          [](train::TrainConfig& c, long v) { c.schedule.warmup_steps = v; })
      .def_property(
          "step_epochs", [](const train::TrainConfig& c) { return c.schedule.step_epochs; },
          [](train::TrainConfig& c, long v) { c.schedule.step_epochs = v; })
      .def_property(
          "gamma", [](const train::TrainConfig& c) { return c.schedule.gamma; },
          [](train::TrainConfig& c, double v) { c.schedule.gamma = v; })
      .def_property(
          "min_lr", [](const train::TrainConfig& c) { return c.schedule.min_lr; },
          [](train::TrainConfig& c, double v) { c.schedule.min_lr = v; })
      .def_readwrite("clip_norm", &train::TrainConfig::clip_norm)
      .def_readwrite("patience", &train::TrainConfig::patience)
      .def_readwrite("min_delta", &train::TrainConfig::min_delta)
      .def_readwrite("restore_best", &train::TrainConfig::restore_best)
      .def_readwrite("shuffle", &train::TrainConfig::shuffle)
      .def_readwrite("seed", &train::TrainConfig::seed)
      .def_property(
          "n_threads", [](const train::TrainConfig& c) { return c.n_threads; },
          [](train::TrainConfig& c, long long v) { c.n_threads = check_threads(v); })
      .def_readwrite("progress_interval", &train::TrainConfig::progress_interval)
      .def("validate", &train::TrainConfig::validate,
           "Raise ValueError naming the first setting outside its range.");
}

void bind_training(py::module_& m) {
  m.def(
      "fit",
      [](Network& net, nn::Adam& optimizer, const FloatArray& x, const FloatArray& y,
         std::optional<FloatArray> x_val, std::optional<FloatArray> y_val, train::TrainConfig c,
         std::optional<py::function> progress) {
        c.optimizer = optimizer.config();
        c.validate();
        const long n = check_input(net, x, "x");
        const long d = nn::loss_target_size(c.loss, net.output_shape().size());
        check_targets(y, n, d, "y");
        long n_val = 0;
        if (x_val.has_value() != y_val.has_value())
          throw std::invalid_argument("x_val and y_val must be given together");
        if (x_val) {
          n_val = check_input(net, *x_val, "x_val");
          check_targets(*y_val, n_val, d, "y_val");
        }
        std::optional<py::error_already_set> error;
        const train::ProgressFn hook = progress_hook(error, progress);
        train::History h;
        {
          py::gil_scoped_release release;
          h = train::fit(net, optimizer, x.data(), y.data(), n, x_val ? x_val->data() : nullptr,
                         y_val ? y_val->data() : nullptr, n_val, c, hook);
        }
        if (error) throw std::move(*error);
        return history_dict(h);
      },
      py::arg("network"), py::arg("optimizer"), py::arg("x"), py::arg("y"),
      py::arg("x_val") = py::none(), py::arg("y_val") = py::none(), py::kw_only(),
      py::arg("config"), py::arg("progress") = py::none(),
      "Train in place with a TrainConfig; returns the history dict. Raises KeyboardInterrupt on "
      "Ctrl-C after the current optimizer step, with the parameters consistent.");
}

// Training on a stream: blocks(epoch, k) -> (x, y) or None is called with the GIL for each block,
// in order; the arrays it returns are kept until the next call. An exception it raises, or Ctrl-C,
// ends the training (restore-best as for an interruption) and is raised here.
void bind_fit_stream(py::module_& m) {
  m.def(
      "fit_stream",
      [](Network& net, nn::Adam& optimizer, py::function blocks, std::vector<long> block_sizes,
         std::optional<FloatArray> x_val, std::optional<FloatArray> y_val, train::TrainConfig c,
         std::optional<py::function> progress) {
        c.optimizer = optimizer.config();
        c.validate();
        const long d = nn::loss_target_size(c.loss, net.output_shape().size());
        long n_val = 0;
        if (x_val.has_value() != y_val.has_value())
          throw std::invalid_argument("x_val and y_val must be given together");
        if (x_val) {
          n_val = check_input(net, *x_val, "x_val");
          check_targets(*y_val, n_val, d, "y_val");
        }
        std::optional<py::error_already_set> error;
        std::optional<std::pair<FloatArray, FloatArray>> held;  // the block in training
        train::BlockSource source = [&](long epoch, long k) -> train::Block {
          py::gil_scoped_acquire acquire;
          try {
            held.reset();
            py::object got = blocks(epoch, k);
            if (got.is_none()) return {};
            auto pair = got.cast<py::tuple>();
            held.emplace(pair[0].cast<FloatArray>(), pair[1].cast<FloatArray>());
            const long n = check_input(net, held->first, "x");
            check_targets(held->second, n, d, "y");
            return {held->first.data(), held->second.data(), n};
          } catch (py::error_already_set& e) {
            error.emplace(std::move(e));
          } catch (const std::exception& e) {  // a shape error of the block, as ValueError
            PyErr_SetString(PyExc_ValueError, e.what());
            error.emplace();
          }
          return {};
        };
        const train::ProgressFn hook = progress_hook(error, progress);
        train::History h;
        {
          py::gil_scoped_release release;
          h = train::fit_blocks(net, optimizer, source, block_sizes,
                                x_val ? x_val->data() : nullptr, y_val ? y_val->data() : nullptr,
                                n_val, c, hook);
        }
        if (error) throw std::move(*error);
        return history_dict(h);
      },
      py::arg("network"), py::arg("optimizer"), py::arg("blocks"), py::arg("block_sizes"),
      py::arg("x_val") = py::none(), py::arg("y_val") = py::none(), py::kw_only(),
      py::arg("config"), py::arg("progress") = py::none(),
      "Train in place on a stream of blocks (the loop of fit over many blocks); returns the "
      "history "
      "dict, with wait_seconds per epoch and samples. Raises what blocks raised, or "
      "KeyboardInterrupt "
      "on Ctrl-C after the current optimizer step.");
}

void bind_fit_block(py::module_& m) {
  m.def(
      "fit_block",
      [](Network& net, nn::Adam& optimizer, const FloatArray& x, const FloatArray& y,
         train::TrainConfig c, std::uint64_t block, long steps_per_epoch, long total_steps) {
        c.optimizer = optimizer.config();
        c.validate();
        const long n = check_input(net, x, "x");
        check_targets(y, n, nn::loss_target_size(c.loss, net.output_shape().size()), "y");
        std::optional<py::error_already_set> error;
        const std::optional<py::function> no_callback;
        const train::ProgressFn hook = progress_hook(error, no_callback);
        train::BlockResult r;
        {
          py::gil_scoped_release release;
          r = train::fit_block(net, optimizer, x.data(), y.data(), n, c, block, steps_per_epoch,
                               total_steps, hook);
        }
        if (error) throw std::move(*error);
        py::dict d;
        d["loss"] = r.loss;
        d["samples"] = r.samples;
        d["lr"] = r.lr;
        d["interrupted"] = r.interrupted;
        d["step_loss"] =
            copy_out(r.step_loss.data(), {static_cast<py::ssize_t>(r.step_loss.size())});
        return d;
      },
      py::arg("network"), py::arg("optimizer"), py::arg("x"), py::arg("y"), py::kw_only(),
      py::arg("config"), py::arg("block"), py::arg("steps_per_epoch"), py::arg("total_steps"),
      "One pass of shuffled mini-batches over a block (streamed training): order from (seed, "
      "block), "
      "learning rate at the optimizer's global step of a schedule of steps_per_epoch and "
      "total_steps. "
      "Returns {loss, samples, lr, interrupted, step_loss}. Raises KeyboardInterrupt on Ctrl-C "
      "after "
      "the current optimizer step.");
}

}  // namespace

void bind_nn(py::module_& m) {
  py::class_<Network> network(m, "Network");
  bind_network_state(network);
  bind_network_evaluation(network);
  bind_optimizer(m);
  bind_engine_queries(m);
  bind_tuning(m);
  bind_train_config(m);
  bind_training(m);
  bind_fit_block(m);
  bind_fit_stream(m);
}
