"""The ``fhn-inverse`` argument parser (``build_parser``: every command and its options) and the
options read from a TOML file (``--config``): each value checked like the same value on the
command line, then made the command's default. ``_fail`` ends a user error with one line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from .common import _read_toml
from .data_commands import _demo, _simulate
from .model_commands import TRAIN_OPTIONS, _calibrate, _diagnose, _info, _train
from .predict_command import _predict
from .study_commands import _report, _reproduce

__all__ = ["build_parser", "_Parser", "_UserError", "_add_common", "_setting_option", "_read_config",
           "_config_value", "_config_defaults", "_subparser", "_fail"]


def _add_common(p, seed=True, *, training=False):
    """--seed, --threads, --quiet and --config; with ``training`` --seed's default is the study's
    training seed and --threads' default and help are n_threads' (``nn.training.SCHEMA``)."""
    seed_default, threads_default, threads_help = 0, 0, "threads, 0 = all cores"
    if training:
        from fhn_inverse.nn.training import SCHEMA
        from fhn_inverse.study.runs import Training

        threads = SCHEMA["n_threads"]
        seed_default, threads_default, threads_help = Training.seed, threads.default, threads.help
    if seed:
        p.add_argument("--seed", type=int, default=seed_default, help=f"random seed (default: {seed_default})")
    p.add_argument("--threads", type=int, default=threads_default, help=f"{threads_help} (default: {threads_default})")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--config", type=Path, help="TOML file with option defaults (keys: long option names)")


def _setting_option(p, option: str, name: str, source: str = "schema", *, unset: bool = False, help: str = ""):
    """An option that sets the training setting ``name``: its type, choices and help from the
    schema (``nn.training.SCHEMA``, ``help`` added), its default TrainingConfig's (``source``
    "schema") or the study's (``source`` "study": ``study.runs.Training``); with ``unset`` the
    option's value is None unless given (the command keeps that default) and the help names it."""
    from fhn_inverse.nn.training import SCHEMA, TrainingConfig, value_type
    from fhn_inverse.study.runs import Training

    setting = SCHEMA[name]
    default = getattr({"schema": TrainingConfig, "study": Training}[source], name)
    shown = setting.none if default is None else f"{default:g}" if isinstance(default, float) else str(default)
    note = ", the study's" if source == "study" and default != setting.default else ""
    p.add_argument(option, type=None if setting.choices else value_type(name), choices=setting.choices,
                   default=None if unset else default,
                   help=f"{setting.help}{help} (default: {shown}{note})")


