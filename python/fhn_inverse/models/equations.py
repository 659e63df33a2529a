"""Equations of an ODE model written as text: a parser with a closed grammar, symbolic derivatives,
and the expressions as C++ or evaluated on NumPy arrays.

The grammar (nothing else is accepted; the text never reaches ``eval`` or ``sympify``)::

    expr   := term (("+" | "-") term)*
    term   := unary (("*" | "/") unary)*
    unary  := ("+" | "-") unary | power
    power  := atom (("^" | "**") unary)?          # right-associative: 2^3^2 = 2^9; -x^2 = -(x^2)
    atom   := number | name | function "(" expr ")" | "(" expr ")"

Numbers are decimal (``3``, ``0.5``, ``1e-3``); names are ASCII identifiers the model declares
(states, parameters, constants); the functions are :data:`FUNCTIONS`. An expression is an
immutable tree of tuples: ``("num", value)``, ``("var", name)``, ``("neg", a)``, ``(op, a, b)``
with op in ``add sub mul div pow``, and ``("call", function, a)``.
"""

from __future__ import annotations

import math
import re

import numpy as np

__all__ = ["FUNCTIONS", "MAX_LENGTH", "MAX_DEPTH", "parse", "names_in", "derivative", "evaluate", "to_cpp",
           "to_text"]

#: The functions an expression may call, each of one argument.
FUNCTIONS = ("exp", "log", "sqrt", "tanh", "cosh", "sinh", "sin", "cos", "tan", "abs", "sign")
#: The longest expression text accepted, in characters.
MAX_LENGTH = 10_000
#: The deepest nesting accepted (parentheses, unary signs, powers, calls).
MAX_DEPTH = 100

_TOKEN = re.compile(r"\s*(?:(?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<op>\*\*|[-+*/^(),]))", re.ASCII)


def _tokens(text: str, what: str) -> list[tuple[str, str, int]]:
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"{what} is {len(text):,} characters long; at most {MAX_LENGTH:,} are accepted")
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            start = len(text) - len(text[pos:].lstrip())
            raise ValueError(f"{what}: unexpected {text[start]!r} at position {start} of {text!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str, names, what: str):
        self.text, self.what = text, what
        self.tokens = _tokens(text, what)
        self.names = None if names is None else set(names)
        self.i = 0
        self.depth = 0

    def error(self, message: str):
        pos = self.tokens[self.i][2] if self.i < len(self.tokens) else len(self.text)
        return ValueError(f"{self.what}: {message} at position {pos} of {self.text!r}")

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None, len(self.text))

    def take(self, value=None):
        kind, tok, _ = self.peek()
        if kind is None or (value is not None and tok != value):
            raise self.error(f"expected {value!r}" if value else "unexpected end")
        self.i += 1
        return kind, tok

    def deeper(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"nesting deeper than {MAX_DEPTH}")

    def parse(self):
        if not self.tokens:
            raise ValueError(f"{self.what} is empty")
        tree = self.expr()
        if self.i != len(self.tokens):
            raise self.error(f"unexpected {self.peek()[1]!r}")
        return tree

    def expr(self):
        tree = self.term()
        while self.peek()[1] in ("+", "-"):
            op = "add" if self.take()[1] == "+" else "sub"
            tree = (op, tree, self.term())
        return tree

    def term(self):
        tree = self.unary()
        while self.peek()[1] in ("*", "/"):
            op = "mul" if self.take()[1] == "*" else "div"
            tree = (op, tree, self.unary())
        return tree

    def unary(self):
        if self.peek()[1] in ("+", "-"):
            sign = self.take()[1]
            self.deeper()
            inner = self.unary()
            self.depth -= 1
            return ("neg", inner) if sign == "-" else inner
        return self.power()

    def power(self):
        base = self.atom()
        if self.peek()[1] in ("^", "**"):
            self.take()
            self.deeper()
            exponent = self.unary()
            self.depth -= 1
            return ("pow", base, exponent)
        return base

    def atom(self):
        kind, tok, _ = self.peek()
        if kind == "num":
            self.take()
            value = float(tok)
            if not math.isfinite(value):
                raise self.error(f"the number {tok} is not finite")
            return ("num", value)
        if kind == "name":
            self.take()
            if self.peek()[1] == "(":
                if tok not in FUNCTIONS:
                    raise self.error(f"unknown function {tok!r} (the functions: {', '.join(FUNCTIONS)})")
                self.take("(")
                self.deeper()
                arg = self.expr()
                self.depth -= 1
                self.take(")")
                return ("call", tok, arg)
            if tok in FUNCTIONS:
                raise self.error(f"the function {tok!r} needs an argument in parentheses")
            if self.names is not None and tok not in self.names:
                raise self.error(f"unknown name {tok!r} (the model's names: {', '.join(sorted(self.names))})")
            return ("var", tok)
        if tok == "(":
            self.take("(")
            self.deeper()
            tree = self.expr()
            self.depth -= 1
            self.take(")")
            return tree
        raise self.error("expected a number, a name, a function or '('" if kind else "unexpected end")


