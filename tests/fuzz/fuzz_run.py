"""Run one fuzz target: ``python tests/fuzz/fuzz_run.py TARGET --seconds 600``.

Two engines. ``random`` (the default when atheris is missing, and the one the test suite uses):
a seeded mutator in this process feeds inputs to a worker process, which loads them; a signal,
no answer within ``--timeout`` seconds, or a peak RSS above ``--max-rss-mb`` is a finding, and
the worker is restarted. Inputs whose outcome (exception type and message, digits ignored) is new
join the corpus, so mutations build on inputs that got past earlier checks. ``atheris``:
coverage-guided (libFuzzer) in this process, with the same format-aware mutator; a crash, hang or
memory blow-up ends the run with libFuzzer's artefact in the findings folder.

Every finding is saved once per (kind, exception type, place) in the findings folder: the input
(``<kind>-<type>-<hash>.bin``) and what happened (``.txt``). The summary lists inputs tried,
outcomes and findings by type; the exit status is 1 when there is any finding.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import random
import re
import resource
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fuzz_targets import MAX_INPUT, TARGETS  # noqa: E402


# -- one input, judged (in the worker, or in process under atheris)

def _where(tb) -> str:
    """The innermost frame in fhn_inverse (else the innermost frame): where a finding comes from."""
    frames = traceback.extract_tb(tb)
    ours = [f for f in frames if "fhn_inverse" in f.filename] or frames
    f = ours[-1] if ours else None
    return f"{Path(f.filename).name}:{f.lineno}" if f else "?"


def evaluate(target, data: bytes, folder: Path) -> dict:
    """Load one input; {'outcome': 'ok' | 'skip' | exception type, 'finding': None | kind, ...}."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        loaded = target.load(data, folder)
        if loaded is None:
            return {"outcome": "skip", "finding": None}
        obj, name = loaded
        problem = target.check(obj)
        if problem:
            return {"outcome": "ok", "finding": "accepted-invalid", "type": "accepted-invalid",
                    "where": target.name, "message": problem}
        return {"outcome": "ok", "finding": None}
    except target.documented as e:
        message = str(e)
        kind = type(e).__name__
        name = "fuzzensemble" if target.name == "ensemble" else "fuzzinput"  # the names the targets write
        if name not in message:
            return {"outcome": kind, "finding": "unnamed-error", "type": kind, "where": _where(e.__traceback__),
                    "message": message[:500], "traceback": traceback.format_exc()[-4000:]}
        return {"outcome": kind, "finding": None, "message": message[:300]}
    except BaseException as e:  # noqa: BLE001 - every other type is what the fuzzer looks for
        if isinstance(e, KeyboardInterrupt):
            raise
        return {"outcome": type(e).__name__, "finding": "exception", "type": type(e).__name__,
                "where": _where(e.__traceback__), "message": str(e)[:500],
                "traceback": traceback.format_exc()[-4000:]}


def worker_main(target_name: str, folder: Path) -> None:
    """Read framed inputs on stdin, answer one JSON line each on the original stdout."""
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # anything else printed (native code included) goes to stderr
    sys.stdout = sys.stderr
    warnings.simplefilter("ignore")
    sys.setrecursionlimit(1000)
    target = TARGETS[target_name]
    from fhn_inverse.study.speed import peak_rss_mb  # the package imported before the first input
    out.write(b'{"ready": true}\n')  # the parent starts timing inputs only now
    read = sys.stdin.buffer.read
    while True:
        head = read(4)
        if len(head) < 4:
            return
        data = read(struct.unpack("<I", head)[0])
        result = evaluate(target, data, folder)
        # VmHWM, not ru_maxrss: Linux carries the parent's peak into ru_maxrss across fork and
        # exec, so a worker started from a large test process would report that process's peak
        result["rss_mb"] = peak_rss_mb()
        out.write((json.dumps(result) + "\n").encode())


STARTUP_SECONDS = 300.0