class _Parser(argparse.ArgumentParser):
    """argparse's parser, its errors on one line like every other user error (without the usage
    block, which ``--help`` shows)."""

    def error(self, message: str) -> NoReturn:
        _fail(self.prog, f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    import fhn_inverse as fi
    from fhn_inverse.study.experiments import EXPERIMENTS
    from fhn_inverse.study.runs import Training

    parser = _Parser(prog="fhn-inverse", description=fi.__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {fi.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="simulate, train the study's CNN, report accuracy, write plots")
    demo.add_argument("--out", default="runs/demo", help="output folder (default: runs/demo)")
    demo.add_argument("--train-size", type=int, default=1000, help="training series (default: 1000)")
    demo.add_argument("--test-size", type=int, default=2000, help="test series (default: 2000)")
    _setting_option(demo, "--epochs", "epochs", "study")
    _setting_option(demo, "--batch-size", "batch_size", "study")
    _setting_option(demo, "--lr", "lr", "study")
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
    sim.add_argument("--model", default="fitzhugh-nagumo", metavar="MODEL",
                     help="the ODE model: fitzhugh-nagumo (the study's), morris-lecar (the Hopf set), "
                          "morris-lecar-snic or hodgkin-huxley, each with its default prior and grid "
                          "(docs/models.md), or a .toml file that writes a model as equations "
                          "(docs/guides/user-models.md); the conductance models' AR(1) noise has a standard "
                          "deviation of 0.2–1 mV, a user model's 1–5 %% of its series' range unless its file has a "
                          "[noise] table (default: fitzhugh-nagumo)")
    sim.add_argument("--free", metavar="NAMES", default=None,
                     help="the quantities to draw and estimate, comma-separated, from the model's parameters, "
                          "constants and initial state (e.g. theta0,theta1,gamma; u0 is u's initial value); "
                          "drawn from the model's default prior and its declared ranges (default: the model's "
                          "parameters)")
    sim.add_argument("--prior", metavar="FILE", default=None,
                     help="a TOML file with one table per free quantity: family = \"uniform\" (lower, upper), "
                          "\"normal\" (mean, std, optional lower, upper) or \"lognormal\" (mu, sigma of the "
                          "logarithm, optional lower, upper) (default: the model's default prior)")
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
    train.add_argument("--transform", choices=("none", "support", "auto"), default="none",
                       help="support: learn each parameter in a coordinate without bounds (logit on the prior's box, "
                            "log on a half-line), so estimates and intervals stay inside the prior's support; auto: "
                            "that for gaussian_nll, none for mse (default: none)")
    notes = {"loss": "; gaussian_nll gives 'predict' intervals (standardised labels, linear output)"}
    for name, (option, source) in TRAIN_OPTIONS.items():
        _setting_option(train, option, name, source, help=notes.get(name, ""))
    train.add_argument("--per-epoch", type=int, default=100_000,
                       help="fresh: series simulated per epoch (default: 100000)")
    train.add_argument("--ode", default=None, metavar="MODEL",
                       help="fresh: the ODE model simulated, as simulate's --model (a built-in model's name or a "
                            ".toml file of a user model), with its noise (default: fitzhugh-nagumo, the study's noise)")
    train.add_argument("--block", type=int, default=10_000,
                       help="fresh: series simulated together and trained on in one shuffled pass (default: 10000)")
    train.add_argument("--window", type=int, default=8,
                       help=".zarr: store chunks per shuffled block (default: 8)")
    _add_common(train, training=True)
    train.set_defaults(func=_train)

    info = sub.add_parser("info", help="what a model file (or ensemble folder) is: its inputs and grid, its "
                                       "targets and units, its training, the data's prior and noise")
    info.add_argument("model", type=Path, help="model file from 'train' (or an ensemble folder)")
    info.add_argument("--json", action="store_true", help="print everything as JSON")
    info.set_defaults(func=_info)

    predict = sub.add_parser("predict", help="estimate parameters of series in a .npy, .csv or .npz file")
    predict.add_argument("model", type=Path, help="model file from 'train' (or an ensemble folder)")
    predict.add_argument("series", type=Path,
                         help="series: CSV, TSV or whitespace text (header, ID column, time row or column, series "
                              "as rows or columns: see fhn_inverse.read_series), .npy or .npz")
    predict.add_argument("--layout", choices=("auto", "rows", "columns"), default="auto",
                         help="text files: one series per row or per column (default: auto, from the file)")
    predict.add_argument("--decimal", choices=(".", ","), default=".",
                         help="text files: the decimal mark (default: '.'; ',' for files such as '0,5;0,7', whose "
                              "separator is then not a comma)")
    predict.add_argument("--resample", action="store_true",
                         help="series on another grid than the map's (their file gives the times): interpolate "
                              "them onto the map's grid instead of refusing them")
    predict.add_argument("-o", "--output", help="write predictions to .csv or .npy instead of printing them")
    predict.add_argument("--fit", action=argparse.BooleanOptionalAction, default=False,
                         help="the most accurate estimate: the ODE fitted to each series from the map's estimate "
                              "(least squares with restarts over the prior, then the MAP fit under the AR(1) noise "
                              "with the map's prior), with Laplace standard deviations and --level bounds, the "
                              "noise used, the fit's MSE and flags (fitting.map_fit.FLAGS); about 0.1 s a series")
    predict.add_argument("--noise-sd", type=float, default=None,
                         help="--fit: the noise's standard deviation in the units of the series, as measured "
                              "(default: a joint map's estimate, else estimated from the residuals)")
    predict.add_argument("--noise-rho", type=float, default=None,
                         help="--fit: the noise's lag-one correlation between samples (default: as --noise-sd)")
    predict.add_argument("--no-check", dest="check", action="store_false",
                         help="leave out the per-series checks (ood: 1 for series outside what the map was trained "
                              "on; with --fit also ppc_p, the residual whiteness p-value of the fit, and residual_sd)")
    predict.add_argument("--keep-ood", action="store_true",
                         help="answer series that lie outside what the map was trained on (flagged in the 'ood' "
                              "column) instead of refusing the file")
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
    # the experiments' training (study.runs.Training): an option given overrides its value
    for option, name in (("--epochs", "epochs"), ("--optimizer", "optimizer"), ("--weight-decay", "weight_decay"),
                         ("--schedule", "schedule"), ("--validation", "validation"), ("--patience", "early_stopping")):
        _setting_option(rep, option, name, "study", unset=True)
    rep.add_argument("--no-validation", action="store_true", help="train on all N samples for all epochs")
    _setting_option(rep, "--input-scaling", "input_scaling", "study", unset=True)
    rep.add_argument("--members", type=int, help="seed-ensemble size: each map is the mean of this many "
                                                 f"(default: {Training.members})")
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
        return _read_toml(path, "config")
    except ValueError as err:
        raise _UserError(str(err)) from None


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