def parse(text: str, names=None, *, what: str = "expression"):
    """The expression tree of ``text``.

    Parameters
    ----------
    text : str
        The expression, in the grammar of this module (at most :data:`MAX_LENGTH` characters,
        nesting at most :data:`MAX_DEPTH` deep).
    names : iterable of str, optional
        The names it may use; None: any identifier that is not a function's name.
    what : str, default "expression"
        What the text is, for messages (e.g. ``"the equation of u"``).

    Returns
    -------
    tuple
        The tree (see the module's documentation).

    Raises
    ------
    ValueError
        Naming the position and what is wrong: a character outside the grammar, an unknown name or
        function, unbalanced parentheses, a non-finite number, text too long or nested too deep.
    TypeError
        If ``text`` is not a string.

    Examples
    --------
    >>> from fhn_inverse.models.equations import parse, to_text
    >>> tree = parse("gamma*(u - u^3/3 + v + zeta)", ["u", "v", "gamma", "zeta"])
    >>> to_text(tree)
    'gamma * (u - u ^ 3 / 3 + v + zeta)'
    >>> parse("-x^2")
    ('neg', ('pow', ('var', 'x'), ('num', 2.0)))
    """
    return _Parser(text, names, what).parse()


def names_in(tree) -> set[str]:
    """The variable names an expression tree uses."""
    kind = tree[0]
    if kind == "var":
        return {tree[1]}
    if kind == "num":
        return set()
    if kind == "call":
        return names_in(tree[2])
    return set().union(*(names_in(t) for t in tree[1:]))


# -- building trees with the obvious simplifications (constants folded, 0 and 1 dropped)
def _num(v: float):
    return ("num", float(v))


def _is(tree, value: float) -> bool:
    return tree[0] == "num" and tree[1] == value


def _neg(a):
    if a[0] == "num":
        return _num(-a[1])
    return a[1] if a[0] == "neg" else ("neg", a)


def _add(a, b):
    if _is(a, 0.0):
        return b
    if _is(b, 0.0):
        return a
    if a[0] == "num" and b[0] == "num":
        return _num(a[1] + b[1])
    return ("sub", a, b[1]) if b[0] == "neg" else ("add", a, b)


def _sub(a, b):
    if _is(b, 0.0):
        return a
    if _is(a, 0.0):
        return _neg(b)
    if a[0] == "num" and b[0] == "num":
        return _num(a[1] - b[1])
    return ("sub", a, b)


def _mul(a, b):
    if _is(a, 0.0) or _is(b, 0.0):
        return _num(0.0)
    if _is(a, 1.0):
        return b
    if _is(b, 1.0):
        return a
    if a[0] == "num" and b[0] == "num":
        return _num(a[1] * b[1])
    if _is(a, -1.0):
        return _neg(b)
    return ("mul", a, b)


