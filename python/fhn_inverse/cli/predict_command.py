"""The ``predict`` command: estimates for series in a file — the map's means, with calibrated
standard deviations and bounds inside the prior's support for maps with a covariance, or the
noise-aware MAP fit of the ODE (``--fit``) — and, per series, checks that need no truth: a flag
(``ood``) for series outside what the map was trained on and, for fits, the Ljung–Box p-value of
the whitened residual of the fitted series (``ppc_p``) and the residual's standard deviation
(``residual_sd``); flagged series are summarised on stderr."""

from __future__ import annotations

import sys

import numpy as np

from .._util.io import atomic_open
from .common import _model_inputs, _output_file, _sidecar

__all__ = ["_predict"]

_ONE_SD = 0.6826894921370859  # the probability of ±1 sd of a normal law


def _predict(args) -> int:
    import fhn_inverse as fi

    out = _output_file(args.output) if args.output else None
    if not 0 < args.level < 1:
        raise ValueError(f"--level must be in (0, 1), got {args.level}")
    model = fi.Ensemble.load(args.model) if args.model.is_dir() else fi.InverseMap.load(args.model)
    table = fi.read_series(args.series, layout=args.layout, decimal=args.decimal)
    series = table.d
    x, names = _model_inputs(model, args.model, series)
    on_study_grid = table.t is not None and table.t.shape == fi.DEFAULT_GRID.shape and np.allclose(
        table.t, fi.DEFAULT_GRID, rtol=0, atol=1e-9 * fi.DEFAULT_GRID[-1])
    if model.inputs is not None:
        grid = {"t": table.t, "resample": args.resample}
    elif (table.t is not None and not on_study_grid) or args.resample:  # files from before: the study's grid
        raise ValueError(f"{args.model} records no grid (a file written before maps recorded it: 'train' then used "
                         "the study's grid, t = 0, 0.2, …, 199.8), so "
                         f"{'the times of ' + str(args.series) + ' are not its grid' if table.t is not None else ''}"
                         f"{'' if table.t is not None else '--resample has no grid to interpolate onto'}: train it "
                         "again, or give series on the study's grid")
    else:
        grid = {}
    pred = model.predict(x, **grid)
    names = list(names or model.describe()["targets"])  # the names 'info' shows
    if len(names) != pred.shape[1]:
        raise ValueError(f"model sidecar {_sidecar(args.model)} names {len(names)} targets, "
                         f"the model predicts {pred.shape[1]}")
    columns = {name: pred[:, j] for j, name in enumerate(names)}
    first = model.members[0] if isinstance(model, fi.Ensemble) else model  # what the members share
    ode = _ode(first)  # the model of the map's training data (FitzHugh–Nagumo where it records none)
    k = len(ode.free)
    times = _times(model, table, ode)
    joint_ar1 = pred.shape[1] == k + 2 and (first.noise is None or isinstance(first.noise, fi.AR1Noise))
    theta, rho = pred[:, :k], (pred[:, k + 1] if joint_ar1 else None)  # a joint map's own ρ
    pct = f"{100 * args.level:g}"
    if args.fit:  # the noise-aware MAP fit of the ODE from the map's estimate, with Laplace intervals
        fit = _fit(first, ode, pred, series, times, args)
        theta, rho = fit.theta, fit.noise[..., 1]
        columns = {}
        for suffix, values in (("", fit.theta), ("_sd", fit.sd), (f"_lo{pct}", fit.lower), (f"_hi{pct}", fit.upper)):
            columns.update({f"{n}{suffix}": values[:, j] for j, n in enumerate(names[:k])})
        if fit.noise.ndim == 3:  # each observed quantity's noise
            for c, channel in enumerate(ode.observed):
                columns.update({f"noise_sd[{channel}]": fit.noise[:, c, 0],
                                f"noise_rho[{channel}]": fit.noise[:, c, 1]})
        else:
            columns.update({"noise_sd": fit.noise[:, 0], "noise_rho": fit.noise[:, 1]})
        columns.update({"fit_mse": fit.mse, "fit_flag": fit.flag.astype(float)})
    elif model.has_cov:  # the map's Gaussian: standard deviations and central intervals
        sd, sd_name = _standard_deviations(model, x, grid)
        lo, hi = model.interval(x, args.level, **grid)
        columns.update({f"{n}_{sd_name}": sd[:, j] for j, n in enumerate(names)})
        columns.update({f"{n}_lo{pct}": lo[:, j] for j, n in enumerate(names)})
        columns.update({f"{n}_hi{pct}": hi[:, j] for j, n in enumerate(names)})
    if args.check and times is not None and theta.shape[1] == k:
        columns.update(_series_checks(first, ode, theta, series, times, rho, table.ids, args.threads, args.fit,
                                      args.keep_ood))
    _write(out, table.ids, columns)
    if out is not None:
        print(f"wrote {len(series)} predictions to {out}")
    return 0


