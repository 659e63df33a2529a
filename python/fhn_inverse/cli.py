"""The ``fhn-inverse`` command line: demo, simulate, train, predict, reproduce.

Options may also come from a TOML file (``--config run.toml``); keys are the long option names
with underscores (``train_size = 1000``). Each value is checked like the same value on the command
line (type, choices; booleans only for flags) and becomes the option's default, so options given
on the command line, in long or short form, win.

User errors (bad values, unreadable or invalid files, I/O failures such as a full disk, too little
memory) end with one line on stderr, ``fhn-inverse <command>: error: ...``, and exit status 2;
Ctrl-C ends with exit status 130. Every file is written atomically (``_io``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import NoReturn

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

import numpy as np

from ._util.io import atomic_open, atomic_savefig, atomic_write_text, file_sha256

__all__ = ["main", "build_parser"]

# A config file is a few lines; this bound keeps a wrong path (a device, a data file) from being
# read whole.
_CONFIG_MAX_BYTES = 1 << 20
# Bytes held per simulated series of L points: the clean series, the noise and the noisy series
# (float64).
_BYTES_PER_POINT = 3 * 8


def _table(rows, header) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(v).ljust(w) for v, w in zip(r, widths))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _physical_memory() -> int | None:
    """This machine's memory in bytes, or None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _check_series_count(option: str, n: int) -> None:
    """ValueError unless ``n`` series of the study's grid fit in this machine's memory (a size of
    10**12 would otherwise run until the allocator gives up). Sizes below 1 are left to the API,
    whose message names the lower bound."""
    from fhn_inverse import DEFAULT_GRID

    per_series = _BYTES_PER_POINT * DEFAULT_GRID.size
    memory = _physical_memory()
    if memory is None or n <= memory // per_series:
        return
    raise ValueError(f"{option} must be in [1, {memory // per_series:,}] on this machine (each series takes "
                     f"{per_series / 1e3:.0f} kB, the memory is {memory / 1e9:.1f} GB), got {n:,}")


def _demo(args) -> int:
    import fhn_inverse as fi
    from fhn_inverse.study import experiments, plotting

    _check_series_count("--train-size + --test-size", args.train_size + args.test_size)
    out = Path(args.out)
    (out / "models").mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    pool, test = fi.study_data(args.seed, noise=fi.AR1Noise(), train_size=args.train_size,
                               test_size=args.test_size, n_threads=args.threads, progress=not args.quiet)
    t_sim = time.perf_counter() - start
    print(f"simulated {len(pool) + len(test):,} series (training {len(pool):,}, test {len(test):,}) in {t_sim:.1f} s")
    # The last 10 % of the training series are held out; the epoch with the best validation loss
    # is kept (restore-best), as in the experiments.
    training = fi.TrainingConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                                 validation=0.1, early_stopping=args.epochs, seed=args.seed,
                                 n_threads=args.threads)
    rows, results, histories, fit_seconds, n_samples = [], {}, {}, 0.0, 0
    for train_kind in ("clean", "noisy"):
        t0 = time.perf_counter()
        trained_on = {**pool.config, "series": train_kind, "size": len(pool)}
        model = fi.InverseMap.cnn(seed=args.seed).fit(pool.u if train_kind == "clean" else pool.d, pool.theta,
                                                      training, progress=not args.quiet, trained_on=trained_on)
        fit_seconds += time.perf_counter() - t0
        # epochs run × series trained on (the 90 % not held out)
        n_samples += len(model.history["loss"]) * model.describe()["training"]["n_train"]
        model.save(out / "models" / f"cnn_train-{train_kind}.safetensors")
        histories[f"trained on {train_kind} series"] = model.history
        for regime in experiments.REGIMES:
            if not regime.startswith(train_kind):
                continue
            x = test.u if regime.endswith("clean") else test.d
            pred = model.predict(x)
            rep = fi.metrics.report(test.theta, pred, ("theta0", "theta1"))
            results[regime] = rep
            rows.append([regime, f"{rep['median_ape_all']:.3f}", f"{rep['median_ape_sample']:.3f}",
                         f"{rep['r2']['theta0']:.3f}", f"{rep['r2']['theta1']:.3f}"])
            atomic_savefig(plotting.predicted_vs_true(test.theta, pred, ("θ0", "θ1"),
                                                      f"{plotting.regime_label(regime)}, N = {len(pool)}"),
                           out / f"predicted_vs_true_{regime.replace('/', '-')}.png", dpi=110)
    atomic_savefig(plotting.loss_curves(histories, "Training loss"), out / "loss_curves.png", dpi=110)
    atomic_savefig(plotting.prior_samples(pool.theta, test.theta), out / "prior_samples.png", dpi=110)
    atomic_savefig(plotting.series(test.t, test.u[:3], test.d[:3], "Test series: model u and noisy data d"),
                   out / "series.png", dpi=110)
    summary = {"train_size": len(pool), "test_size": len(test), "seed": args.seed, "epochs": args.epochs,
               "batch_size": args.batch_size, "lr": args.lr, "simulation_s": round(t_sim, 2),
               "training_s": round(fit_seconds, 2), "training_samples_per_s": round(n_samples / fit_seconds),
               "results": results}
    atomic_write_text(out / "results.json", json.dumps(summary, indent=2) + "\n")
    print(f"\nThe study's CNN, {len(pool):,} training series (10 % held out for restore-best) and "
          f"{len(test):,} test series, {args.epochs} epochs (trained in {fit_seconds:.1f} s, "
          f"{n_samples / fit_seconds:,.0f} samples/s):\n")
    print(_table(rows, ["regime (train/test)", "Median-APE (per component)", "Median-APE (per sample)", "R² θ0",
                        "R² θ1"]))
    print(f"\nwrote {out}/: results.json, models/*.safetensors, predicted_vs_true_*.png, loss_curves.png, "
          "prior_samples.png, series.png")
    return 0


