"""The study commands: ``reproduce`` (one of the study's experiments, or all of them, here or on
a Dask cluster) and ``report`` (tables of reproduced results beside the study's, the differences
between two runs, or a Markdown page's generated blocks re-made)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

__all__ = ["_reproduce", "_report"]


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
    if args.seeds is not None and args.seeds < 1:  # checked before any experiment starts (0 is not "the default")
        raise ValueError(f"--seeds must be >= 1, got {args.seeds}")
    seeds = (1 if args.quick else 5) if args.seeds is None else args.seeds
    names = list(experiments.EXPERIMENTS) if args.name == "all" else [args.name]
    kwargs = dict(quick=args.quick, seed=args.seed, seeds=seeds,
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
    from fhn_inverse.study.model_tables import is_model_results, load_model_results, model_tables

    if is_model_results(args.root):  # a kept run of benchmarks/model_results.py: the per-model tables
        print(model_tables(load_model_results(args.root)).strip("\n"))
        return 0
    text = report.compare(args.root)
    if not text:
        names = ", ".join(name for name, _ in report.TABLES)
        raise ValueError(f"no results.json of {names} under {args.root}")
    print(text)
    return 0