def _ode(first):
    """The ODE model a map (an ensemble's first member) was trained on, from its record;
    FitzHugh–Nagumo without one."""
    import fhn_inverse as fi

    record = (first.trained_on or {}).get("model")
    return fi.models.model_from_dict(record) if record else fi.FitzHughNagumo()


def _fit(first, ode, pred, series, times, args):
    """``map_fit`` of each series from the map's estimate: the noise as the user gives it
    (``--noise-sd``, ``--noise-rho``), else a joint map's estimate of it, else estimated from the
    residuals; the prior the map records (else the study's)."""
    import fhn_inverse as fi

    k = len(ode.free)
    if pred.shape[1] < k:
        raise ValueError(f"--fit needs a map that predicts the model's {k} parameters, this one gives "
                         f"{pred.shape[1]} value(s)")
    if times is None:
        raise ValueError(f"--fit needs the series' times: {args.series} has none and its series are not on the "
                         "map's grid; give a time row or column")
    prior = first.prior if first.prior is not None and np.asarray(first.prior.lower).shape[0] == k else None
    noise = {"noise_sd": args.noise_sd, "noise_rho": args.noise_rho}
    joint_ar1 = pred.shape[1] == k + 2 and (first.noise is None or isinstance(first.noise, fi.AR1Noise))
    if args.noise_sd is None and args.noise_rho is None and joint_ar1:
        noise = {"noise": pred[:, k:k + 2]}  # a joint map's (σ, ρ), in the study's convention
    return fi.map_fit(pred[:, :k], series, t=times, prior=prior if prior is not None else fi.default_prior(ode),
                      model=ode, level=args.level, n_threads=args.threads, **noise)


def _times(model, table, ode):
    """The series' times: the file's, else the map's grid where its length matches, else the ODE
    model's default grid where that does; None where none is known (the check is then left out)."""
    import fhn_inverse as fi

    if table.t is not None:
        return table.t
    length = table.d.shape[-1]
    if model.inputs is not None and int(model.inputs["grid"][2]) == length:
        t0, dt, _ = model.inputs["grid"]
        return t0 + dt * np.arange(length)
    grid = fi.models.model_grid(ode)
    return grid if len(grid) == length else None


def _standard_deviations(model, x, grid) -> tuple[np.ndarray, str]:
    """Each parameter's standard deviation as the intervals beside it state it, and its column's
    name: for a calibrated map half the width of its calibrated 68.27 % interval (±1 sd of a
    normal law), named "sd"; for an uncalibrated one the head's own, named "sd_uncalibrated"."""
    import fhn_inverse as fi

    members = model.members if isinstance(model, fi.Ensemble) else [model]
    mean, cov = model.predict(x, return_cov=True, **grid)
    if model.calibration is not None:
        lo, hi = model.calibration.interval(mean, cov, _ONE_SD)
        return 0.5 * (hi - lo), "sd"
    scaled = all(m.cov_scale != 1.0 for m in members)
    return np.sqrt(np.diagonal(cov, axis1=1, axis2=2)), "sd" if scaled else "sd_uncalibrated"