class Worker:
    """The worker process of the random engine; restarted after a crash, hang or memory finding."""

    def __init__(self, target_name: str, folder: Path, max_memory_mb: int):
        self.target_name, self.folder, self.max_memory_mb = target_name, folder, max_memory_mb
        self.proc = None

    def start(self):
        self.stderr_path = self.folder / "worker-stderr.log"
        limit = self.max_memory_mb << 20
        self.stderr = open(self.stderr_path, "wb")

        def limits():  # address space, a backstop against runaway allocations
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        self.proc = subprocess.Popen([sys.executable, str(HERE / "fuzz_run.py"), "--worker", self.target_name,
                                      "--folder", str(self.folder / "work")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, preexec_fn=limits, env=env)
        # A busy machine can take seconds to start an interpreter and import the package; that
        # time is not an input's, so inputs are timed only once the worker says it is ready.
        ready, _, _ = select.select([self.proc.stdout], [], [], STARTUP_SECONDS)
        if not ready or json.loads(self.proc.stdout.readline() or b"{}").get("ready") is not True:
            tail = self.stderr_path.read_bytes()[-3000:].decode(errors="replace")
            self.stop()
            raise RuntimeError(f"the fuzz worker did not start within {STARTUP_SECONDS} s:\n{tail}")

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            self.proc.stdin.close()
            self.proc.stdout.close()
            self.stderr.close()
            self.proc = None

    def run(self, data: bytes, timeout: float) -> dict:
        if self.proc is None:
            self.start()
        try:
            self.proc.stdin.write(struct.pack("<I", len(data)) + data)
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else None
        if line:
            return json.loads(line)
        if line is None:
            self.stop()
            return {"outcome": "hang", "finding": "hang", "type": "hang", "where": "-",
                    "message": f"no answer within {timeout} s"}
        code = self.proc.wait()
        tail = self.stderr_path.read_bytes()[-3000:].decode(errors="replace")
        self.stop()
        name = signal.Signals(-code).name if code < 0 and -code in signal.Signals._value2member_map_ else f"exit {code}"
        return {"outcome": "crash", "finding": "crash", "type": name, "where": "-",
                "message": f"worker ended: {name}", "traceback": tail}


# -- findings and the summary

class Record:
    def __init__(self, target: str, folder: Path):
        self.target, self.folder = target, folder
        self.inputs = 0
        self.outcomes = collections.Counter()
        self.findings = collections.Counter()
        self.saved: dict[tuple, Path] = {}
        self.started = time.monotonic()

    def add(self, data: bytes, result: dict, label: str = "") -> None:
        self.inputs += 1
        self.outcomes[result["outcome"]] += 1
        if not result.get("finding"):
            return
        key = (result["finding"], result.get("type", "?"), result.get("where", "?"))
        self.findings[key] += 1
        if key in self.saved:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = f"{key[0]}-{key[1]}-{hashlib.sha1(data).hexdigest()[:10]}"
        (self.folder / f"{stem}.bin").write_bytes(data)
        (self.folder / f"{stem}.txt").write_text(
            f"target: {self.target}\nfinding: {key[0]}\ntype: {key[1]}\nwhere: {key[2]}\n"
            f"input: {label or 'mutated'} ({len(data)} bytes)\nmessage: {result.get('message', '')}\n\n"
            f"{result.get('traceback', '')}\n")
        self.saved[key] = self.folder / f"{stem}.bin"

    def to_json(self, engine: str) -> dict:
        return {"target": self.target, "engine": engine, "inputs": self.inputs,
                "seconds": time.monotonic() - self.started, "outcomes": dict(self.outcomes.most_common()),
                "findings": [[*key, n, str(self.saved[key])] for key, n in self.findings.most_common()]}

    def summary(self, engine: str) -> str:
        return summary(self.to_json(engine))


def summary(stats: dict) -> str:
    """Inputs tried, outcomes and findings by type, from Record.to_json."""
    seconds, inputs = stats["seconds"], stats["inputs"]
    lines = [f"target {stats['target']} ({stats['engine']}): {inputs:,} inputs in {seconds:.0f} s "
             f"({inputs / max(seconds, 1e-9):,.0f}/s)",
             "outcomes: " + ", ".join(f"{k} {v:,}" for k, v in stats["outcomes"].items())]
    findings = stats["findings"]
    lines.append(f"findings: {sum(f[3] for f in findings):,} ({len(findings)} distinct)" if findings else "findings: 0")
    for kind, kind_type, where, n, saved in findings:
        lines.append(f"  {kind:16s} {kind_type:20s} {where:28s} x{n:<6,} {saved}")
    return "\n".join(lines)


def _signature(result: dict) -> str:
    message = re.sub(r"\d+", "N", result.get("message", ""))
    message = re.sub(r"\S*fuzz\S*", "F", message)
    return f"{result['outcome']}|{message[:160]}"


def fuzz_random(target_name: str, seconds: float, seed: int, findings: Path, *, max_inputs: int | None = None,
                timeout: float = 5.0, max_rss_mb: int = 1024, max_memory_mb: int = 4096) -> Record:
    """The random engine; returns the record (see Record.summary)."""
    target = TARGETS[target_name]
    rng = random.Random(seed)
    record = Record(target_name, findings)
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{target_name}-") as tmp:
        tmp = Path(tmp)
        (tmp / "seeds").mkdir()
        seeds = target.make_seeds(tmp / "seeds")
        fixed = target.make_fixed(tmp / "seeds")
        worker = Worker(target_name, tmp, max_memory_mb)
        corpus, seen = list(seeds), set()

        def one(data, label=""):
            result = worker.run(data[:MAX_INPUT], timeout)
            if result.get("rss_mb", 0) > max_rss_mb and not result.get("finding"):
                result.update(finding="memory", type="memory", where=result["outcome"],
                              message=f"peak RSS {result['rss_mb']:.0f} MB > {max_rss_mb} MB")
            if result.get("finding") in ("memory",):
                worker.stop()  # the peak is per process: start afresh
            record.add(data, result, label)
            return result

        try:
            for i, data in enumerate(seeds):
                result = one(data, f"seed {i}")
                if result["outcome"] != "ok" and not result.get("finding"):
                    record.findings[("seed-rejected", result["outcome"], target_name)] += 1
                    record.saved[("seed-rejected", result["outcome"], target_name)] = Path(f"seed {i}")
                seen.add(_signature(result))
            for label, data in fixed:
                one(data, label)
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline and (max_inputs is None or record.inputs < max_inputs):
                data = target.mutate(rng.choice(corpus), rng, corpus)[:MAX_INPUT]
                result = one(data)
                sig = _signature(result)
                if sig not in seen:
                    seen.add(sig)
                    if len(data) <= 1 << 20 and len(corpus) < 4000:
                        corpus.append(data)
        finally:
            worker.stop()
    return record


# -- atheris

INSTRUMENTED = ("fhn_inverse", "/json/", "zipfile", "numpy/lib/_format_impl", "numpy/lib/_npyio_impl")


def _instrument(atheris) -> None:
    """Coverage for the loaders and the parsers they call. (instrument_imports misses the editable
    install's import hook; instrument_all takes about a minute for everything loaded.)"""
    import gc
    import types

    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType) and any(p in obj.__code__.co_filename for p in INSTRUMENTED):
            try:
                atheris.instrument_func(obj)
            except Exception:  # noqa: BLE001 - a function atheris cannot patch keeps running uninstrumented
                pass


