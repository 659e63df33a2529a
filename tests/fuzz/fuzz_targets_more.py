"""Two more fuzz targets: the Zarr store reader (``open_zarr`` and reading every row, what
``train store.zarr`` does) and the command line's TOML ``--config``.

The store is one input as a packed folder (``fuzz_mutators.pack_folder``, with relative paths);
its mutator edits the JSON metadata (attributes, shapes, dtypes, codecs; with and without the
header digest, so that the structural checks of digest-less stores are reached too), the chunks
(bit flips, truncation, garbage, swaps) and the file list (a chunk or a metadata file deleted). A
documented outcome is a data set that passes the data-set contract, or a ValueError / OSError
naming the store. The config target reads the file as every command's option defaults; a
documented outcome is options of the types argparse gives, or the CLI's one-line error naming
the file.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import fuzz_mutators as mut


def _pack_tree(root: Path) -> bytes:
    files = [(str(p.relative_to(root)), p.read_bytes()) for p in sorted(root.rglob("*")) if p.is_file()]
    return mut.pack_folder(files)


def store_seeds(folder: Path) -> list:
    import fhn_inverse as fi
    from fhn_inverse.data import store

    from fuzz_targets import _tiny_dataset

    data = _tiny_dataset()
    out = []
    for i, (chunk, dtype) in enumerate(((2, "float64"), (4, "float32"))):
        path = folder / f"seed_{i}.zarr"
        store.save_zarr(data, path, chunk=chunk, dtype=dtype)
        out.append(_pack_tree(path))
    clean = fi.Dataset.generate(3, seed=4, t=[0.0, 1.0, 2.0, 3.0], progress=False, n_threads=1)
    store.save_zarr(clean, folder / "seed_2.zarr", chunk=3)
    out.append(_pack_tree(folder / "seed_2.zarr"))
    return out


def _mutate_metadata(payload: bytes, rng: random.Random) -> bytes:
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return mut.mutate_bytes(payload, rng)
    attrs = doc.get("attributes") if isinstance(doc, dict) else None
    if isinstance(attrs, dict) and rng.random() < 0.5:
        attrs.pop("header_sha256", None)  # a store from before digests: the structural checks alone
    r = rng.random()
    if isinstance(attrs, dict) and r < 0.4 and attrs:
        key = rng.choice(sorted(attrs))
        attrs[key] = rng.choice((None, -1, 0, 2**64, 2**70, 1.5, "x", [], {}, True, mut.hostile_value(rng),
                                 json.dumps({"a": 1}), "[" * 3000 + "]" * 3000, json.dumps([1, 2])))
        if rng.random() < 0.2:
            del attrs[key]
    elif isinstance(doc, dict) and "shape" in doc and r < 0.7:
        shape = list(doc["shape"]) if isinstance(doc["shape"], list) else [1]
        if shape:
            shape[rng.randrange(len(shape))] = rng.choice((0, 1, 2, 3, 7, 10**6, 10**12, 2**62, -1))
        doc["shape"] = shape if rng.random() < 0.9 else rng.choice(([], [1, 1, 1, 1], "x"))
    else:
        doc = mut.mutate_json(doc, rng)
    return mut.dumps_hostile(doc, rng).encode("utf-8") if rng.random() < 0.3 else json.dumps(doc).encode()


def store_mutate(data: bytes, rng: random.Random, others=()) -> bytes:
    files = mut.unpack_folder(data)
    if files is None or not files or rng.random() < 0.03:
        return mut.mutate_bytes(data, rng, others)
    i = rng.randrange(len(files))
    name, payload = files[i]
    r = rng.random()
    if name.endswith("zarr.json") and r < 0.6:
        files[i] = (name, _mutate_metadata(payload, rng))
    elif r < 0.6:
        files[i] = (name, mut.mutate_bytes(payload, rng, others))
    elif r < 0.72:
        del files[i]
    elif r < 0.82:
        chunks = [f for f in files if not f[0].endswith("zarr.json") and f[0] != name]
        if chunks:
            files[i] = (name, rng.choice(chunks)[1])  # a chunk swapped for another
    elif r < 0.9:
        files[i] = (name, os.urandom(rng.randrange(1, 200)))
    else:
        files.append((rng.choice(("d/c/99/0", "theta/c/0/1", "extra/zarr.json", "t/c/5")), payload))
    return mut.pack_folder(files)


def _safe_relative(name: str) -> bool:
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and all(p not in ("", ".", "..") for p in parts) \
        and "\x00" not in name and "\\" not in name and len(name.encode()) <= 200 and len(parts) <= 8


def store_load(data: bytes, folder: Path):
    from fhn_inverse.data import store

    files = mut.unpack_folder(data)
    if files is None:
        return None
    root = folder / "fuzzinput.zarr"
    root.mkdir()
    for name, payload in files:
        if not _safe_relative(name):
            continue
        target = root / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.write_bytes(payload)
        except OSError:  # a file where a folder belongs: the input is not a tree
            continue
    z = store.open_zarr(root)
    data = z.load()
    list(z.blocks())  # the block reader that streams use
    return data, root.name


def store_check(ds) -> str | None:
    from fuzz_targets import dataset_check

    return dataset_check(ds)


# -- the command line's --config

CONFIG_SEEDS = (b"epochs = 3\nbatch_size = 32\nlr = 0.001\nthreads = 1\nseed = 4\n",
                b"n = 10\nchunk = 5\ndtype = \"float32\"\nnoise = \"none\"\nstart = 7\n",
                b"train_size = 1000\ntest_size = 100\nquiet = true\n",
                b"level = 0.9\nlayout = \"rows\"\n")
CONFIG_TOKENS = ("1", "0", "-1", "1e999", "nan", "inf", "9" * 400, "2e308", "true", "\"x\"", "\"\"", "[]", "{}",
                 "[1, [2, [3]]]", "{a = {b = 1}}", "0x10", "1_000", "1979-05-27T07:32:00Z", "'''\n'''", "\"\\u0000\"",
                 "[" * 2000 + "]" * 2000, "{a=" * 1000 + "1" + "}" * 1000)
CONFIG_KEYS = ("epochs", "batch_size", "lr", "threads", "seed", "n", "chunk", "dtype", "level", "layout", "config",
               "help", "data", "output", "model", "quiet", "train_size", "no-such-option", "a.b.c", "\"q\"", "")


def config_mutate(data: bytes, rng: random.Random, others=()) -> bytes:
    if rng.random() < 0.3:
        return mut.mutate_bytes(data, rng, others)
    lines = data.decode("utf-8", errors="replace").split("\n")
    r = rng.random()
    line = f"{rng.choice(CONFIG_KEYS)} = {rng.choice(CONFIG_TOKENS)}"
    if r < 0.4:
        lines.insert(rng.randrange(len(lines) + 1), line)
    elif r < 0.6:
        lines[rng.randrange(len(lines))] = line
    elif r < 0.75:
        lines.insert(0, rng.choice(("[table]", "[[array]]", "[" + "a." * rng.randrange(1, 3000) + "b]",
                                    "[train]", "\ufeff")))
    elif r < 0.9 and lines:
        del lines[rng.randrange(len(lines))]
    else:
        lines.append(line * rng.randrange(1, 4))
    return "\n".join(lines).encode("utf-8", errors="surrogatepass")


_COMMANDS = ("demo", "simulate", "train", "info", "predict", "diagnose", "calibrate", "reproduce", "report")


def config_load(data: bytes, folder: Path):
    from fhn_inverse.cli.parser import _config_defaults, _subparser, _UserError, build_parser

    path = folder / "fuzzinput.toml"
    path.write_bytes(data)
    parser = build_parser()
    accepted, refused = {}, None
    for command in _COMMANDS:
        try:
            accepted[command] = _config_defaults(_subparser(parser, command), path)
        except _UserError as e:  # the command line's one-line error: a ValueError for the judge
            refused = refused or str(e)
    if not accepted:
        raise ValueError(refused)
    return accepted, path.name


def config_check(accepted) -> str | None:
    for command, options in accepted.items():
        for key, value in options.items():
            if not isinstance(value, (bool, int, float, str)):
                return f"{command}: option {key} became a {type(value).__name__}"
            if isinstance(value, float) and value != value:
                continue  # NaN is a value argparse's float accepts; the command checks its range
    return None
