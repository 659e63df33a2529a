"""A user model without a compiler: the same model object and batch functions as a compiled one
(:mod:`~fhn_inverse.models.codegen`), evaluated with NumPy.

The equations' trees are evaluated on arrays of all the rows at once and integrated with the
compiled path's scheme — Runge–Kutta–Fehlberg 7(8) with Odeint's step-size control, per row (the
rows advance together, each with its own step, the last step before each grid time shortened to
end on it) — with the forward sensitivities for :func:`~fhn_inverse.sensitivities` and Laplace
covariances. Series agree with the compiled model's within the tolerances (not bitwise: the
rounding differs); it is 20–40× slower than the compiled Odeint path and some 250× slower than
the SIMD lanes (``benchmarks/user_models.py``), and it needs nothing but NumPy.
:class:`~fhn_inverse.ODEModel` uses it where compiling is impossible (``backend="numpy"``, or
``"auto"`` without a compiler).
"""

from __future__ import annotations

import numpy as np

from . import equations as eq

__all__ = ["NumpyBackend"]

# Runge–Kutta–Fehlberg 7(8), the compiled integrators' scheme (simulate/lanes.hpp): stages, the
# 8th-order weights, and the error estimate 41/840 (−k1 − k11 + k12 + k13).
_A = [[], [2 / 27], [1 / 36, 1 / 12], [1 / 24, 0, 1 / 8], [5 / 12, 0, -25 / 16, 25 / 16],
      [1 / 20, 0, 0, 1 / 4, 1 / 5], [-25 / 108, 0, 0, 125 / 108, -65 / 27, 125 / 54],
      [31 / 300, 0, 0, 0, 61 / 225, -2 / 9, 13 / 900], [2, 0, 0, -53 / 6, 704 / 45, -107 / 9, 67 / 90, 3],
      [-91 / 108, 0, 0, 23 / 108, -976 / 135, 311 / 54, -19 / 60, 17 / 6, -1 / 12],
      [2383 / 4100, 0, 0, -341 / 164, 4496 / 1025, -301 / 82, 2133 / 4100, 45 / 82, 45 / 164, 18 / 41],
      [3 / 205, 0, 0, 0, 0, -6 / 41, -3 / 205, -3 / 41, 3 / 41, 6 / 41, 0],
      [-1777 / 4100, 0, 0, -341 / 164, 4496 / 1025, -289 / 82, 2193 / 4100, 51 / 82, 33 / 164, 12 / 41, 0, 1]]
_B = [0, 0, 0, 0, 0, 34 / 105, 9 / 35, 9 / 35, 9 / 280, 9 / 280, 0, 41 / 840, 41 / 840]
_E = 41 / 840
_FLOOR_ERR = 5.0**-8
_MAX_REJECTIONS = 500


def _integrate(f, y0, options, bounded: int, observe):
    """Rows of y' = f(y, rows) on the grid of ``options``; observe(y, rows) -> (m, ...) at each grid
    time. Returns (observations (N, L, ...), status (N,) int8: 0 ok, 1 diverged, 2 step budget)."""
    t_obs = np.asarray(options.t_obs)
    n, L = y0.shape[0], t_obs.size
    y, t = y0.astype(np.float64).copy(), np.full(n, float(options.t0))
    h = np.full(n, float(options.dt0))
    k = np.zeros(n, dtype=np.int64)
    steps, rejected = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    status = np.zeros(n, dtype=np.int8)
    first = observe(y[:1], np.arange(1))
    out = np.full((n, L, *first.shape[1:]), np.nan)
    active = np.ones(n, dtype=bool)

    def record(rows):
        while rows.size:
            due = rows[(k[rows] < L) & (t_obs[np.minimum(k[rows], L - 1)] <= t[rows])]
            if not due.size:
                break
            out[due, k[due]] = observe(y[due], due)
            k[due] += 1
        active[rows[k[rows] >= L]] = False

    record(np.arange(n))
    while active.any():
        rows = np.flatnonzero(active)
        yr, tr = y[rows], t[rows]
        gap = t_obs[k[rows]] - tr
        landing = h[rows] >= gap  # the step is shortened to end on the next grid time
        step = np.where(landing, gap, h[rows])
        stages = [f(yr, rows)]
        for s in range(1, 13):
            ys = yr + step[:, None] * sum(a * stages[j] for j, a in enumerate(_A[s]) if a != 0)
            stages.append(f(ys, rows))
        y_new = yr + step[:, None] * sum(b * stages[j] for j, b in enumerate(_B) if b != 0)
        err_vec = (step * _E)[:, None] * (stages[11] + stages[12] - stages[0] - stages[10])
        # Odeint's controller: max_i |err_i| / (atol + rtol (|x_i| + |h| |f_i|)); a rejected step
        # shrinks h by max(0.9 err^(-1/6), 0.2), an accepted one with err < 0.5 grows it by
        # 0.9 max(err, 5^-8)^(-1/8)
        scale = options.atol + options.rtol * (np.abs(yr) + np.abs(step)[:, None] * np.abs(stages[0]))
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            err = np.max(np.abs(err_vec) / scale, axis=1)
            ok = np.isfinite(err) & (err <= 1.0) & np.isfinite(y_new).all(axis=1)
            shrink = np.maximum(0.9 * np.where(np.isfinite(err), err, 1e300) ** (-1 / 6), 0.2)
            grow = np.where(err < 0.5, 0.9 * np.maximum(err, _FLOOR_ERR) ** (-1 / 8), 1.0)
        h[rows] = np.where(ok, np.where(landing, np.maximum(h[rows], step * grow), step * grow), step * shrink)
        acc, rej = rows[ok], rows[~ok]
        rejected[rej] += 1
        rejected[acc] = 0
        y[acc] = y_new[ok]
        t[acc] = np.where(landing[ok], t_obs[k[acc]], tr[ok] + step[ok])
        steps[acc] += 1
        bad = ~np.isfinite(y[acc]).all(axis=1) | ~(np.abs(y[acc, :bounded]) <= options.max_abs_state).all(axis=1)
        status[acc[bad]] = 1
        status[rej[rejected[rej] > _MAX_REJECTIONS]] = 2
        status[acc[steps[acc] > options.max_steps]] = 2
        active[status != 0] = False
        record(acc[status[acc] == 0])
    out[status != 0] = np.nan
    return out, status


