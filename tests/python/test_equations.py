"""Equations as text: the closed grammar, its refusals, symbolic derivatives against finite
differences, and FitzHugh–Nagumo written as equations against the built-in model."""

import math

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse.models.equations import (FUNCTIONS, MAX_DEPTH, MAX_LENGTH, derivative, evaluate, names_in, parse,
                                          to_cpp, to_text)

FHN = {"u": "gamma*(u - u^3/3 + v + zeta)", "v": "-(u - theta0 + theta1*v)/gamma"}
FHN_NAMES = ["u", "v", "theta0", "theta1", "gamma", "zeta"]


def test_precedence_and_associativity_follow_the_usual_rules():
    cases = {"2^3^2": 512.0, "-2^2": -4.0, "(-2)^2": 4.0, "2*3+4": 10.0, "2+3*4": 14.0, "8/4/2": 1.0,
             "2-3-4": -5.0, "2**-1": 0.5, "-(-3)": 3.0, "+4": 4.0, "1e-3*1000": 1.0, ".5+1.": 1.5,
             "2^-2^2": 2.0 ** -4, "exp(0)": 1.0, "3 - -2": 5.0}
    for text, value in cases.items():
        assert evaluate(parse(text), {}) == pytest.approx(value), text
        assert evaluate(parse(to_text(parse(text))), {}) == pytest.approx(value), text  # round trip
    assert parse(to_text(parse("a - (b - c) / (d * e) ^ f"))) == parse("a - (b - c) / (d * e) ^ f")


@pytest.mark.parametrize("text, match", [
    ("__import__('os').system('true')", "unexpected"),
    ("a.b", r"unexpected '\.'"),
    ("1; 2", "unexpected ';'"),
    ("lambda: 0", "unexpected ':'"),
    ("x[0]", r"unexpected '\['"),
    ("exp", "needs an argument"),
    ("exp(1, 2)", r"expected '\)'"),
    ("eval(1)", "unknown function 'eval'"),
    ("(1 + 2", r"expected '\)'"),
    ("1 + 2)", r"unexpected '\)'"),
    ("", "is empty"),
    ("   ", "is empty"),
    ("2 3", "unexpected '3'"),
    ("1e999", "not finite"),
    ("x = 1", "unexpected '='"),
    ("١ + 1", "unexpected"),  # an Arabic-Indic digit: the grammar's digits are ASCII
    ("é", "unexpected"),
    ("w + 1", "unknown name 'w'"),
])
def test_text_outside_the_grammar_is_refused_naming_what_and_where(text, match):
    with pytest.raises(ValueError, match=match):
        parse(text, FHN_NAMES)


def test_size_and_depth_are_bounded():
    with pytest.raises(ValueError, match=f"at most {MAX_LENGTH:,}"):
        parse("u+" * (MAX_LENGTH // 2) + "u")
    with pytest.raises(ValueError, match=f"nesting deeper than {MAX_DEPTH}"):
        parse("(" * (MAX_DEPTH + 1) + "u" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(ValueError, match="nesting deeper"):
        parse("-" * (MAX_DEPTH + 1) + "u")
    parse("(" * (MAX_DEPTH - 1) + "u" + ")" * (MAX_DEPTH - 1))  # just inside
    with pytest.raises(TypeError, match="must be a string"):
        parse(b"u")


def test_fitzhugh_nagumo_as_equations_is_the_built_in_model():
    rng = np.random.default_rng(0)
    model = fi.FitzHughNagumo()
    trees = {k: parse(v, FHN_NAMES, what=f"the equation of {k}") for k, v in FHN.items()}
    assert names_in(trees["v"]) == {"u", "v", "theta0", "theta1", "gamma"}
    for _ in range(20):
        x, theta = rng.normal(size=2), rng.uniform(-0.5, 1.5, size=2)
        env = {"u": x[0], "v": x[1], "theta0": theta[0], "theta1": theta[1], "gamma": 3.0, "zeta": -0.4}
        rhs = [evaluate(trees[k], env) for k in ("u", "v")]
        np.testing.assert_allclose(rhs, model.rhs(x.tolist(), theta.tolist()), rtol=1e-14, atol=1e-15)
        jx, jt = model.jacobians(x.tolist(), theta.tolist())
        ours_x = [evaluate(derivative(trees[f], s), env) for f in ("u", "v") for s in ("u", "v")]
        ours_t = [evaluate(derivative(trees[f], p), env) for f in ("u", "v") for p in ("theta0", "theta1")]
        np.testing.assert_allclose(ours_x, jx, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(ours_t, jt, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_every_derivative_matches_central_differences(fn):
    tree = parse(f"{fn}(a*x^2 + x/b) * x + b^x / (1 + x^2) - {fn}(x)^2")  # arguments inside every domain
    rng = np.random.default_rng(1)
    x = rng.uniform(0.2, 0.7, 200)
    env = {"x": x, "a": 0.8, "b": 1.7}
    for name in ("x", "a", "b"):
        h = 1e-6
        plus, minus = dict(env), dict(env)
        plus[name] = env[name] + h
        minus[name] = env[name] - h
        fd = (evaluate(tree, plus) - evaluate(tree, minus)) / (2 * h)
        np.testing.assert_allclose(evaluate(derivative(tree, name), env), fd, rtol=1e-6, atol=1e-8, err_msg=name)
    assert derivative(tree, "zz") == ("num", 0.0)


def test_the_cpp_form_computes_what_the_tree_does():
    tree = parse("gamma*(u - u^3/3 + v + zeta) + exp(-u^2) - 2^u + sqrt(abs(v))")
    code = to_cpp(tree, {"u": "x[0]", "v": "x[1]", "gamma": "c[0]", "zeta": "c[1]"})
    assert "x[0] * x[0] * x[0]" in code and "std::pow(2.0, x[0])" in code and "std::exp(" in code
    # the C++ text, read back by Python's grammar of the same operators (a test of the emitted form)
    py = code.replace("std::", "math.").replace("x[0]", "u").replace("x[1]", "v").replace("c[0]", "g").replace(
        "c[1]", "z").replace("math.abs", "abs")
    u, v, g, z = 0.3, -0.7, 3.0, -0.4
    value = eval(py, {"math": math, "u": u, "v": v, "g": g, "z": z})  # our own emitted text, not user input
    assert value == pytest.approx(evaluate(tree, {"u": u, "v": v, "gamma": g, "zeta": z}), rel=1e-14)
