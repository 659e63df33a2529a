"""The model commands: ``train`` (an inverse map on an .npz data set, a .zarr store or fresh
simulations), ``info`` (what a model file is), ``calibrate`` and ``diagnose`` (maps with a covariance on a
data set); ``predict`` is in ``predict_command``."""

from __future__ import annotations

import json
from pathlib import Path
from statistics import NormalDist

import numpy as np

from .._util.io import atomic_write_text, file_sha256
from ..models.noise import AR1Noise
from .common import _check_series_count, _model_inputs, _output_file, _read_sidecar, _sidecar, _table

__all__ = ["_train", "_info", "_calibrate", "_diagnose", "TRAIN_OPTIONS", "NOISE_PARAMS"]

#: the AR(1) noise's parameters (a data set's noise columns), estimated beside the model's by a joint
#: map (``train --joint``)
NOISE_PARAMS = AR1Noise.param_names

#: The options of 'train' that set training settings (fields of TrainingConfig): setting -> (option,
#: whose value is its default: "schema" for TrainingConfig's, "study" for the study's
#: ``study.runs.Training``). build_parser reads their defaults, types, choices and help from the
#: schema (``nn.training.SCHEMA``); ``--seed`` (the study's) and ``--threads`` (n_threads) are the
#: common options.
TRAIN_OPTIONS = {"epochs": ("--epochs", "study"), "batch_size": ("--batch-size", "schema"),
                 "lr": ("--lr", "study"), "validation": ("--validation", "schema"),
                 "early_stopping": ("--patience", "schema"), "loss": ("--loss", "schema")}