class _Configured:
    """A user model's constants, initial state and free set: the compiled model object's interface."""

    def __init__(self, backend, *args, initial=None, free=None, **values):
        spec = self._spec = backend.spec
        C = len(spec.constants)
        if len(args) > C + 1:
            raise TypeError(f"{spec.name} takes at most {C + 1} positional arguments, got {len(args)}")
        constants = dict(spec.constants)
        for name, v in zip(spec.constants, args[:C]):
            constants[name] = float(v)
        if len(args) > C:
            initial = args[C]
        fixed = {}
        for key, v in values.items():
            if key in spec.parameters:
                fixed[key] = float(v)
            elif key in constants:
                constants[key] = float(v)
            else:
                raise TypeError(f"{spec.name} got an unknown keyword '{key}'; it takes its constants "
                                f"({', '.join(spec.constants)}), initial, free and the values of parameters that are "
                                "not free")
        for name, v in constants.items():
            if not np.isfinite(v):
                raise ValueError(f"{name} must be finite, got {v}")
        self._c = np.array([constants[c] for c in spec.constants], dtype=np.float64)
        if initial is None:
            env = dict(zip(spec.constants, self._c))
            initial = [float(eq.evaluate(spec.initial_trees[s], env)) for s in spec.states]
        self._x0 = np.array(initial, dtype=np.float64)
        if self._x0.shape != (len(spec.states),) or not np.isfinite(self._x0).all():
            raise ValueError(f"initial must be {len(spec.states)} finite values, got {initial!r}")
        middle = [0.5 * sum(spec.ranges[p]) if p in spec.ranges else 0.0 for p in spec.parameters]
        self._theta = np.array(middle)
        names = list(spec.parameters) if free is None else free
        if isinstance(names, str):
            raise TypeError(f"free must be a sequence of quantity names, got the string '{names}'")
        if free is None and fixed:
            raise ValueError(f"{spec.name}: '{next(iter(fixed))}' is free in the default free set; a fixed value for "
                             "it needs a free set without it (free=...)")
        known = self.quantity_names
        for i, q in enumerate(names):
            if q not in known:
                raise ValueError(f"'{q}' is not a quantity of {spec.name}; its quantities are {', '.join(known)}")
            if q in list(names)[:i]:
                raise ValueError(f"'{q}' appears twice in the free set")
            if q in fixed:
                raise ValueError(f"{spec.name}: '{q}' is free; it takes no fixed value")
        if not names:
            raise ValueError(f"a free set of {spec.name} names at least one of its quantities ({', '.join(known)})")
        for p, v in fixed.items():
            self._theta[spec.parameters.index(p)] = v
        self._free = tuple(names)

    # -- what the compiled model object declares
    param_names = property(lambda self: list(self._spec.parameters))
    constant_names = property(lambda self: list(self._spec.constants))
    state_names = property(lambda self: list(self._spec.states))
    quantity_names = property(lambda self: [*self._spec.parameters, *self._spec.constants,
                                            *(f"{s}0" for s in self._spec.states)])
    param_units = property(lambda self: [self._spec.units.get(p, "dimensionless") for p in self._spec.parameters])
    prior_lower = property(lambda self: [self._spec.ranges.get(p, (np.nan, np.nan))[0] for p in self._spec.parameters])
    prior_upper = property(lambda self: [self._spec.ranges.get(p, (np.nan, np.nan))[1] for p in self._spec.parameters])
    grid_step = property(lambda self: self._spec.grid_step)
    grid_points = property(lambda self: self._spec.grid_points)
    initial = property(lambda self: tuple(float(v) for v in self._x0))
    constants = property(lambda self: dict(zip(self._spec.constants, map(float, self._c))))
    free = property(lambda self: self._free)
    is_default_free = property(lambda self: self._free == tuple(self._spec.parameters))
    fixed = property(lambda self: {p: float(self._theta[i]) for i, p in enumerate(self._spec.parameters)
                                   if p not in self._free})

    @property
    def units(self) -> dict:
        return self._spec.quantity_units()

    @property
    def ranges(self) -> dict:
        return {q: tuple(r) for q, r in self._spec.ranges.items()}

    def __getattr__(self, name):
        if name.startswith("_") or name not in self._spec.constants:
            raise AttributeError(name)
        return self.constants[name]

    def _env(self, x, theta, c) -> dict:
        spec = self._spec
        env = {s: x[:, i] for i, s in enumerate(spec.states)}
        env.update({p: theta[:, j] for j, p in enumerate(spec.parameters)})
        env.update({name: c[:, i] for i, name in enumerate(spec.constants)})
        return env

    def rhs(self, state, theta):
        env = self._env(np.atleast_2d(np.asarray(state, float)), np.atleast_2d(np.asarray(theta, float)), self._c[None])
        return [float(np.broadcast_to(eq.evaluate(self._spec.trees[s], env), (1,))[0]) for s in self._spec.states]

    def jacobians(self, state, theta):
        spec = self._spec
        env = self._env(np.atleast_2d(np.asarray(state, float)), np.atleast_2d(np.asarray(theta, float)), self._c[None])
        value = lambda tree: float(np.broadcast_to(eq.evaluate(tree, env), (1,))[0])  # noqa: E731
        jx = [value(eq.derivative(spec.trees[a], b)) for a in spec.states for b in spec.states]
        jt = [value(eq.derivative(spec.trees[a], p)) for a in spec.states for p in spec.parameters]
        return jx, jt

    def __repr__(self) -> str:
        parts = [f"{c}={v!r}" for c, v in self.constants.items()]
        parts.append("initial=(" + ", ".join(repr(v) for v in self.initial) + ")")
        if not self.is_default_free:
            comma = "," if len(self._free) == 1 else ""
            parts.append("free=(" + ", ".join(repr(q) for q in self._free) + comma + ")")
            parts += [f"{p}={v!r}" for p, v in self.fixed.items()]
        return f"{self._spec.name}(" + ", ".join(parts) + ")"

    def rows(self, z: np.ndarray):
        """(θ (N, P), constants (N, C), initial states (N, S)) of the rows z (N, k) of the free set."""
        spec, n = self._spec, z.shape[0]
        theta, c, x0 = np.tile(self._theta, (n, 1)), np.tile(self._c, (n, 1)), np.tile(self._x0, (n, 1))
        P, C = len(spec.parameters), len(spec.constants)
        for j, q in enumerate(self._free):
            i = self.quantity_names.index(q)
            (theta[:, i] if i < P else c[:, i - P] if i < P + C else x0[:, i - P - C])[:] = z[:, j]
        return theta, c, x0