def atheris_child(target_name: str, seconds: float, seed: int, findings: Path, extra: list) -> None:
    """The libFuzzer process: stops itself after ``seconds`` (writing its statistics) unless a
    crash, hang or memory blow-up ends it first."""
    import atheris

    import fhn_inverse.cli  # noqa: F401

    _instrument(atheris)
    warnings.simplefilter("ignore")
    sys.setrecursionlimit(1000)
    target = TARGETS[target_name]
    tmp = Path(tempfile.mkdtemp(prefix=f"fuzz-{target_name}-"))
    corpus_dir = findings.parent / f"{target_name}-corpus"
    corpus_dir.mkdir(parents=True, exist_ok=True)
    findings.mkdir(parents=True, exist_ok=True)
    (tmp / "seeds").mkdir()
    seeds = target.make_seeds(tmp / "seeds")
    for data in seeds + [d for _, d in target.make_fixed(tmp / "seeds")]:
        (corpus_dir / hashlib.sha1(data).hexdigest()).write_bytes(data)
    stats = findings.parent / f"{target_name}-stats.json"
    record = Record(target_name, findings)
    deadline, last = time.monotonic() + seconds, [time.monotonic()]
    # libFuzzer's own byte mutations mostly break the ensemble's packed-folder framing
    library_share = 0.1 if target_name == "ensemble" else 0.4

    def test_one(data: bytes) -> None:
        record.add(data, evaluate(target, data, tmp / "work"))
        now = time.monotonic()
        if now - last[0] > 2 or now > deadline:
            last[0] = now
            stats.write_text(json.dumps(record.to_json("atheris")))
        if now > deadline:
            shutil.rmtree(tmp, ignore_errors=True)
            os._exit(0)

    def custom_mutator(data: bytes, max_size: int, mseed: int) -> bytes:
        rng = random.Random(mseed)
        if rng.random() < library_share:
            return atheris.Mutate(data, max_size)
        try:
            return target.mutate(data, rng, seeds)[:max_size]
        except Exception:  # noqa: BLE001 - the random engine's tests catch mutator errors; here keep fuzzing
            return atheris.Mutate(data, max_size)

    argv = [sys.argv[0], f"-max_total_time={int(seconds) + 120}", "-timeout=10", "-rss_limit_mb=2048",
            f"-seed={seed + 1}", "-max_len=1048576", f"-artifact_prefix={findings}/", str(corpus_dir), *extra]
    atheris.Setup(argv, test_one, custom_mutator=custom_mutator)
    atheris.Fuzz()