def _series_checks(first, ode, theta, series, times, rho, ids, n_threads, fitted: bool, keep_ood: bool) -> dict:
    """Per series: the out-of-distribution flag ``ood`` (1 where the series lies outside what the
    map was trained on: :func:`~fhn_inverse.uncertainty.residuals.out_of_distribution` against
    simulations from the prior and noise the map records, and for a fit an estimate outside the
    prior's box); for a fit (``fitted``) also the residual check ``ppc_p`` and ``residual_sd``. A
    summary line on stderr names the flagged series. Flagged series are an error unless
    ``keep_ood``. Maps that record no prior get no flag."""
    from fhn_inverse.uncertainty.residuals import out_of_distribution, residual_check

    prior, noise = first.prior, first.noise
    columns, reasons, poor = {}, [[] for _ in range(len(series))], 0
    if prior is not None and np.asarray(prior.lower).shape[0] == theta.shape[1]:
        reasons = out_of_distribution(series, t=times, prior=prior, noise=noise, model=ode, n_threads=n_threads)
        if fitted:
            for i in np.flatnonzero(np.any((theta < prior.lower) | (theta > prior.upper), axis=1)):
                reasons[i].append("estimate outside the prior's box")
        columns["ood"] = np.array([1.0 if why else 0.0 for why in reasons])
    if fitted:  # the residual check judges fits of the ODE, not a network's coarser estimate
        check = residual_check(theta, series, t=times, model=ode, rho=rho, n_threads=n_threads)
        sd = {"residual_sd": check.sd} if check.sd.ndim == 1 else {  # each observed quantity's
            f"residual_sd[{channel}]": check.sd[:, c] for c, channel in enumerate(ode.observed)}
        columns = {"ppc_p": check.p_value, **sd, **columns}
        poor = int(np.sum(check.p_value < 0.001))
    flagged = [i for i, why in enumerate(reasons) if why]
    if flagged and not keep_ood:  # an answer for them would look like an estimate and not be one
        shown = "; ".join(f"{ids[i]}: {', '.join(reasons[i])}" for i in flagged[:3])
        raise ValueError(f"{len(flagged)} of {len(series)} series lie outside what the map was trained on "
                         f"({shown}{' …' if len(flagged) > 3 else ''}): are they in the model's units, with noise "
                         "like the training data's? --keep-ood answers them anyway, flagged in the 'ood' column")
    if flagged or poor:
        shown = "; ".join(f"{ids[i]}: {', '.join(reasons[i])}" for i in flagged[:3])
        print(f"check: {len(flagged)} of {len(series)} series outside what the map was trained on"
              + (f" ({shown}{' …' if len(flagged) > 3 else ''})" if flagged else "")
              + (f"; {poor} fits do not explain their series (residual check p < 0.001)" if fitted else ""),
              file=sys.stderr)
    return columns


def _write(out, ids, columns: dict) -> None:
    """The columns, one row per series: .npy (numbers only), or CSV with an ID column (to a file or,
    quoted the same way, to standard output)."""
    names, values = list(columns), np.column_stack(list(columns.values()))
    if out is not None and out.suffix == ".npy":
        with atomic_open(out, "wb") as f:
            np.save(f, values)
        return
    import csv

    if out is not None:
        with atomic_open(out, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["id", *names])
            writer.writerows([series_id, *(repr(float(v)) for v in row)] for series_id, row in zip(ids, values))
        return
    writer = csv.writer(sys.stdout, lineterminator="\n")  # an ID with a comma or a quote stays one field
    writer.writerow(["id", *names])
    writer.writerows([series_id, *(f"{v:.6g}" for v in row)] for series_id, row in zip(ids, values))
