// Bindings for ODE models. Arrays: state (S,), theta (P,) float64.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "fhn_inverse/models/fitzhugh_nagumo.hpp"
#include "fhn_inverse/models/hodgkin_huxley.hpp"
#include "fhn_inverse/models/morris_lecar.hpp"

namespace py = pybind11;
using fhn_inverse::models::FitzHughNagumo;
using fhn_inverse::models::HodgkinHuxley;
using fhn_inverse::models::MorrisLecar;

namespace {

// What every model's class has: its parameter names and units (static) and its right-hand side.
template <class Model, class Class>
void bind_model_shape(Class& cls) {
  cls.def_property_readonly_static("param_names",
                                   [](py::object) {
                                     return std::vector<std::string>(Model::param_names.begin(),
                                                                     Model::param_names.end());
                                   })
      .def_property_readonly_static("param_units",
                                    [](py::object) {
                                      return std::vector<std::string>(Model::param_units.begin(),
                                                                      Model::param_units.end());
                                    })
      .def_property_readonly("initial", &Model::initial)
      .def(
          "rhs",
          [](const Model& model, typename Model::State x,
             std::array<double, Model::param_size> theta) {
            typename Model::State dxdt;
            model.rhs(x, dxdt, theta.data());
            return dxdt;
          },
          py::arg("state"), py::arg("theta"))
      .def(
          "jacobians",
          [](const Model& model, typename Model::State x,
             std::array<double, Model::param_size> theta) {
            std::array<double, Model::state_size * Model::state_size> jx;
            std::array<double, Model::state_size * Model::param_size> jt;
            model.jacobians(x, theta.data(), jx.data(), jt.data());
            return py::make_tuple(jx, jt);
          },
          py::arg("state"), py::arg("theta"),
          "(∂f/∂x row-major (S·S,), ∂f/∂θ row-major (S·P,)) at the state and θ.");
}

// Morris–Lecar: its constants as keywords (the Hopf set by default; MorrisLecar.snic() the
// SNIC set) and its initial state (default: rest at V_L).
void bind_morris_lecar(py::module_& m) {
  using C = MorrisLecar::Constants;
  auto make = [](double capacitance, double g_l, double v_l, double v_ca, double v_k, double v1,
                 double v2, double v3, double v4, py::object initial) {
    const C c{capacitance, g_l, v_l, v_ca, v_k, v1, v2, v3, v4};
    return initial.is_none() ? MorrisLecar(c) : MorrisLecar(c, initial.cast<MorrisLecar::State>());
  };
  const C d{};
  py::class_<MorrisLecar> cls(m, "MorrisLecar");
  cls.def(py::init(make), py::arg("capacitance") = d.capacitance, py::arg("g_l") = d.g_l,
          py::arg("v_l") = d.v_l, py::arg("v_ca") = d.v_ca, py::arg("v_k") = d.v_k,
          py::arg("v1") = d.v1, py::arg("v2") = d.v2, py::arg("v3") = d.v3, py::arg("v4") = d.v4,
          py::arg("initial") = py::none())
      .def_property_readonly("constants",
                             [](const MorrisLecar& model) {
                               const C& c = model.constants();
                               py::dict out;
                               out["capacitance"] = c.capacitance;
                               out["g_l"] = c.g_l;
                               out["v_l"] = c.v_l;
                               out["v_ca"] = c.v_ca;
                               out["v_k"] = c.v_k;
                               out["v1"] = c.v1;
                               out["v2"] = c.v2;
                               out["v3"] = c.v3;
                               out["v4"] = c.v4;
                               return out;
                             })
      .def(py::pickle(
          [](const MorrisLecar& model) {
            const C& c = model.constants();
            return py::make_tuple(c.capacitance, c.g_l, c.v_l, c.v_ca, c.v_k, c.v1, c.v2, c.v3,
                                  c.v4, model.initial());
          },
          [](const py::tuple& s) {
            if (s.size() != 10) throw std::runtime_error("MorrisLecar state must have 10 entries");
            const C c{s[0].cast<double>(), s[1].cast<double>(), s[2].cast<double>(),
                      s[3].cast<double>(), s[4].cast<double>(), s[5].cast<double>(),
                      s[6].cast<double>(), s[7].cast<double>(), s[8].cast<double>()};
            return MorrisLecar(c, s[9].cast<MorrisLecar::State>());
          }))
      .def("__repr__", [](const MorrisLecar& model) {
        const C& c = model.constants();
        return "MorrisLecar(v3=" + py::repr(py::float_(c.v3)).cast<std::string>() +
               ", v4=" + py::repr(py::float_(c.v4)).cast<std::string>() + ", ...)";
      });
  bind_model_shape<MorrisLecar>(cls);
}

// Hodgkin–Huxley: C, the reversal potentials and the initial state (default: rest at −65 mV).
void bind_hodgkin_huxley(py::module_& m) {
  const HodgkinHuxley d{};
  py::class_<HodgkinHuxley> cls(m, "HodgkinHuxley");
  cls.def(py::init<double, double, double, double, HodgkinHuxley::State>(),
          py::arg("capacitance") = d.capacitance(), py::arg("e_na") = d.e_na(),
          py::arg("e_k") = d.e_k(), py::arg("e_l") = d.e_l(), py::arg("initial") = d.initial())
      .def_property_readonly("constants",
                             [](const HodgkinHuxley& model) {
                               py::dict out;
                               out["capacitance"] = model.capacitance();
                               out["e_na"] = model.e_na();
                               out["e_k"] = model.e_k();
                               out["e_l"] = model.e_l();
                               return out;
                             })
      .def(py::pickle(
          [](const HodgkinHuxley& model) {
            return py::make_tuple(model.capacitance(), model.e_na(), model.e_k(), model.e_l(),
                                  model.initial());
          },
          [](const py::tuple& s) {
            if (s.size() != 5) throw std::runtime_error("HodgkinHuxley state must have 5 entries");
            return HodgkinHuxley(s[0].cast<double>(), s[1].cast<double>(), s[2].cast<double>(),
                                 s[3].cast<double>(), s[4].cast<HodgkinHuxley::State>());
          }))
      .def("__repr__", [](const HodgkinHuxley& model) {
        return "HodgkinHuxley(capacitance=" +
               py::repr(py::float_(model.capacitance())).cast<std::string>() + ", ...)";
      });
  bind_model_shape<HodgkinHuxley>(cls);
}

}  // namespace