def _simulate(args) -> int:
    import fhn_inverse as fi

    noise = None if args.noise == "none" else fi.AR1Noise()
    if args.output.endswith(".zarr"):  # a chunked store, written chunk by chunk (on a cluster if asked)
        from fhn_inverse import distributed
        from fhn_inverse.data import store

        if args.scheduler or args.workers:
            client = None
            if args.scheduler:
                from dask.distributed import Client

                client = Client(args.scheduler)
            z = distributed.generate(args.n, args.seed, args.output, chunk=args.chunk, start=args.start,
                                     noise=noise, client=client, workers=args.workers or 2, dtype=args.dtype,
                                     method=args.method)
        else:
            store.create_zarr(args.output, args.n, 1000, 2, t=fi.DEFAULT_GRID, seed=args.seed, chunk=args.chunk,
                              dtype=args.dtype,
                              config=fi.Dataset.generate(1, args.seed, noise=noise, start=args.start,
                                                         progress=False, method=args.method).config)
            for lo in range(0, args.n, args.chunk):
                rows = fi.Dataset.generate(min(args.chunk, args.n - lo), args.seed, noise=noise,
                                           start=args.start + lo, n_threads=args.threads, progress=False,
                                           method=args.method)
                store.write_rows(args.output, lo, rows)
            store.mark_complete(args.output)
            z = store.open_zarr(args.output)
        print(f"wrote {len(z)} series to {args.output} (Zarr, chunks of {z.chunk})")
        return 0
    _check_series_count("-n", args.n)
    _output_file(args.output if args.output.endswith(".npz") else args.output + ".npz")
    data = fi.Dataset.generate(args.n, args.seed, noise=noise, start=args.start, n_threads=args.threads,
                               progress=not args.quiet, method=args.method)
    path = data.save(args.output)
    print(f"wrote {len(data)} series to {path}")
    return 0


def _train(args) -> int:
    import fhn_inverse as fi

    _output_file(args.model)
    stream = _training_stream(args)
    if stream is None:
        data = fi.Dataset.load(args.data)
        series = data.u if args.series == "clean" else data.d
        y = data.theta if not args.joint else np.column_stack([data.theta, data.noise])
    # a Gaussian-NLL head predicts unbounded means and Cholesky entries: linear output, standardised labels
    nll = args.loss == "gaussian_nll"
    head = {"output_activation": None} if nll else {}
    if args.arch == "cnn":
        model = fi.InverseMap.cnn(seed=args.seed, **head)
    else:
        model = fi.InverseMap.dense(seed=args.seed, **head)
    # the model file records its features, the data's grid and the targets' names: no side file
    settings = dict(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, early_stopping=args.patience,
                    seed=args.seed, n_threads=args.threads, progress=not args.quiet, loss=args.loss,
                    scaling="standard" if nll else "minmax", features=args.features,
                    targets=["theta0", "theta1"] + (["sigma", "rho"] if args.joint else []))
    if stream is not None:
        validation = None
        if args.validation is not None:
            if not isinstance(stream, fi.Simulations):
                raise ValueError("--validation takes a fraction of an .npz data set or of fresh series per epoch; "
                                 "a .zarr store trains without it")
            validation = max(1, int(round(args.validation * stream.per_epoch)))
        model.fit_stream(stream, validation=validation, **settings)
    else:
        model.fit(series, y, validation=args.validation, t=data.t,
                  trained_on={**data.config, "series": args.series, "size": len(data)}, **settings)
    model.save(args.model)
    if _sidecar(args.model).exists():  # it described the file this one replaces
        _sidecar(args.model).unlink()
    print(model.summary())
    print(f"wrote {args.model}")
    return 0


def _training_stream(args):
    """The stream ``train`` reads: a .zarr store in shuffled blocks, fresh simulations (DATA
    "fresh"), or None for an .npz data set."""
    import fhn_inverse as fi

    series = "clean" if args.series == "clean" else "observed"
    labels = "theta+noise" if args.joint else "theta"
    if str(args.data) == "fresh":
        _check_series_count("--block", args.block)
        return fi.Simulations(args.per_epoch, block=args.block, seed=args.seed, series=series, labels=labels,
                              n_threads=args.threads)
    if str(args.data).endswith(".zarr"):
        return fi.StoreStream(args.data, window=args.window, seed=args.seed, series=series, labels=labels)
    return None