def _div(a, b):
    if _is(a, 0.0):
        return _num(0.0)
    if _is(b, 1.0):
        return a
    if a[0] == "num" and b[0] == "num" and b[1] != 0.0:
        return _num(a[1] / b[1])
    return ("div", a, b)


def _pow(a, b):
    if _is(b, 1.0):
        return a
    if _is(b, 0.0):
        return _num(1.0)
    return ("pow", a, b)


def derivative(tree, name: str):
    """The derivative of an expression tree with respect to the variable ``name``, as a tree
    (simplified: constants folded, zeros and ones dropped).

    ``abs`` has the derivative ``sign(x)`` (0 at 0, a subgradient there, so that ``abs(x)^1.5``
    differentiates to 0 at 0 as it should), ``sign`` the derivative 0; ``sqrt`` and ``log`` follow
    their domains.

    Examples
    --------
    >>> from fhn_inverse.models.equations import derivative, parse, to_text
    >>> to_text(derivative(parse("gamma*(u - u^3/3 + v)"), "u"))
    'gamma * (1 - 3 * u ^ 2 / 3)'
    >>> to_text(derivative(parse("exp(-x/2)"), "x"))
    'exp(-x / 2) * (-0.5)'
    """
    kind = tree[0]
    if kind == "num":
        return _num(0.0)
    if kind == "var":
        return _num(1.0 if tree[1] == name else 0.0)
    if kind == "neg":
        return _neg(derivative(tree[1], name))
    if kind == "call":
        fn, a = tree[1], tree[2]
        da = derivative(a, name)
        if _is(da, 0.0):
            return _num(0.0)
        outer = {"exp": lambda: ("call", "exp", a), "log": lambda: _div(_num(1.0), a),
                 "sqrt": lambda: _div(_num(0.5), ("call", "sqrt", a)),
                 "tanh": lambda: _sub(_num(1.0), _pow(("call", "tanh", a), _num(2.0))),
                 "cosh": lambda: ("call", "sinh", a), "sinh": lambda: ("call", "cosh", a),
                 "sin": lambda: ("call", "cos", a), "cos": lambda: _neg(("call", "sin", a)),
                 "tan": lambda: _add(_num(1.0), _pow(("call", "tan", a), _num(2.0))),
                 "abs": lambda: ("call", "sign", a), "sign": lambda: _num(0.0)}[fn]()
        return _mul(outer, da)
    a, b = tree[1], tree[2]
    da, db = derivative(a, name), derivative(b, name)
    if kind == "add":
        return _add(da, db)
    if kind == "sub":
        return _sub(da, db)
    if kind == "mul":
        return _add(_mul(da, b), _mul(a, db))
    if kind == "div":
        if _is(db, 0.0):  # a constant denominator
            return _div(da, b)
        return _div(_sub(_mul(da, b), _mul(a, db)), _pow(b, _num(2.0)))
    # pow: a^b. A constant exponent: b a^(b−1) a'; otherwise a^b (b' log a + b a'/a)
    if not names_in(b) or name not in names_in(b):
        if b[0] == "num":
            return _mul(_mul(b, _pow(a, _num(b[1] - 1.0))), da)
        return _mul(_mul(b, _pow(a, _sub(b, _num(1.0)))), da)
    return _mul(tree, _add(_mul(db, ("call", "log", a)), _div(_mul(b, da), a)))


_NUMPY = {"exp": np.exp, "log": np.log, "sqrt": np.sqrt, "tanh": np.tanh, "cosh": np.cosh, "sinh": np.sinh,
          "sin": np.sin, "cos": np.cos, "tan": np.tan, "abs": np.abs, "sign": np.sign}


