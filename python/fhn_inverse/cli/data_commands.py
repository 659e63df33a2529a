"""The data commands: ``demo`` (simulate, train the study's CNN on clean and noisy series, report
its accuracy, write plots) and ``simulate`` (a data set as .npz, or a chunked .zarr store written
chunk by chunk, on a Dask cluster if asked)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from .._util.io import atomic_savefig, atomic_write_text
from .._util.validation import as_start
from .common import _check_series_count, _check_store_size, _output_file, _read_toml, _table

__all__ = ["_demo", "_simulate", "SIMULATED_MODELS"]

#: The models 'simulate --model' makes data of: (the model's class name, its keyword constants);
#: every model of the core's list under its name in kebab case, and the Morris–Lecar SNIC set.
SIMULATED_MODELS = {"fitzhugh-nagumo": ("FitzHughNagumo", {}), "morris-lecar": ("MorrisLecar", {}),
                    "morris-lecar-snic": ("MorrisLecar", {"v3": 12.0, "v4": 17.4}),
                    "hodgkin-huxley": ("HodgkinHuxley", {})}


def _kebab(name: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


def _add_listed_models() -> None:
    from ..models.simulation import MODELS

    for model in MODELS:
        if not any(name == model.__name__ for name, _ in SIMULATED_MODELS.values()):
            SIMULATED_MODELS[_kebab(model.__name__)] = (model.__name__, {})


_add_listed_models()


def _model_and_noise(args):
    """The model and the noise of 'simulate': the study's AR(1) law for FitzHugh–Nagumo; for the
    conductance models, in mV: a standard deviation uniform on [0.2, 1], ρ on the study's range; for
    a user model of a TOML file, its [noise] table, else σ uniform on 1–5 % of its series' median
    range (200 prior draws), ρ on the study's range."""
    import fhn_inverse as fi

    free = None if args.free is None else [q.strip() for q in args.free.split(",") if q.strip()]
    if args.model.endswith(".toml"):
        return _user_model_and_noise(args, free)
    if args.model not in SIMULATED_MODELS:
        raise ValueError(f"--model must be one of {', '.join(SIMULATED_MODELS)} or a .toml file that writes a model "
                         f"as equations (docs/guides/user-models.md), got {args.model!r}")
    name, constants = SIMULATED_MODELS[args.model]
    model = {m.__name__: m for m in fi.models.MODELS}[name](**constants, free=free)
    if args.noise == "none":
        return model, None
    return model, fi.AR1Noise() if name == "FitzHughNagumo" else fi.AR1Noise(sigma=(0.2, 1.0), dt=1.0)


