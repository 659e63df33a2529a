"""One schema for the training settings: the fields of TrainingConfig carry it (default, help,
choices, the native attribute), ``to_core`` is a loop over it that sets every attribute of
``_core.TrainConfig``, the stub lists exactly the bound attributes, the study's Training only
overrides its defaults, and the command line and the scikit-learn wrapper read their defaults
from it (or from the study's Training where they say so)."""

import ast
import inspect
import re
from dataclasses import dataclass, fields
from pathlib import Path

import pytest

import fhn_inverse as fi
from fhn_inverse import _core, distributed
from fhn_inverse.cli import build_parser
from fhn_inverse.cli.model_commands import TRAIN_OPTIONS
from fhn_inverse.cli.parser import _subparser
from fhn_inverse.nn.training import NATIVE_DEFAULTS, SCHEMA, TrainingConfig, override, value_type
from fhn_inverse.study.runs import Training

STUB = Path(fi.__file__).with_name("_core.pyi")

#: a value other than the default for every setting, each within its range
NON_DEFAULT = dict(epochs=7, batch_size=5, lr=0.01, optimizer="adamw", weight_decay=0.05, betas=(0.8, 0.99),
                   eps=1e-6, schedule="cosine", warmup_steps=3, step_epochs=2, gamma=0.5, min_lr=1e-5, clip_norm=2.0,
                   validation=0.2, early_stopping=4, min_delta=0.01, restore_best=False, scaling="standard",
                   input_scaling="channel", loss="gaussian_nll", calibration_split=0.25, transform="support",
                   shuffle=False, seed=9,
                   n_threads=1)


def _native_attributes() -> set:
    c = _core.TrainConfig()
    return {a for a in dir(c) if not a.startswith("_") and not callable(getattr(c, a))}


def _hand_written_to_core(cfg: TrainingConfig, seed: int):
    """to_core as it was written out before the schema: the loop must set the same values."""
    c = _core.TrainConfig()
    c.epochs, c.batch_size, c.loss = cfg.epochs, cfg.batch_size, cfg.loss
    c.lr, c.schedule, c.warmup_steps = cfg.lr, cfg.schedule, cfg.warmup_steps
    c.step_epochs, c.gamma, c.min_lr = cfg.step_epochs, cfg.gamma, cfg.min_lr
    c.clip_norm = cfg.clip_norm or 0.0
    c.patience = cfg.early_stopping or 0
    c.min_delta, c.restore_best, c.shuffle = cfg.min_delta, cfg.restore_best, cfg.shuffle
    c.seed = cfg.seed if cfg.seed is not None else seed
    c.n_threads = cfg.n_threads
    return c


# ------------------------------------------------------------------------------------ the schema
def test_the_schema_is_the_fields_of_training_config():
    assert list(SCHEMA) == [f.name for f in fields(TrainingConfig)] == list(distributed._FIELDS)
    assert set(NON_DEFAULT) == set(SCHEMA)
    for f in fields(TrainingConfig):
        setting = SCHEMA[f.name]
        assert f.metadata["setting"] is setting
        assert f.default == setting.default == getattr(TrainingConfig, f.name), f.name
        assert setting.help and "\n" not in setting.help and len(setting.help) < 120, f.name
        # a setting that may be None says what None means
        assert ("None" in str(f.type)) == (setting.none is not None), f.name
        if setting.choices is not None:
            assert setting.default in (None, *setting.choices) and value_type(f.name) is str, f.name
        assert NON_DEFAULT[f.name] != setting.default, f.name
    assert TrainingConfig(**NON_DEFAULT).settings() == {**NON_DEFAULT, "betas": (0.8, 0.99)}


def test_the_docstring_lists_every_setting_with_its_default():
    doc = TrainingConfig.__doc__
    for name, setting in SCHEMA.items():
        assert f"{name} : " in doc and f"default {setting.default!r}\n    {setting.help}" in doc, name


# ------------------------------------------------------------------------- the native trainer
def test_every_native_attribute_is_set_from_the_schema():
    set_by_schema = [s.core for s in SCHEMA.values() if s.core is not None]
    assert len(set_by_schema) == len(set(set_by_schema))
    assert set(set_by_schema).isdisjoint(NATIVE_DEFAULTS)
    assert set(set_by_schema) | set(NATIVE_DEFAULTS) == _native_attributes()


def test_to_core_of_non_default_settings_sets_each_native_attribute():
    cfg = TrainingConfig(**NON_DEFAULT)
    core, fresh = cfg.to_core(seed=123), _core.TrainConfig()
    for name, setting in SCHEMA.items():
        if setting.core is None:
            continue
        value = getattr(cfg, name)
        assert getattr(core, setting.core) == (value if setting.native is None else setting.native(value)), name
        assert getattr(core, setting.core) != getattr(fresh, setting.core), f"{name} left at the native default"
    for attr in NATIVE_DEFAULTS:
        assert getattr(core, attr) == getattr(fresh, attr)
    # derived: no clipping and no early stopping are 0 natively; no seed is to_core's
    plain = TrainingConfig().to_core(seed=123)
    assert (plain.clip_norm, plain.patience, plain.seed) == (0.0, 0, 123)


@pytest.mark.parametrize("cfg", [TrainingConfig(), TrainingConfig(**NON_DEFAULT), Training(),
                                 TrainingConfig(seed=2**64 - 1, clip_norm=0.5, early_stopping=1)])
def test_to_core_sets_what_the_hand_written_assignments_set(cfg):
    loop, hand = cfg.to_core(seed=77), _hand_written_to_core(cfg, 77)
    assert {a: getattr(loop, a) for a in _native_attributes()} == {a: getattr(hand, a) for a in _native_attributes()}