def fuzz_atheris(target_name: str, seconds: float, seed: int, findings: Path, extra: list) -> int:
    """Run atheris_child in a process of its own, then summarise: the statistics it wrote and the
    artefacts libFuzzer left (crash-*, timeout-*, oom-*). libFuzzer's output goes to a log."""
    stats = findings.parent / f"{target_name}-stats.json"
    log = findings.parent / f"{target_name}-libfuzzer.log"
    findings.parent.mkdir(parents=True, exist_ok=True)
    stats.unlink(missing_ok=True)
    with open(log, "wb") as out:
        code = subprocess.call([sys.executable, str(HERE / "fuzz_run.py"), target_name, "--atheris-child",
                                "--seconds", str(seconds), "--seed", str(seed), "--findings", str(findings.parent),
                                *extra], stdout=out, stderr=subprocess.STDOUT)
    result = json.loads(stats.read_text()) if stats.exists() else {
        "target": target_name, "engine": "atheris", "inputs": 0, "seconds": 0.0, "outcomes": {}, "findings": []}
    artefacts = sorted(p for p in findings.glob("*-*") if p.name.split("-")[0] in ("crash", "timeout", "oom", "leak"))
    for p in artefacts:
        result["findings"].append([p.name.split("-")[0], "libFuzzer", "-", 1, str(p)])
    if code != 0 and not artefacts:
        result["findings"].append(["crash", f"exit {code}", "-", 1, str(log)])
    print(summary(result) + f"\nlibFuzzer log: {log}", flush=True)
    return 1 if result["findings"] else 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("target", choices=sorted(TARGETS))
    p.add_argument("--seconds", type=float, default=600.0)
    p.add_argument("--engine", choices=("random", "atheris"), default="random")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--findings", default=str(HERE.parents[1] / "build" / "fuzz" / "findings"))
    p.add_argument("--timeout", type=float, default=5.0, help="seconds one input may take (random engine)")
    p.add_argument("--max-rss-mb", type=int, default=1024, help="peak RSS of the worker (random engine)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--folder", help=argparse.SUPPRESS)
    p.add_argument("--atheris-child", action="store_true", help=argparse.SUPPRESS)
    args, extra = p.parse_known_args(argv)
    if args.worker:
        worker_main(args.target, Path(args.folder))
        return 0
    findings = Path(args.findings) / args.target
    if args.atheris_child:
        atheris_child(args.target, args.seconds, args.seed, findings, extra)
        return 0
    if args.engine == "atheris":
        return fuzz_atheris(args.target, args.seconds, args.seed, findings, extra)
    record = fuzz_random(args.target, args.seconds, args.seed, findings, timeout=args.timeout,
                         max_rss_mb=args.max_rss_mb)
    print(record.summary("random"), flush=True)
    return 1 if record.findings else 0


if __name__ == "__main__":
    sys.exit(main())