def _user_model_and_noise(args, free):
    import numpy as np

    import fhn_inverse as fi

    config = dict(_read_toml(Path(args.model), "model"))
    noise = config.pop("noise", None)
    if free is not None:
        config["free"] = free
    try:
        model = fi.ODEModel.from_config(config)
    except (ValueError, TypeError) as err:
        raise ValueError(f"model {args.model}: {err}") from None
    if args.noise == "none":
        return model, None
    if noise is not None:  # AR(1) by default, or any law's record ("kind" = "lognormal", "poisson", ...)
        try:
            if "kind" in noise:  # dt = 1 (σ in the series' own units) unless the table says otherwise
                return model, fi.models.noise_from_dict({"dt": 1.0, **noise} if noise["kind"] == "ar1" else dict(noise))
            return model, fi.AR1Noise(**{"dt": 1.0, **noise})
        except (ValueError, TypeError) as err:
            raise ValueError(f"model {args.model}: [noise]: {err}") from None
    base = model.default()
    u = fi.simulate(fi.default_prior(base).sample(200, seed=0), model=base, return_status=True)[0]
    u = u.reshape(len(u), -1, u.shape[-1])  # (N, K, L): each observed quantity's own noise level
    spans = [float(np.nanmedian(np.ptp(u[:, c], axis=1))) for c in range(u.shape[1])]
    laws = [fi.AR1Noise(sigma=(0.01 * span, 0.05 * span), dt=1.0) for span in spans]
    return model, laws[0] if len(laws) == 1 else fi.models.ChannelNoise(laws, names=model.observed)


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
    names = list(fi.FitzHughNagumo.param_names)  # the model's, and their labels in figures and tables
    labels = [plotting.param_label(name) for name in names]
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
            rep = fi.metrics.report(test.theta, pred, names)
            results[regime] = rep
            rows.append([regime, f"{rep['median_ape_all']:.3f}", f"{rep['median_ape_sample']:.3f}",
                         *(f"{rep['r2'][name]:.3f}" for name in names)])
            atomic_savefig(plotting.predicted_vs_true(test.theta, pred, labels,
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
    print(_table(rows, ["regime (train/test)", "Median-APE (per component)", "Median-APE (per sample)",
                        *(f"R² {label}" for label in labels)]))
    print(f"\nwrote {out}/: results.json, models/*.safetensors, predicted_vs_true_*.png, loss_curves.png, "
          "prior_samples.png, series.png")
    return 0


def _prior(args, model):
    """The prior of 'simulate': the model's default, or the marginals of --prior's TOML file, one
    table per free quantity naming its family (uniform, normal, lognormal) and its numbers."""
    from ..models.priors import prior_from_dict

    if args.prior is None:
        return None
    spec = _read_toml(Path(args.prior), "prior")
    free = list(model.free)
    missing, extra = [q for q in free if q not in spec], [q for q in spec if q not in free]
    if missing or extra or not all(isinstance(spec[q], dict) for q in free):
        raise ValueError(f"prior {args.prior}: one table per free quantity ({', '.join(free)}) naming its family "
                         f"and numbers; missing: {', '.join(missing) or 'none'}, unknown: {', '.join(extra) or 'none'}")
    try:
        return prior_from_dict({"kind": "independent", "marginals": [{**spec[q], "name": q} for q in free]})
    except (ValueError, TypeError) as err:
        raise ValueError(f"prior {args.prior}: {err}") from None


def _simulate(args) -> int:
    import fhn_inverse as fi

    model, noise = _model_and_noise(args)
    prior = _prior(args, model)
    if args.output.endswith(".zarr"):  # a chunked store, written chunk by chunk (on a cluster if asked)
        from fhn_inverse import distributed
        from fhn_inverse.data import store

        _check_store_size("-n", args.n, args.output, args.dtype)
        as_start(args.start, max(args.n, 1), bits=63, why="a data set keeps its indices as int64")

        if args.scheduler or args.workers:
            client = None
            if args.scheduler:
                from dask.distributed import Client

                client = Client(args.scheduler)
            z = distributed.generate(args.n, args.seed, args.output, chunk=args.chunk, start=args.start,
                                     noise=noise, model=model, prior=prior, client=client,
                                     workers=args.workers or 2,
                                     dtype=args.dtype, method=args.method)
        else:
            head = fi.Dataset.generate(1, args.seed, noise=noise, model=model, prior=prior, start=args.start,
                                       progress=False, method=args.method)
            with store.building(args.output) as build:  # the old store stays until the new one is complete
                store.create_zarr(build, args.n, head.t.size, head.theta.shape[1], t=head.t, seed=args.seed,
                                  chunk=args.chunk, dtype=args.dtype, config=head.config,
                                  n_noise=head.noise.shape[1], channels=head.u.shape[1] if head.u.ndim == 3 else 1)
                digests = {}
                for lo in range(0, args.n, args.chunk):
                    rows = fi.Dataset.generate(min(args.chunk, args.n - lo), args.seed, noise=noise, model=model,
                                               prior=prior, start=args.start + lo, n_threads=args.threads,
                                               progress=False, method=args.method)
                    digests.update(store.write_rows(build, lo, rows))
                store.mark_complete(build, digests)
            z = store.open_zarr(args.output)
        print(f"wrote {len(z)} series to {args.output} (Zarr, chunks of {z.chunk})")
        return 0
    _check_series_count("-n", args.n)
    _output_file(args.output if args.output.endswith(".npz") else args.output + ".npz")
    data = fi.Dataset.generate(args.n, args.seed, noise=noise, model=model, prior=prior, start=args.start,
                               n_threads=args.threads, progress=not args.quiet, method=args.method)
    path = data.save(args.output)
    print(f"wrote {len(data)} series to {path}")
    return 0