void bind_models(py::module_& m) {
  bind_morris_lecar(m);
  bind_hodgkin_huxley(m);
  py::class_<FitzHughNagumo>(m, "FitzHughNagumo")
      .def(py::init<double, double, FitzHughNagumo::State>(), py::arg("gamma") = 3.0,
           py::arg("zeta") = -0.4, py::arg("initial") = FitzHughNagumo::State{0.0, 0.0})
      .def_property_readonly("gamma", &FitzHughNagumo::gamma)
      .def_property_readonly("zeta", &FitzHughNagumo::zeta)
      .def_property_readonly("initial", &FitzHughNagumo::initial)
      .def(py::pickle(  // (gamma, zeta, initial): all a model is
          [](const FitzHughNagumo& model) {
            return py::make_tuple(model.gamma(), model.zeta(), model.initial());
          },
          [](const py::tuple& state) {
            if (state.size() != 3)
              throw std::runtime_error("FitzHughNagumo state must be (gamma, zeta, initial)");
            return FitzHughNagumo(state[0].cast<double>(), state[1].cast<double>(),
                                  state[2].cast<FitzHughNagumo::State>());
          }))
      .def_property_readonly_static("param_names",
                                    [](py::object) {
                                      return std::vector<std::string>(
                                          FitzHughNagumo::param_names.begin(),
                                          FitzHughNagumo::param_names.end());
                                    })
      .def_property_readonly_static("param_units",
                                    [](py::object) {
                                      return std::vector<std::string>(
                                          FitzHughNagumo::param_units.begin(),
                                          FitzHughNagumo::param_units.end());
                                    })
      .def(
          "rhs",
          [](const FitzHughNagumo& model, FitzHughNagumo::State x,
             std::array<double, FitzHughNagumo::param_size> theta) {
            FitzHughNagumo::State dxdt;
            model.rhs(x, dxdt, theta.data());
            return dxdt;
          },
          py::arg("state"), py::arg("theta"))
      .def("__repr__", [](const FitzHughNagumo& model) {
        return "FitzHughNagumo(gamma=" + py::repr(py::float_(model.gamma())).cast<std::string>() +
               ", zeta=" + py::repr(py::float_(model.zeta())).cast<std::string>() + ", initial=(" +
               py::repr(py::float_(model.initial()[0])).cast<std::string>() + ", " +
               py::repr(py::float_(model.initial()[1])).cast<std::string>() + "))";
      });
}