def _info(args) -> int:
    import json

    import fhn_inverse as fi

    model = fi.Ensemble.load(args.model) if args.model.is_dir() else fi.InverseMap.load(args.model)
    about = model.describe()
    if args.json:
        print(json.dumps(about, indent=1))
        return 0
    inputs, units, data = about["inputs"], about["units"] or {}, about["trained_on"] or {}
    lines = [f"{args.model}: {about['head']} head, {about['parameters']:,} parameters"
             + (f", {about['members']} members" if "members" in about else "")
             + f", written by fhn_inverse {about['version']}"]
    if inputs is not None:
        t0, dt, length = inputs["grid"]
        lines.append(f"input: {inputs['features']!r} features of series of {length} points at t = {t0:g} + "
                     f"{dt:g}·k" + (f" ({units['t']})" if "t" in units else ""))
    else:
        lines.append(f"input: arrays of shape {tuple(about['input_shape'])} (no grid recorded)")
    lines.append("targets: " + ", ".join(f"{n} [{units[n]}]" if n in units else n for n in about["targets"]))
    training = about["training"]
    if training:
        lines.append(f"trained: {about['epochs_trained']} epochs, {training.get('optimizer', 'adam')} lr "
                     f"{training.get('lr', '?')}, batch {training.get('batch_size', '?')}, loss "
                     f"{training.get('loss', 'mse')}")
    if data:
        noise = data.get("noise")
        what = " ".join(str(v) for v in (data.get("size"), data.get("series")) if v is not None)
        lines.append(f"data: {what + ' series; ' if what else ''}prior {json.dumps(data.get('prior'))}; "
                     f"noise {json.dumps(noise)}")
    lines.append(f"calibration: {about['calibration'] or 'none'}")
    print("\n".join(lines))
    return 0


def _output_file(path) -> Path:
    """``path`` as a file to write; ValueError if a folder is there."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give the path of a file to write")
    return path


def _check_threads(args) -> None:
    """``--threads`` within the native core's range, checked before any work starts."""
    from fhn_inverse import _core

    threads = getattr(args, "threads", None)
    if threads is not None and not 0 <= threads <= _core.MAX_THREADS:
        raise ValueError(f"--threads must be in [0, {_core.MAX_THREADS}] (0 = all cores), got {threads}")


def _sidecar(model: Path) -> Path:
    return Path(str(model) + ".json")


def _model_inputs(model, path: Path, series: np.ndarray) -> tuple[np.ndarray, list | None]:
    """(what to give ``model.predict``, the targets' names or None) for observed ``series``: a
    map whose file records its inputs takes the series as they are; a file written before that
    takes the features its sidecar names (a series without one)."""
    import fhn_inverse as fi

    first = model.members[0] if isinstance(model, fi.Ensemble) else model
    if first.inputs is not None:
        return series, first.inputs["targets"]
    meta = {"features": "time", "targets": None} if path.is_dir() else _read_sidecar(path)
    return fi.features(series, meta["features"]), meta["targets"]


def _read_sidecar(model: Path) -> dict:
    """The feature kind and target names written by 'train' beside ``model`` (defaults without
    one); ValueError naming the sidecar if it is not valid or belongs to another model file."""
    from fhn_inverse.data.features import KINDS

    path = _sidecar(model)
    if not path.exists():
        return {"features": "time", "targets": None}
    try:
        meta = json.loads(path.read_bytes().decode("utf-8"))
    except (ValueError, RecursionError) as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ValueError(f"model sidecar {path} is not valid JSON: {err}") from None
    if not isinstance(meta, dict):
        raise ValueError(f"model sidecar {path} must hold a JSON object, got {type(meta).__name__}")
    if meta.get("features") not in KINDS:
        raise ValueError(f"model sidecar {path}: 'features' must be one of {KINDS}, got {meta.get('features')!r}")
    targets = meta.get("targets")
    if targets is not None and not (isinstance(targets, list) and all(isinstance(t, str) for t in targets)):
        raise ValueError(f"model sidecar {path}: 'targets' must be a list of names or null, got {targets!r}")
    digest = meta.get("model_sha256")  # sidecars written before it was added have none
    if digest is not None and digest != file_sha256(model):
        raise ValueError(f"model sidecar {path} was written for another version of {model} "
                         "(train again, or remove the sidecar)")
    return {"features": meta["features"], "targets": targets}