def _noise_names(config: dict) -> list:
    """The names of a data set's noise columns: its observation law's parameters (AR(1)'s σ, ρ
    where it records none)."""
    from ..models.noise import noise_from_dict

    record = config.get("noise")
    return list(NOISE_PARAMS) if record is None else list(noise_from_dict(record).param_names)


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
    settings = {name: getattr(args, option[2:].replace("-", "_")) for name, (option, _) in TRAIN_OPTIONS.items()}
    config = stream.describe() if stream is not None else data.config
    ode = fi.models.model_from_dict(config["model"]) if "model" in config else fi.FitzHughNagumo()
    settings.update(seed=args.seed, n_threads=args.threads, progress=not args.quiet,
                    scaling="standard" if nll else fi.TrainingConfig.scaling, features=args.features,
                    targets=list(ode.free) + (_noise_names(config) if args.joint else []),
                    transform=None if args.transform == "none" else args.transform)
    if not isinstance(ode, fi.FitzHughNagumo):  # voltages in mV: the inputs standardised per channel
        settings["input_scaling"] = "channel"
    validation = settings.pop("validation")
    if stream is not None:
        if validation is not None:
            if not isinstance(stream, fi.Simulations):
                raise ValueError("--validation takes a fraction of an .npz data set or of fresh series per epoch; "
                                 "a .zarr store trains without it")
            validation = max(1, int(round(validation * stream.per_epoch)))
        model.fit_stream(stream, validation=validation, **settings)
    else:
        model.fit(series, y, validation=validation, t=data.t,
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
        ode = {}
        if args.ode is not None:  # the model and noise simulate --model would use
            from argparse import Namespace

            from .data_commands import _model_and_noise

            model, noise = _model_and_noise(Namespace(model=args.ode, free=None, noise="ar1"))
            ode = {"model": model, "noise": noise}
        return fi.Simulations(args.per_epoch, block=args.block, seed=args.seed, series=series, labels=labels,
                              n_threads=args.threads, **ode)
    if args.ode is not None:
        raise ValueError("--ode chooses the model of fresh simulations (DATA 'fresh'); a data set records its own")
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
        what = "series" if inputs["features"] is None else f"{inputs['features']!r} features of series"
        lines.append(f"input: {what} of {length} points at t = {t0:g} + {dt:g}·k"
                     + (f" ({units['t']})" if "t" in units else ""))
    else:
        lines.append(f"input: arrays of shape {tuple(about['input_shape'])} (no grid recorded)")
    lines.append("targets: " + ", ".join(f"{n} [{units[n]}]" if n in units else n for n in about["targets"]))
    training = about["training"]
    if training:
        lines.append(f"trained: {about['epochs_trained']} epochs, {training.get('optimizer', 'adam')} lr "
                     f"{training.get('lr', '?')}, batch {training.get('batch_size', '?')}, loss "
                     f"{training.get('loss', 'mse')}")
    if data.get("model"):
        lines.append("model: " + _model_line(data["model"]))
    if data:
        noise = data.get("noise")
        what = " ".join(str(v) for v in (data.get("size"), data.get("series")) if v is not None)
        lines.append(f"data: {what + ' series; ' if what else ''}prior {json.dumps(data.get('prior'))}; "
                     f"noise {json.dumps(noise)}")
    else:
        lines.append("data: not recorded (fit(X, Y, trained_on=dataset) records its prior and noise)")
    lines.append(f"calibration: {about['calibration'] or 'none'}")
    print("\n".join(lines))
    return 0


def _observed_text(observe) -> str:
    """A user model's observed quantity, or several joined by commas."""
    return ", ".join(map(str, observe)) if isinstance(observe, list) else str(observe)


def _model_line(record: dict) -> str:
    """A model record (``fi.models.model_to_dict``) in one line: its name (a user model's equations
    and hash), constants, initial state and free set."""
    values = {k: v for k, v in record.items() if k not in ("name", "spec", "hash", "initial", "free")}
    if record.get("name") == "ODEModel":
        spec = record.get("spec") or {}
        head = (f"ODEModel {spec.get('name', '?')}, "
                + ", ".join(f"d{s}/dt = {e}" for s, e in (spec.get("equations") or {}).items())
                + f" (observed: {_observed_text(spec.get('observe', '?'))}; hash {record.get('hash', '?')})")
    else:
        head = str(record.get("name", "?"))
    free = record.get("free")
    constants = ", ".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in values.items())
    initial = ", ".join(f"{v:g}" for v in record.get("initial", []))
    return (head + (f"; values {constants}" if constants else "") + (f"; initial ({initial})" if initial else "")
            + (f"; free: {', '.join(free)}" if free else "; free: its parameters"))


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
    ode = fi.models.model_from_dict(data.config["model"]) if "model" in data.config else fi.FitzHughNagumo()
    params = list(ode.free)  # the data's model's free quantities, then the noise's
    joint = params + _noise_names(data.config)
    names = targets or (joint[:d] if d <= len(joint) else [f"p{j}" for j in range(d)])
    if len(names) != d or d not in (len(params), len(joint)):
        raise ValueError(f"{args.model} predicts {d} values; {command} compares them with the data's "
                         f"({', '.join(params)}) or, for a joint map, ({', '.join(joint)})")
    theta = data.theta if d == len(params) else np.column_stack([data.theta, data.noise])
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
    sidecar = None if ensemble or not _sidecar(args.model).exists() else _read_sidecar(args.model, raw=True)
    model.save(args.model)
    if sidecar is not None:  # a file written before models recorded their inputs: its sidecar follows it
        atomic_write_text(_sidecar(args.model), json.dumps({**sidecar, "model_sha256": file_sha256(args.model)}) + "\n")
    print(f"calibrated {args.model} on {len(x):,} {args.series} series ({args.method})")
    if args.method == "quantile":
        gauss = NormalDist().inv_cdf(0.975)
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


def _ar1_columns(record: dict, columns: np.ndarray):
    """Each series' AR(1) noise as (standard deviation, ρ), (N, 2), or (N, K, 2) for a data set of
    K observed quantities, from its noise columns (σ, ρ in the study's convention, σ/dt the
    standard deviation); None where a law is not AR(1) or white Gaussian."""
    laws = record["laws"] if record.get("kind") == "channels" else [record]
    if any(law is None or law.get("kind") not in ("ar1", "gaussian") for law in laws):
        return None
    out = np.stack([columns[:, 2 * c:2 * c + 2] / [float(law.get("dt", 0.2)), 1.0] for c, law in enumerate(laws)],
                   axis=1)
    return out[:, 0] if record.get("kind") != "channels" else out


def _diagnose(args) -> int:
    import fhn_inverse as fi

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file; give a folder for the report")
    model, data, series, x, theta, names = _model_with_data(args, "diagnose")
    noise = None  # the AR(1) noise of each series, as (standard deviation, ρ), for the predictive check
    if args.series == "noisy" and data.config.get("noise"):
        noise = _ar1_columns(data.config["noise"], data.noise)
        if noise is None:  # another law: its per-series parameters are not an AR(1) (sd, ρ)
            series = None
            print(f"(no posterior predictive check: it adds AR(1) noise, and {args.data} was observed under "
                  f"{data.config['noise'].get('kind')} noise)")
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