def test_the_stub_lists_exactly_the_bound_attributes():
    tree = ast.parse(STUB.read_text())
    (stub,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "TrainConfig"]
    attributes = {n.target.id for n in stub.body if isinstance(n, ast.AnnAssign)}
    methods = {n.name for n in stub.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}
    c = _core.TrainConfig()
    assert attributes == _native_attributes()
    assert methods == {a for a in dir(c) if not a.startswith("_") and callable(getattr(c, a))}


# ---------------------------------------------------------------------- the study's overrides
def test_the_study_overrides_defaults_of_the_schema_only():
    own = {f.name for f in fields(Training)} - set(SCHEMA)
    assert own == {"members"}
    overridden = {}
    for f in fields(Training):
        if f.name in SCHEMA:
            assert f.metadata["setting"] is SCHEMA[f.name], f.name
            if f.default != SCHEMA[f.name].default:
                assert f.metadata["override"] == f.name
                overridden[f.name] = f.default
    assert overridden == {"epochs": 200, "lr": 2e-3, "validation": 0.1, "early_stopping": 40, "seed": 0,
                          "input_scaling": "none", "calibration_split": None}


def test_a_subclass_redeclares_a_setting_only_as_an_override():
    with pytest.raises(TypeError, match=r"redeclares the training setting 'epochs'.*override\('epochs'"):
        @dataclass
        class Plain(TrainingConfig):
            epochs: int = 5

    with pytest.raises(ValueError, match="'epoch' is not a training setting"):
        override("epoch", 5)

    @dataclass
    class Short(TrainingConfig):
        epochs: int = override("epochs", 5)

    assert Short().epochs == 5 and Short().settings() == {**TrainingConfig().settings(), "epochs": 5}


# ------------------------------------------------------------------------------ command line
def _actions(command: str) -> dict:
    sub = _subparser(build_parser(), command)
    return {a.option_strings[0]: a for a in sub._actions if a.option_strings}


def _expected(name: str, source: str):
    return getattr({"schema": TrainingConfig, "study": Training}[source], name)


def test_the_train_command_reads_its_defaults_and_help_from_the_schema():
    actions = _actions("train")
    for name, (option, source) in TRAIN_OPTIONS.items():
        action = actions[option]
        assert action.default == _expected(name, source), option
        assert action.help.startswith(SCHEMA[name].help), option
        assert action.choices == SCHEMA[name].choices, option
        if SCHEMA[name].choices is None:
            assert action.type is value_type(name), option
    # the study's where the command line says so, and only where the study's differs
    assert {n for n, (_, source) in TRAIN_OPTIONS.items() if source == "study"} == {"epochs", "lr"}
    assert all(getattr(Training, n) != SCHEMA[n].default for n in ("epochs", "lr"))
    assert actions["--seed"].default == Training.seed
    assert actions["--threads"].default == SCHEMA["n_threads"].default
    assert actions["--threads"].help.startswith(SCHEMA["n_threads"].help)


def test_train_help_shows_the_defaults(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for shown in ("--epochs EPOCHS passes over the training data (default: 200, the study's)",
                  "(default: 32)", "(default: 0.002, the study's)", "(default: no validation)",
                  "(default: never stop)", "(default: mse)", "(default: 0)"):
        assert shown in text


def test_demo_and_reproduce_read_the_study_s_training():
    demo = _actions("demo")
    assert [demo[o].default for o in ("--epochs", "--batch-size", "--lr")] == [Training.epochs, Training.batch_size,
                                                                               Training.lr]
    rep = _actions("reproduce")
    for option, name in (("--epochs", "epochs"), ("--optimizer", "optimizer"), ("--weight-decay", "weight_decay"),
                         ("--schedule", "schedule"), ("--validation", "validation"), ("--patience", "early_stopping"),
                         ("--input-scaling", "input_scaling")):
        action = rep[option]
        assert action.default is None and action.help.startswith(SCHEMA[name].help), option  # None: the study's
        shown = getattr(Training, name)
        shown = SCHEMA[name].none if shown is None else f"{shown:g}" if isinstance(shown, float) else str(shown)
        assert f"(default: {shown}" in action.help, option
    assert f"(default: {Training.members})" in rep["--members"].help


def test_the_train_options_are_settings():
    assert set(TRAIN_OPTIONS) <= set(SCHEMA)
    parser = _subparser(build_parser(), "train")
    dests = {a.dest for a in parser._actions}
    assert all(option[2:].replace("-", "_") in dests for option, _ in TRAIN_OPTIONS.values())


# ---------------------------------------------------------------------- scikit-learn wrapper
def test_the_sklearn_wrapper_reads_its_defaults_from_the_schema():
    pytest.importorskip("sklearn")
    from fhn_inverse.sklearn import InverseMapRegressor

    params = inspect.signature(InverseMapRegressor.__init__).parameters
    study = {"epochs", "lr", "seed"}  # the wrapper trains like the study by default (its docstring says so)
    settings = set(params) & set(SCHEMA) - {"scaling"}  # scaling None: by the loss (minmax or standard)
    assert settings == {"loss", "epochs", "batch_size", "lr", "optimizer", "weight_decay", "schedule", "validation",
                        "early_stopping", "seed", "n_threads"}
    for name in settings:
        assert params[name].default == getattr(Training if name in study else TrainingConfig, name), name
    assert params["scaling"].default is None
    # the docstring states the defaults of the signature
    documented = re.findall(r"^    (\w+) : .*?, (default .+|optional)$", InverseMapRegressor.__doc__, re.M)
    assert {n for n, _ in documented} == set(params) - {"self"}
    for name, what in documented:
        value = None if what == "optional" else ast.literal_eval(what[len("default "):])
        assert value == params[name].default, name