def _predict(args) -> int:
    import fhn_inverse as fi

    out = _output_file(args.output) if args.output else None
    model = fi.InverseMap.load(args.model)
    table = fi.read_series(args.series, layout=args.layout)
    series = table.d
    x, names = _model_inputs(model, args.model, series)
    grid = {"t": table.t, "resample": args.resample} if model.inputs is not None else {}
    pred = model.predict(x, **grid)
    names = names or [f"p{j}" for j in range(pred.shape[1])]
    if len(names) != pred.shape[1]:
        raise ValueError(f"model sidecar {_sidecar(args.model)} names {len(names)} targets, "
                         f"the model predicts {pred.shape[1]}")
    if args.fit:  # least-squares fit of the ODE's (θ0, θ1) to each series, from the map's estimate
        if pred.shape[1] < 2:
            raise ValueError(f"--fit needs a map that predicts (θ0, θ1), this one gives {pred.shape[1]} value(s)")
        fit = fi.fit_series(pred[None, :, :2], series, t=table.t, n_threads=args.threads)
        pred = np.column_stack([fit.theta, pred[:, 2:], fit.mse])
        names = names[:pred.shape[1] - 1] + ["fit_mse"]
    elif model.has_cov:  # the map's Gaussian: standard deviations and central intervals
        if not 0 < args.level < 1:
            raise ValueError(f"--level must be in (0, 1), got {args.level}")
        _, cov = model.predict(x, return_cov=True, **grid)
        lo, hi = model.interval(x, args.level, **grid)
        sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
        pct = f"{100 * args.level:g}"
        pred = np.column_stack([pred, sd, lo, hi])
        names = names + [f"{n}_sd" for n in names] + [f"{n}_lo{pct}" for n in names] + [f"{n}_hi{pct}" for n in names]
    if out is not None and out.suffix == ".npy":
        with atomic_open(out, "wb") as f:
            np.save(f, pred)
    elif out is not None:
        import csv

        with atomic_open(out, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["id", *names])
            writer.writerows([series_id, *(repr(float(v)) for v in row)] for series_id, row in zip(table.ids, pred))
    else:
        print(",".join(["id", *names]))
        for series_id, row in zip(table.ids, pred):
            print(",".join([series_id, *(f"{v:.6g}" for v in row)]))
    if out is not None:
        print(f"wrote {len(pred)} predictions to {out}")
    return 0


def _model_with_data(args, command: str):
    """(model, its sidecar's metadata, the data set, its series, the model's inputs, the true
    values the model predicts, their names) for 'diagnose' and 'calibrate'."""
    import fhn_inverse as fi

    model = fi.Ensemble.load(args.model) if args.model.is_dir() else fi.InverseMap.load(args.model)
    if not model.has_cov:
        raise ValueError(f"{args.model} predicts point estimates only; {command} needs a map with a covariance "
                         "(train it with --loss gaussian_nll)")
    data = fi.Dataset.load(args.data)
    series = data.u if args.series == "clean" else data.d
    x, targets = _model_inputs(model, args.model, series)
    d = model.predict(x[:1]).shape[1]
    names = targets or (["theta0", "theta1", "sigma", "rho"][:d] if d <= 4 else [f"p{j}" for j in range(d)])
    if len(names) != d or d not in (2, 4):
        raise ValueError(f"{args.model} predicts {d} values; {command} compares them with the data's (theta0, "
                         "theta1) or, for a joint map, (theta0, theta1, sigma, rho)")
    theta = data.theta if d == 2 else np.column_stack([data.theta, data.noise])
    return model, data, series, x, theta, names


def _calibrate(args) -> int:
    import fhn_inverse as fi
    from fhn_inverse.uncertainty import diagnostics as dg

    model, _, _, x, theta, names = _model_with_data(args, "calibrate")
    if model.head != "gaussian_nll":
        raise ValueError(f"{args.model} has a {model.head!r} head; calibrate needs Gaussian-NLL heads "
                         "(a local-Gaussian head's covariance estimates a target, not a posterior)")
    ensemble = isinstance(model, fi.Ensemble)
    if ensemble and args.method != "quantile":
        raise ValueError(f"--method {args.method} scales one map; an ensemble folder is calibrated with "
                         "--method quantile")
    result = model.calibrate(x, theta, method=args.method, n_threads=args.threads)
    sidecar = None if ensemble or not _sidecar(args.model).exists() else json.loads(_sidecar(args.model).read_text())
    model.save(args.model)
    if sidecar is not None:  # a file written before models recorded their inputs: its sidecar follows it
        atomic_write_text(_sidecar(args.model), json.dumps({**sidecar, "model_sha256": file_sha256(args.model)}) + "\n")
    print(f"calibrated {args.model} on {len(x):,} {args.series} series ({args.method})")
    if args.method == "quantile":
        gauss = dg._normal_quantile(0.975)
        lo, hi = result.z_interval(0.95)
        rows = [[n, f"[{lo[j]:.3f}, {hi[j]:.3f}]", f"[{-gauss:.3f}, {gauss:.3f}]"] for j, n in enumerate(names)]
        rows.append(["joint radius", f"{result.joint_radius(0.95):.3f}",
                     f"{np.sqrt(dg.chi2_quantile(0.95, len(names))):.3f}"])
        print("95 % intervals in standard deviations of the head (calibrated | Gaussian):\n")
        print(_table(rows, ["", "calibrated", "Gaussian"]))
    else:
        print(f"cov_scale = {result:.4f} (covariances are multiplied by it)")
    print(f"wrote {args.model}")
    return 0