class NumpyBackend:
    """The batch functions of a compiled user model's module, in NumPy (see the module's documentation)."""

    def __init__(self, spec):
        self.spec = spec
        self._d_x = [[eq.derivative(spec.trees[a], b) for b in spec.states] for a in spec.states]
        self._d_q = {q: [eq.derivative(spec.trees[a], q) for a in spec.states]
                     for q in (*spec.parameters, *spec.constants)}
        self._obs = spec.observe_trees  # one per channel; rows of a batch hold the K channels one after another
        self._d_obs = [[eq.derivative(tree, s) for s in spec.states] for tree in self._obs]

    def MODEL(self, *args, **kwargs):  # noqa: N802 - the compiled module's name for its model class
        return _Configured(self, *args, **kwargs)

    def _check(self, model, z):
        z = np.asarray(z, dtype=np.float64)
        if z.ndim != 2 or z.shape[0] < 1 or z.shape[1] != len(model.free):
            raise ValueError(f"theta must have {len(model.free)} columns, got shape {z.shape}")
        bad = np.argwhere(~np.isfinite(z))
        if bad.size:
            i, j = bad[0]
            raise ValueError(f"theta[{i}, {j}] must be finite, got {z[i, j]}")
        return model.rows(z)

    def _value(self, tree, env, m):
        return np.broadcast_to(eq.evaluate(tree, env), (m,))

    def simulate_batch(self, model, z, options, n_threads=0):
        theta, c, x0 = self._check(model, z)
        spec = self.spec

        def f(y, rows):
            env = model._env(y, theta[rows], c[rows])
            return np.column_stack([self._value(spec.trees[s], env, len(rows)) for s in spec.states])

        def observe(y, rows):
            env = model._env(y, theta[rows], c[rows])
            return np.column_stack([self._value(tree, env, len(rows)) for tree in self._obs])

        with np.errstate(all="ignore"):
            u, status = _integrate(f, x0, options, len(spec.states), observe)  # (N, L, K)
        return np.ascontiguousarray(u.transpose(0, 2, 1)).reshape(len(u), -1), status

    def sensitivities_batch(self, model, z, options, n_threads=0):
        theta, c, x0 = self._check(model, z)
        spec, S, k = self.spec, len(self.spec.states), len(model.free)
        P, C = len(spec.parameters), len(spec.constants)
        kinds = [model.quantity_names.index(q) for q in model.free]

        def f(y, rows):
            m = len(rows)
            env = model._env(y[:, :S], theta[rows], c[rows])
            out = [self._value(spec.trees[s], env, m) for s in spec.states]
            jx = np.array([[self._value(d, env, m) for d in row] for row in self._d_x])  # (S, S, m)
            for j, i in enumerate(kinds):
                sens = y[:, S * (1 + j):S * (2 + j)].T  # (S, m)
                forcing = ([self._value(d, env, m) for d in self._d_q[(*spec.parameters, *spec.constants)[i]]]
                           if i < P + C else [np.zeros(m)] * S)
                out += [np.einsum("bm,bm->m", jx[a], sens) + forcing[a] for a in range(S)]
            return np.column_stack(out)

        def observe(y, rows):  # (m, K, 1 + k): each channel's value and sensitivities
            env = model._env(y[:, :S], theta[rows], c[rows])
            out = []
            for tree, d_obs in zip(self._obs, self._d_obs):
                grad = [self._value(d, env, len(rows)) for d in d_obs]
                J = [sum(grad[a] * y[:, S * (1 + j) + a] for a in range(S)) for j in range(k)]
                out.append(np.column_stack([self._value(tree, env, len(rows)), *J]))
            return np.stack(out, axis=1)

        y0 = np.zeros((len(x0), S * (1 + k)))
        y0[:, :S] = x0
        for j, i in enumerate(kinds):
            if i >= P + C:
                y0[:, S * (1 + j) + (i - P - C)] = 1.0  # ∂x(t0)/∂x0 = I
        with np.errstate(all="ignore"):
            out, status = _integrate(f, y0, options, S, observe)  # (N, L, K, 1 + k)
        out = np.ascontiguousarray(out.transpose(0, 2, 1, 3))  # (N, K, L, 1 + k): the core's layout
        n = len(out)
        return out[..., 0].reshape(n, -1), out[..., 1:].reshape(n, -1, k), status

    def laplace_batch(self, model, z, options, s, rho, prior_precision, n_threads=0):
        _, J, status = self.sensitivities_batch(model, z, options, n_threads)
        n, K, k = len(J), len(self._obs), J.shape[2]
        s, rho = np.asarray(s, float).reshape(n, K), np.asarray(rho, float).reshape(n, K)
        J = J.reshape(n, K, -1, k)  # each channel's noise is AR(1) with its own (s, ρ)
        W = J.copy()
        W[:, :, 1:] -= rho[:, :, None, None] * J[:, :, :-1]
        W[:, :, 0] *= np.sqrt(1.0 - rho**2)[:, :, None]
        info = np.einsum("nclp,nclq->ncpq", W, W) / (s**2 * (1.0 - rho**2))[:, :, None, None]
        info = info.sum(axis=1)
        cov = np.full_like(info, np.nan)
        for i in np.flatnonzero(status == 0):
            try:
                C = np.linalg.inv(np.linalg.cholesky(info[i] + prior_precision))
                cov[i] = C.T @ C
            except np.linalg.LinAlgError:
                pass
        info[status != 0] = np.nan
        return cov, info.reshape(len(info), k, k), status