def evaluate(tree, values: dict):
    """The expression on NumPy arrays (or numbers): ``values`` maps every name it uses to an array;
    arrays broadcast. A vectorised evaluator that needs no compiler.

    Examples
    --------
    >>> import numpy as np
    >>> from fhn_inverse.models.equations import evaluate, parse
    >>> evaluate(parse("a*x^2 + 1"), {"a": 2.0, "x": np.array([0.0, 1.0, 2.0])}).tolist()
    [1.0, 3.0, 9.0]
    """
    kind = tree[0]
    if kind == "num":
        return tree[1]
    if kind == "var":
        try:
            return values[tree[1]]
        except KeyError:
            raise ValueError(f"no value for {tree[1]!r}") from None
    if kind == "neg":
        return -evaluate(tree[1], values)
    if kind == "call":
        return _NUMPY[tree[1]](evaluate(tree[2], values))
    a, b = evaluate(tree[1], values), evaluate(tree[2], values)
    with np.errstate(all="ignore"):
        return {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
                "pow": np.power}[kind](a, b)


_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "pow": 4}
_SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "^"}


def to_text(tree) -> str:
    """The expression in the grammar's own notation (parsing it gives the same tree)."""
    return _text(tree, 0)


def _text(tree, parent: int, right: bool = False) -> str:
    kind = tree[0]
    if kind == "num":
        v = tree[1]
        s = repr(int(v)) if v == int(v) and abs(v) < 1e15 else repr(v)
        return f"({s})" if v < 0 else s
    if kind == "var":
        return tree[1]
    if kind == "call":
        return f"{tree[1]}({_text(tree[2], 0)})"
    if kind == "neg":
        inner = _text(tree[1], _PRECEDENCE["neg"] + 1)
        return f"-{inner}" if parent <= _PRECEDENCE["neg"] else f"(-{inner})"
    p = _PRECEDENCE[kind]
    if kind == "pow":  # right-associative: the left side needs parentheses at equal precedence
        s = f"{_text(tree[1], p + 1)} ^ {_text(tree[2], p)}"
    else:
        s = f"{_text(tree[1], p)} {_SYMBOL[kind]} {_text(tree[2], p + 1)}"
    return f"({s})" if p < parent else s


def to_cpp(tree, symbols: dict, functions: dict | None = None, power: str = "std::pow") -> str:
    """The expression as C++: ``symbols`` maps each name to its C++ expression
    (``{"u": "x[0]", "gamma": "gamma_"}``). Small integer powers are products; the functions are
    ``std::``'s unless ``functions`` maps a function's name to another C++ callable (SIMD lanes:
    ``{"exp": "vmath::exp"}``), and other powers call ``power``.

    Examples
    --------
    >>> from fhn_inverse.models.equations import parse, to_cpp
    >>> to_cpp(parse("gamma*(u - u^3/3)"), {"u": "x[0]", "gamma": "c[0]"})
    '(c[0] * (x[0] - ((x[0] * x[0] * x[0]) / 3.0)))'
    >>> to_cpp(parse("exp(-u)"), {"u": "x[0]"}, {"exp": "vmath::exp"})
    'vmath::exp((-x[0]))'
    """
    functions = {"sign": "fhn_inverse::vmath::sign", **(functions or {})}
    kind = tree[0]
    if kind == "num":
        return repr(float(tree[1])) if tree[1] >= 0 else f"({float(tree[1])!r})"
    if kind == "var":
        return symbols[tree[1]]
    if kind == "neg":
        return f"(-{to_cpp(tree[1], symbols, functions, power)})"
    if kind == "call":
        return f"{functions.get(tree[1], 'std::' + tree[1])}({to_cpp(tree[2], symbols, functions, power)})"
    a = to_cpp(tree[1], symbols, functions, power)
    if kind == "pow":
        b = tree[2]
        if b[0] == "num" and b[1] == int(b[1]) and 2 <= b[1] <= 4:
            return "(" + " * ".join([a] * int(b[1])) + ")"
        return f"{power}({a}, {to_cpp(b, symbols, functions, power)})"
    return f"({a} {_SYMBOL[kind]} {to_cpp(tree[2], symbols, functions, power)})"