def _diagnose(args) -> int:
    import fhn_inverse as fi

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file; give a folder for the report")
    model, data, series, x, theta, names = _model_with_data(args, "diagnose")
    noise = None  # the AR(1) noise of each series, as (standard deviation, ρ), for the predictive check
    if args.series == "noisy" and data.config.get("noise"):
        noise = np.column_stack([data.noise[:, 0] / float(data.config["noise"].get("dt", 0.2)), data.noise[:, 1]])
    report = fi.diagnose(model, x, theta, out=out, n_samples=args.samples, seed=args.seed, series=series,
                         noise=noise, t=data.t, names=names, n_threads=args.threads)
    cov = report["coverage"]
    rows = [[f"{100 * a:g} %", *(f"{100 * cov['per_parameter'][n][k]:.1f}" for n in names),
             f"{100 * cov['joint'][k]:.1f}", f"{100 * cov['se'][k]:.1f}"]
            for k, a in enumerate(cov["levels"]) if any(abs(a - b) < 1e-9 for b in (0.5, 0.8, 0.9, 0.95))]
    print(f"{report['n']:,} {args.series} series, {report['n_samples']:,} posterior samples each "
          f"(head: {report['head']}, cov_scale: {report['cov_scale']}"
          + (", quantile-calibrated" if report.get("calibration") else "") + ")\n")
    print(_table(rows, ["level", *names, "joint", "se"]))
    sbc = report["sbc"]
    print("\nSBC max |ECDF − uniform|: " + ", ".join(
        f"{n} {sbc['max_deviation'][n]:.3f}{' (outside the band)' if sbc['outside_band'][n] else ''}" for n in names)
        + f"; band half-width up to {sbc['band_half_width_max']:.3f}")
    rec = report["recovery"]
    print("R²: " + ", ".join(f"{n} {rec['r2'][n]:.3f}" for n in names) + f"; Median-APE {rec['median_ape_all']:.3f}")
    if "ppc" in report:
        print(f"posterior predictive: {100 * report['ppc']['inside_all']:.1f} % of observed points inside the "
              f"5–95 % band ({report['ppc']['n_series']} series)")
    print(f"\nwrote {out}/: report.json, {', '.join(report['figures'])}")
    return 0


_MAX_PRINTED = 4000  # characters of results JSON 'reproduce' prints; beyond, a summary line


def _reproduce(args) -> int:
    from fhn_inverse.study import experiments

    overrides = {k: v for k, v in (("n_threads", args.threads), ("epochs", args.epochs),
                                   ("optimizer", args.optimizer), ("weight_decay", args.weight_decay),
                                   ("schedule", args.schedule), ("members", args.members),
                                   ("input_scaling", args.input_scaling),
                                   ("validation", args.validation), ("early_stopping", args.patience))
                 if v is not None}
    if args.no_validation:
        overrides.update(validation=None, early_stopping=None)
    names = list(experiments.EXPERIMENTS) if args.name == "all" else [args.name]
    kwargs = dict(quick=args.quick, seed=args.seed, seeds=args.seeds or (1 if args.quick else 5),
                  test_set=args.test_set, noise_law=args.noise_law, **overrides)
    if args.workers is not None or args.scheduler:  # one task per experiment on a Dask cluster
        from fhn_inverse import distributed

        with contextlib.ExitStack() as stack:
            client = None
            if args.scheduler:
                from dask.distributed import Client

                client = stack.enter_context(Client(args.scheduler))
            results = distributed.reproduce(names, args.out, client=client,
                                            workers=2 if args.workers is None else args.workers, **kwargs)
    else:
        results = (experiments.reproduce(name, Path(args.out) / name, progress=not args.quiet, **kwargs)
                   for name in names)
    for name, result in zip(names, results):
        out = Path(args.out) / name
        if name == "speed":
            from fhn_inverse.study import speed

            print(speed.table(result["results"]))
        else:
            text = json.dumps(result["results"], indent=2)
            if len(text) > _MAX_PRINTED or len(names) > 1:  # whole results only: a cut would end mid-number
                text = (f"{name} results: {', '.join(map(str, result['results']))} "
                        f"({len(text):,} characters of JSON; 'fhn-inverse report {args.out}' prints the tables)")
            print(text)
        print(f"wrote {out}/results.json, plots and models ({result['elapsed_s']} s)")
    return 0


def _report(args) -> int:
    from fhn_inverse.study import report

    if args.refresh:
        changed = report.refresh(args.root)
        print(f"{args.root}: {len(changed)} generated block(s) re-made" + "".join(f"\n  {c}" for c in changed))
        return 0
    if args.against is not None:
        print(report.differences(args.root, args.against, tuple(args.names)))
        return 0
    text = report.compare(args.root)
    if not text:
        names = ", ".join(name for name, _ in report._TABLES)
        raise ValueError(f"no results.json of {names} under {args.root}")
    print(text)
    return 0


def _add_common(p, seed=True):
    if seed:
        p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--threads", type=int, default=0, help="threads, 0 = all cores (default: 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--config", type=Path, help="TOML file with option defaults (keys: long option names)")


class _Parser(argparse.ArgumentParser):
    """argparse's parser, its errors on one line like every other user error (without the usage
    block, which ``--help`` shows)."""

    def error(self, message: str) -> NoReturn:
        _fail(self.prog, f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    import fhn_inverse as fi
    from fhn_inverse.study.experiments import EXPERIMENTS

    parser = _Parser(prog="fhn-inverse", description=fi.__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {fi.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="simulate, train the study's CNN, report accuracy, write plots")
    demo.add_argument("--out", default="runs/demo", help="output folder (default: runs/demo)")
    demo.add_argument("--train-size", type=int, default=1000, help="training series (default: 1000)")
    demo.add_argument("--test-size", type=int, default=2000, help="test series (default: 2000)")
    demo.add_argument("--epochs", type=int, default=200, help="training epochs (default: 200, the study's)")
    demo.add_argument("--batch-size", type=int, default=32, help="mini-batch size (default: 32)")
    demo.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate (default: 2e-3)")
    _add_common(demo)
    demo.set_defaults(func=_demo)

    sim = sub.add_parser("simulate", help="simulate a data set and save it as .npz (or a .zarr store)")
    sim.add_argument("output", help="output file (.npz), or a chunked Zarr store (.zarr, written chunk by chunk)")
    sim.add_argument("--chunk", type=int, default=1000, help=".zarr: samples per chunk (default: 1000)")
    sim.add_argument("--workers", type=int, default=None,
                     help=".zarr: simulate on a local Dask cluster of this many worker processes")
    sim.add_argument("--scheduler", default=None, help=".zarr: simulate on the Dask cluster at this address")
    sim.add_argument("--method", choices=("rkf78", "rkf78-simd"), default="rkf78",
                     help="integrator: rkf78 (Boost.Odeint) or rkf78-simd (the same scheme in SIMD lanes, several "
                          "times faster, equal within the tolerances; default: rkf78)")
    sim.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                     help=".zarr: how the series are stored (float32 halves the store; default: float64)")
    sim.add_argument("-n", type=int, default=10000, help="number of samples (default: 10000)")
    sim.add_argument("--start", type=int, default=0, help="first stream index (default: 0)")
    sim.add_argument("--noise", choices=("ar1", "none"), default="ar1", help="measurement noise (default: ar1)")
    _add_common(sim)
    sim.set_defaults(func=_simulate)

    train = sub.add_parser("train", help="train an inverse map on a data set (.npz or .zarr from 'simulate'), or on "
                                         "fresh simulations")
    train.add_argument("data", type=Path,
                       help="data set (.npz); a Zarr store (.zarr), read in shuffled blocks of chunks with bounded "
                            "memory; or 'fresh': new simulations every epoch (--per-epoch), simulated while training")
    train.add_argument("model", type=Path, help="model file to write (.safetensors)")
    train.add_argument("--arch", choices=("cnn", "dense"), default="cnn", help="network (default: cnn)")
    train.add_argument("--series", choices=("noisy", "clean"), default="noisy", help="training series (default: noisy)")
    train.add_argument("--features", choices=("time", "fourier", "time+fourier"), default="time",
                       help="network input (default: time)")
    train.add_argument("--joint", action="store_true", help="also infer the noise parameters (sigma, rho)")
    train.add_argument("--epochs", type=int, default=200, help="epochs (default: 200)")
    train.add_argument("--batch-size", type=int, default=32, help="mini-batch size (default: 32)")
    train.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate (default: 2e-3)")
    train.add_argument("--validation", type=float, default=None, help="validation fraction, e.g. 0.1 (default: none)")
    train.add_argument("--patience", type=int, default=None, help="early-stopping patience in epochs (default: off)")
    train.add_argument("--loss", choices=("mse", "gaussian_nll"), default="mse",
                       help="mse (point estimates, the study's) or gaussian_nll (means and a covariance per series, "
                            "for 'predict' intervals; standardised labels, linear output) (default: mse)")
    train.add_argument("--per-epoch", type=int, default=100_000,
                       help="fresh: series simulated per epoch (default: 100000)")
    train.add_argument("--block", type=int, default=10_000,
                       help="fresh: series simulated together and trained on in one shuffled pass (default: 10000)")
    train.add_argument("--window", type=int, default=8,
                       help=".zarr: store chunks per shuffled block (default: 8)")
    _add_common(train)
    train.set_defaults(func=_train)

    info = sub.add_parser("info", help="what a model file (or ensemble folder) is: its inputs and grid, its "
                                       "targets and units, its training, the data's prior and noise")
    info.add_argument("model", type=Path, help="model file from 'train' (or an ensemble folder)")
    info.add_argument("--json", action="store_true", help="print everything as JSON")
    info.set_defaults(func=_info)

    predict = sub.add_parser("predict", help="estimate parameters of series in a .npy, .csv or .npz file")
    predict.add_argument("model", type=Path, help="model file from 'train'")
    predict.add_argument("series", type=Path,
                         help="series: CSV, TSV or whitespace text (header, ID column, time row or column, series "
                              "as rows or columns: see fhn_inverse.read_series), .npy or .npz")
    predict.add_argument("--layout", choices=("auto", "rows", "columns"), default="auto",
                         help="text files: one series per row or per column (default: auto, from the file)")
    predict.add_argument("--resample", action="store_true",
                         help="series on another grid than the map's (their file gives the times): interpolate "
                              "them onto the map's grid instead of refusing them")
    predict.add_argument("-o", "--output", help="write predictions to .csv or .npy instead of printing them")
    predict.add_argument("--fit", action="store_true",
                         help="refine (θ0, θ1) by a least-squares fit of the ODE to each series, started from the "
                              "map's estimate, with restarts from a grid over the prior where it stays poor "
                              "(series on the study's grid of 1000 points); adds the fit's MSE as a column")
    predict.add_argument("--level", type=float, default=0.95,
                         help="for maps with a covariance (trained with --loss gaussian_nll): the level of the "
                              "central intervals written beside the means and standard deviations (default: 0.95)")
    _add_common(predict, seed=False)
    predict.set_defaults(func=_predict)

    diag = sub.add_parser("diagnose", help="calibration diagnostics of a map with a covariance on a data set: "
                                           "coverage, SBC, z-score/contraction, recovery, predictive check")
    diag.add_argument("model", type=Path, help="model file from 'train --loss gaussian_nll' (or an ensemble folder)")
    diag.add_argument("data", type=Path, help="test data set (.npz from 'simulate')")
    diag.add_argument("--out", default="runs/diagnose", help="report folder (default: runs/diagnose)")
    diag.add_argument("--series", choices=("noisy", "clean"), default="noisy", help="test series (default: noisy)")
    diag.add_argument("--samples", type=int, default=1000, help="posterior samples per series (default: 1000)")
    _add_common(diag)
    diag.set_defaults(func=_diagnose)

    cal = sub.add_parser("calibrate", help="calibrate a map with a Gaussian-NLL head on a held-out data set "
                                           "(series it was not trained on) and write it back")
    cal.add_argument("model", type=Path, help="model file from 'train --loss gaussian_nll' (or an ensemble folder)")
    cal.add_argument("data", type=Path, help="calibration data set (.npz from 'simulate', another seed than training)")
    cal.add_argument("--method", choices=("quantile", "nll", "coverage"), default="quantile",
                     help="quantile: per-parameter quantile recalibration and a conformal joint region (default); "
                          "nll / coverage: one covariance scale")
    cal.add_argument("--series", choices=("noisy", "clean"), default="noisy", help="series (default: noisy)")
    _add_common(cal, seed=False)
    cal.set_defaults(func=_calibrate)

    rep = sub.add_parser("reproduce", help="run one of the study's experiments (speed: its training-time table)")
    rep.add_argument("name", choices=[*sorted(EXPERIMENTS), "all"],
                     help="experiment, or all of them one after the other (then 'report OUT' prints every table)")
    rep.add_argument("--seeds", type=int, default=None,
                     help="train every map with this many training seeds and record one number per seed "
                          "(report: median and range; default: 5, or 1 with --quick)")
    rep.add_argument("--test-set", choices=("stream", "fixed"), default="fixed",
                     help="fixed: the same 2,000 series for every experiment, disjoint from every pool; "
                          "stream: the test series follow the training pool (default: fixed)")
    rep.add_argument("--noise-law", choices=("uniform", "study"), default="study",
                     help="how (σ, ρ) are drawn: the law of the authors' own arrays, or uniform over the "
                          "study's ranges (default: study)")
    rep.add_argument("--quick", action="store_true", help="small size (under a minute)")
    rep.add_argument("--out", default="runs", help="parent folder of the run (default: runs)")
    rep.add_argument("--epochs", type=int, help="training epochs (default: the study's 200)")
    rep.add_argument("--optimizer", choices=("adam", "adamw"), help="optimizer (default: adam)")
    rep.add_argument("--weight-decay", type=float, help="weight decay (AdamW: decoupled; default: none)")
    rep.add_argument("--schedule", choices=("constant", "warmup", "step", "cosine"),
                     help="learning-rate schedule (default: constant)")
    rep.add_argument("--validation", type=float, help="validation fraction for early stopping (default: 0.1)")
    rep.add_argument("--patience", type=int, help="early-stopping patience in epochs (default: 40)")
    rep.add_argument("--no-validation", action="store_true", help="train on all N samples for all epochs")
    rep.add_argument("--input-scaling", choices=("none", "channel"),
                     help="standardise each input channel with the training data's statistics (default: none)")
    rep.add_argument("--members", type=int, help="seed-ensemble size: each map is the mean of this many (default: 1)")
    rep.add_argument("--workers", type=int, default=None,
                     help="run the experiments side by side on a local Dask cluster of this many worker processes, "
                          "one experiment per task (--threads 0 then means one thread per task)")
    rep.add_argument("--scheduler", default=None,
                     help="run the experiments side by side on the Dask cluster at this address")
    _add_common(rep)
    rep.set_defaults(func=_reproduce)

    cmp_ = sub.add_parser("report", help="tables of reproduced results beside the study's (Markdown)")
    cmp_.add_argument("root", type=Path, help="folder holding the runs (the --out of 'reproduce'); with --refresh "
                                              "a Markdown page")
    cmp_.add_argument("--against", type=Path, help="a second run folder: print the cells whose verdict differs")
    cmp_.add_argument("--names", nargs=2, default=("A", "B"), metavar=("NAME", "OTHER"),
                      help="what to call the two runs of --against (default: A B)")
    cmp_.add_argument("--refresh", action="store_true",
                      help="ROOT is a Markdown page: re-make its generated blocks ('<!-- generated by: "
                           "fhn-inverse report ... -->' up to '<!-- end of generated block -->')")
    cmp_.set_defaults(func=_report)
    return parser


class _UserError(Exception):
    """An error of the user's making found by the command line itself (a bad config file)."""


def _read_config(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            raw = f.read(_CONFIG_MAX_BYTES + 1)
    except OSError as err:
        raise _UserError(f"cannot read config {path}: {err}") from None
    if len(raw) > _CONFIG_MAX_BYTES:
        raise _UserError(f"config {path} is larger than {_CONFIG_MAX_BYTES:,} bytes: not a TOML option file")
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise _UserError(f"config {path} is not valid TOML: {err}") from None


def _config_value(action: argparse.Action, key: str, value, path: Path):
    """``value`` from the config for ``action``, converted and checked as argparse would check the
    same value on the command line: a flag takes only true or false; any other option a string or
    number, put through the option's ``type`` and ``choices``."""
    where = f"config {path}: {key}"
    if action.nargs == 0:  # store_true flags
        if not isinstance(value, bool):
            raise _UserError(f"{where} is a flag: it must be true or false, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _UserError(f"{where} must be a string or a number, got {value!r}")
    token = value if isinstance(value, str) else str(value)  # the option as typed: 1.5 is not an int
    if action.type is not None:
        try:
            converted = action.type(token)
        except (TypeError, ValueError, argparse.ArgumentTypeError):
            name = getattr(action.type, "__name__", repr(action.type))
            raise _UserError(f"{where}: invalid {name} value: {value!r}") from None
    else:
        converted = token
    if action.choices is not None and converted not in action.choices:
        choices = ", ".join(map(repr, action.choices))
        raise _UserError(f"{where}: invalid choice: {converted!r} (choose from {choices})")
    return converted


def _config_defaults(sub: argparse.ArgumentParser, path: Path) -> dict:
    """The options of the TOML file ``path`` for the command ``sub``, checked and converted."""
    # argparse has no public list of a parser's actions; ``_actions`` has been stable since 2.7.
    actions = {a.dest: a for a in sub._actions if a.dest not in ("help", "config")}
    defaults = {}
    for key, value in _read_config(path).items():
        action = actions.get(key.replace("-", "_"))
        if action is None:
            raise _UserError(f"config {path}: unknown option {key!r} for '{sub.prog.split()[-1]}'")
        if not action.option_strings:
            raise _UserError(f"config {path}: {key!r} is a positional argument: give it on the command line")
        defaults[action.dest] = _config_value(action, key, value, path)
    return defaults


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[command]
    raise LookupError(command)


def _fail(prog: str, message: str) -> NoReturn:
    """Exit with status 2 and one line on stderr, argparse's form: ``prog: error: message`` (a
    message longer than 1,000 characters, such as one quoting an array, is cut there)."""
    line = " ".join(message.split())
    print(f"{prog}: error: {line if len(line) <= 1000 else line[:1000] + ' …'}", file=sys.stderr)
    raise SystemExit(2)


def main(argv=None) -> int:
    import fhn_inverse as fi

    parser = build_parser()
    args = parser.parse_args(argv)
    sub = _subparser(parser, args.command)
    if getattr(args, "config", None) is not None:
        # The config's values become the command's defaults; parsing again lets every option
        # given on the command line win, whatever its spelling.
        try:
            sub.set_defaults(**_config_defaults(sub, args.config))
        except _UserError as err:
            _fail(sub.prog, str(err))
        args = parser.parse_args(argv)
    try:
        _check_threads(args)
        return args.func(args)
    except KeyboardInterrupt:
        print(f"{sub.prog}: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except MemoryError as err:
        _fail(sub.prog, f"out of memory{': ' + str(err) if str(err) else ''}")
    except (ValueError, TypeError, OSError, fi.SimulationError) as err:
        _fail(sub.prog, str(err) or type(err).__name__)


if __name__ == "__main__":
    sys.exit(main())
