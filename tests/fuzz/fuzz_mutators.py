"""Mutators for the fuzz targets: byte-level (bit flips, truncation, splices, chunk edits) and
format-aware (the safetensors JSON header, the .npz members, CSV tokens, the ensemble archive).

Every mutator is a pure function of its input bytes and a ``random.Random``, so a run is
reproducible from its seed. None of them imports fhn_inverse: they describe hostile files, not
the loaders that read them.
"""

from __future__ import annotations

import io
import json
import math
import random
import struct
import warnings
import zipfile

import numpy as np

# -- byte level

INTERESTING_BYTES = (0x00, 0x01, 0x7F, 0x80, 0xFF, 0x20, 0x22, 0x5B, 0x7B, 0x2C)
INTERESTING_U64 = (0, 1, 2, 7, 8, 0x7F, 0xFF, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64 - 1)


def flip_bits(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return bytes([rng.randrange(256)])
    b = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 4, 8))):
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def set_bytes(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return bytes([rng.choice(INTERESTING_BYTES)])
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        b[rng.randrange(len(b))] = rng.choice(INTERESTING_BYTES) if rng.random() < 0.7 else rng.randrange(256)
    return bytes(b)


def set_u64(data: bytes, rng: random.Random) -> bytes:
    """An 8-byte little-endian integer (the safetensors header length, a zip size field) set to an edge value."""
    if len(data) < 8:
        return data + struct.pack("<Q", rng.choice(INTERESTING_U64))
    i = 0 if rng.random() < 0.5 else rng.randrange(len(data) - 7)
    return data[:i] + struct.pack("<Q", rng.choice(INTERESTING_U64)) + data[i + 8:]


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[:rng.randrange(len(data) + 1)] if data else data


def delete_chunk(data: bytes, rng: random.Random) -> bytes:
    if len(data) < 2:
        return data
    i = rng.randrange(len(data))
    j = min(len(data), i + rng.choice((1, 2, 4, 8, 64, 512)))
    return data[:i] + data[j:]


def insert_chunk(data: bytes, rng: random.Random) -> bytes:
    i = rng.randrange(len(data) + 1)
    if data and rng.random() < 0.5:  # a copy of part of the input
        a = rng.randrange(len(data))
        chunk = data[a:a + rng.choice((1, 4, 16, 256))]
    else:
        chunk = bytes(rng.randrange(256) for _ in range(rng.choice((1, 2, 8, 32))))
    return data[:i] + chunk * rng.choice((1, 1, 2, 16)) + data[i:]


def splice(data: bytes, other: bytes, rng: random.Random) -> bytes:
    """The head of one input followed by the tail of another."""
    return data[:rng.randrange(len(data) + 1)] + other[rng.randrange(len(other) + 1):]


BYTE_MUTATORS = (flip_bits, set_bytes, set_u64, truncate, delete_chunk, insert_chunk)


def mutate_bytes(data: bytes, rng: random.Random, others=()) -> bytes:
    if others and rng.random() < 0.15:
        return splice(data, rng.choice(others), rng)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        data = rng.choice(BYTE_MUTATORS)(data, rng)
    return data


# -- JSON values

DEEP = "<<deep>>"  # placeholder replaced by deeply nested JSON text after json.dumps


def hostile_value(rng: random.Random):
    return rng.choice((
        2**64, 2**63, -2**63 - 1, 10**30, -1, 0, 1, 1e308, -1e308, 1e-320, 0.5, -0.0,
        "", "x", "nan", "🙂" * 3, "a" * 10_000, None, True, False, [], {}, [1, 2, 3], {"a": 1},
        [[[[[1]]]]], [2**64], [-1, -1], [0], list(range(300)), DEEP,
    ))


def deep_json(rng: random.Random) -> str:
    depth = rng.choice((100, 1_000, 10_000, 200_000))
    opener, closer = ("[", "]") if rng.random() < 0.5 else ('{"a":', "}")
    return opener * depth + "1" + closer * depth


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node[:16]):
            yield from _paths(v, prefix + (i,))


def mutate_json(obj, rng: random.Random):
    """One edit at a random place of a parsed JSON value: a hostile value, a deleted or added
    key, a dropped or duplicated list item. Returns the new value (the input may be modified)."""
    paths = list(_paths(obj))
    path = rng.choice(paths)
    if not path:
        return hostile_value(rng) if rng.random() < 0.3 else obj
    parent = obj
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    r = rng.random()
    if r < 0.6:
        parent[key] = hostile_value(rng)
    elif r < 0.75:
        del parent[key]
    elif r < 0.85 and isinstance(parent, dict):
        parent[rng.choice(("extra", "kind", "units", "shape", "dtype", "layers", "__proto__"))] = hostile_value(rng)
    elif isinstance(parent, list):
        parent.insert(key, parent[key])
    else:
        parent[key] = [parent[key]]
    return obj


def dumps_hostile(obj, rng: random.Random) -> str:
    text = json.dumps(obj, allow_nan=True)
    while f'"{DEEP}"' in text:
        text = text.replace(f'"{DEEP}"', deep_json(rng), 1)
    return text


# -- safetensors (the model files)

def split_safetensors(data: bytes):
    """(header dict, tensor bytes) or None when the input is not a well-formed safetensors file."""
    if len(data) < 8:
        return None
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 8:
        return None
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return (header, data[8 + n:]) if isinstance(header, dict) else None


def join_safetensors(header_text: str, blob: bytes, pad: bool = True) -> bytes:
    raw = header_text.encode("utf-8")
    if pad:
        raw += b" " * (-len(raw) % 8)
    return len(raw).to_bytes(8, "little") + raw + blob


def drop_checksums(header) -> None:
    """Remove the integrity entries, so that a mutation reaches the checks behind them (a file
    without checksums is an older file, which still loads)."""
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if isinstance(meta, dict):
        for key in [k for k in meta if "sha256" in k or "checksum" in k]:
            del meta[key]


def mutate_safetensors(data: bytes, rng: random.Random, others=()) -> bytes:
    parts = split_safetensors(data)
    if parts is None or rng.random() < 0.15:
        return mutate_bytes(data, rng, others)
    header, blob = parts
    if rng.random() < 0.9:
        drop_checksums(header)
    meta = header.get("__metadata__")
    r = rng.random()
    if r < 0.4 and isinstance(meta, dict) and meta:
        # the metadata values are JSON documents in strings: edit inside one
        key = rng.choice(sorted(meta))
        try:
            inner = json.loads(meta[key]) if isinstance(meta[key], str) else meta[key]
        except (ValueError, RecursionError):
            inner = meta[key]
        if isinstance(inner, (dict, list)):
            meta[key] = dumps_hostile(mutate_json(inner, rng), rng)
        else:
            meta[key] = hostile_value(rng) if rng.random() < 0.5 else json.dumps(hostile_value(rng))
        if meta.get(key) == DEEP:
            meta[key] = deep_json(rng)
        text = dumps_hostile(header, rng)
    elif r < 0.7:
        text = dumps_hostile(mutate_json(header, rng), rng)
    elif r < 0.85 and len(blob) >= 4:
        # tensor data: NaN, inf, finite but absurd values (checksums dropped above)
        b = bytearray(blob)
        value = rng.choice((math.nan, math.inf, -math.inf, 3e38, -3e38, 1e30, 1e-45))
        for _ in range(rng.choice((1, 4, len(b) // 4))):
            i = 4 * rng.randrange(len(b) // 4)
            b[i:i + 4] = struct.pack("<f", value)
        text, blob = json.dumps(header), bytes(b)
    else:
        text, blob = json.dumps(header), mutate_bytes(blob, rng)
    return join_safetensors(text, blob, pad=rng.random() < 0.9)


# -- .npy and .npz (data sets, series)

def npy_bytes(array, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


def hostile_array(rng: random.Random, like: np.ndarray | None = None):
    shape = like.shape if like is not None and like.size else (3, 5)
    n = int(np.prod(shape))
    kind = rng.randrange(20)
    if kind == 0:
        return np.full(shape, np.nan)
    if kind == 1:
        a = np.ones(shape)
        a.flat[rng.randrange(n)] = rng.choice((np.inf, -np.inf, np.nan))
        return a
    if kind == 2:
        return np.full(shape, "x", dtype="U3")
    if kind == 3:
        return np.full(shape, b"x", dtype="S2")
    if kind == 4:
        return np.ones(shape, dtype=complex)
    if kind == 5:
        return np.zeros(shape, dtype=[("a", "<f8"), ("b", "<i4")])
    if kind == 6:
        a = np.empty(shape, dtype=object)
        a.fill(1.0)
        return a
    if kind == 7:
        return np.ones(shape, dtype=rng.choice(("f2", "i1", "u8", "?", ">f8", "<m8[s]", "M8[D]")))
    if kind == 8:
        return np.float64(rng.choice((1.0, np.nan, 1e308)))  # 0-d
    if kind == 9:
        return np.zeros((0,) + tuple(shape[1:]))
    if kind == 10:
        return np.ones(tuple(shape) + (2,))
    if kind == 11:
        return np.ones(shape[:1])
    if kind == 12:
        return np.asfortranarray(np.arange(n, dtype=float).reshape(shape)) if len(shape) > 1 else np.arange(n, 0, -1.0)
    if kind == 13:
        return np.full(shape, rng.choice((1e308, -1e308, 1e38, 5e-324)))
    if kind == 14:
        return np.arange(n, 0, -1, dtype=float).reshape(shape)  # decreasing
    if kind == 15:
        return np.zeros(shape, dtype="V8")
    if kind == 16:
        return np.ones(shape, dtype=np.int64) * rng.choice((-1, 2**62, 0))
    if kind == 17:
        value, dtype = rng.choice(((-1, "i8"), (2**64 - 1, "u8"), (2**63, "u8"), (0, "i8"), (2.0**70, "f8"),
                                   (-1.0, "f8"), (0.5, "f8")))
        return np.array(value, dtype=dtype)
    if kind == 18:
        return np.array(rng.choice(("[]", "null", "1e999", '"x"', "{}", "[1,2]", deep_json(rng), "{bad")))
    return np.ones(shape)


def npy_header_edit(data: bytes, rng: random.Random) -> bytes:
    """Edit the text dictionary of a .npy header: dtype, shape (huge or negative), order."""
    end = data.find(b"}")
    start = data.find(b"{")
    if start < 0 or end < start:
        return mutate_bytes(data, rng)
    text = data[start:end + 1].decode("latin-1")
    edits = (
        ("'descr': '<f8'", "'descr': '" + rng.choice(("<f4", "|O", "<c16", "<U8", "|V8", ">f8", "<i8", "x", "")) + "'"),
        ("'fortran_order': False", "'fortran_order': " + rng.choice(("True", "1", "None", "'x'"))),
    )
    old, new = rng.choice(edits)
    if old in text and rng.random() < 0.5:
        text = text.replace(old, new)
    else:
        i, j = text.find("'shape': ("), text.find(")", text.find("'shape': ("))
        if i >= 0 and j > i:
            dims = rng.choice(("(10**12,)", "(4294967296, 4294967296)", "(-1,)", "(0,)", "(1000000000,)",
                               "(2, 3, 4, 5)", "()", "('a',)", "(1.5,)", "(200000000,)", "(9223372036854775807,)"))
            text = text[:i] + "'shape': " + dims + text[j + 1:]
    head = data[:start] + text.encode("latin-1")
    # keep the header length field consistent half of the time
    if rng.random() < 0.5 and data[:6] == b"\x93NUMPY" and len(data) > 10:
        major = data[6]
        hl_size = 2 if major == 1 else 4
        body = text.encode("latin-1")
        pad = -(6 + 2 + hl_size + len(body) + 1) % 64
        header = body + b" " * pad + b"\n"
        fmt = "<H" if hl_size == 2 else "<I"
        if len(header) < 2 ** (8 * hl_size):
            return data[:8] + struct.pack(fmt, len(header)) + header + data[end + 1:].split(b"\n", 1)[-1]
    return head + data[end + 1:]


def mutate_npy(data: bytes, rng: random.Random, others=()) -> bytes:
    r = rng.random()
    if r < 0.3:
        return npy_header_edit(data, rng)
    if r < 0.55:
        try:
            like = np.load(io.BytesIO(data), allow_pickle=False)
        except Exception:  # noqa: BLE001 - any unreadable input just gets a fresh hostile array
            like = None
        return npy_bytes(hostile_array(rng, like), allow_pickle=True)
    return mutate_bytes(data, rng, others)


def read_zip(data: bytes):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return [(info.filename, z.read(info)) for info in z.infolist()]
    except Exception:  # noqa: BLE001 - a broken archive is simply not restructured
        return None


def write_zip(members, compress: bool = False) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings(), \
            zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
        warnings.simplefilter("ignore")  # duplicate member names are one of the mutations
        for name, payload in members:
            z.writestr(name, payload)
    return buf.getvalue()


def mutate_npz(data: bytes, rng: random.Random, others=()) -> bytes:
    members = read_zip(data)
    if members is None or not members or rng.random() < 0.15:
        return mutate_bytes(data, rng, others)
    r = rng.random()
    i = rng.randrange(len(members))
    name, payload = members[i]
    if r < 0.45:
        members[i] = (name, mutate_npy(payload, rng))
    elif r < 0.55:
        del members[i]
    elif r < 0.65:
        members.append((name, mutate_npy(payload, rng)))  # a duplicate member name
    elif r < 0.72:
        members.append((rng.choice(("extra.npy", "../evil.npy", "config", "t.npy/", "a" * 300 + ".npy")),
                        npy_bytes(np.ones(3))))
    elif r < 0.8 and others:
        other = read_zip(rng.choice(others)) or []
        donor = [m for m in other if m[0] == name]
        if donor:
            members[i] = donor[0]
    else:
        members[i] = (name, mutate_bytes(payload, rng))
    return write_zip(members, compress=rng.random() < 0.3)


# -- CSV (the series reader)

CSV_TOKENS = ("nan", "NaN", "inf", "-inf", "1e999", "-1e999", "1e308", "1e38", "0x10", "", " ", "abc", "1,2",
              "١٢", "\x00", "9" * 400, "1e", "--1", "+", ".", "1_000", "TRUE", "\"1\"", "#", "1;2", "\t",
              "#N/A", "#VALUE!", "\"", "\"a,\nb\"", "\u2028", "id", "t=0.5", "0,5", "x" * 200_000)


def mutate_csv(data: bytes, rng: random.Random, others=()) -> bytes:
    if rng.random() < 0.25:
        return mutate_bytes(data, rng, others)
    text = data.decode("utf-8", errors="replace")
    lines = text.splitlines() or [""]
    r = rng.random()
    row = rng.randrange(len(lines))
    cells = lines[row].split(",")
    if r < 0.4:
        cells[rng.randrange(len(cells))] = rng.choice(CSV_TOKENS)
    elif r < 0.5 and len(cells) > 1:
        del cells[rng.randrange(len(cells))]  # a ragged row
    elif r < 0.6:
        cells.extend(["1"] * rng.choice((1, 10, 5000)))
    elif r < 0.7:
        lines.insert(0, rng.choice(("theta0,theta1", "# comment", "", "\ufeff1,2", "a,b,c")))
    elif r < 0.8:
        lines = lines[:rng.randrange(len(lines) + 1)]
    elif r < 0.9:
        lines.extend([lines[row]] * rng.choice((1, 100)))
    else:
        return (rng.choice(("\r\n", "\r", "\n\n")).join(lines)).encode("utf-8")
    lines[row:row + 1] = [",".join(cells)] if row < len(lines) else []
    return "\n".join(lines).encode("utf-8", errors="surrogatepass")


# -- the ensemble folder as one input

def pack_folder(files) -> bytes:
    """[(name, bytes)] as one input: per file a u16 name length, the UTF-8 name, a u32 size and the bytes."""
    out = bytearray()
    for name, payload in files:
        raw = name.encode("utf-8")
        out += struct.pack("<H", len(raw)) + raw + struct.pack("<I", len(payload)) + payload
    return bytes(out)


def unpack_folder(data: bytes):
    """The files of a packed folder; None when the input is not one (the fuzzer then skips it)."""
    files, pos = [], 0
    while pos < len(data):
        if pos + 2 > len(data):
            return None
        (n,) = struct.unpack_from("<H", data, pos)
        pos += 2
        name = data[pos:pos + n]
        pos += n
        if pos + 4 > len(data):
            return None
        (size,) = struct.unpack_from("<I", data, pos)
        pos += 4
        payload = data[pos:pos + size]
        pos += size
        try:
            files.append((name.decode("utf-8"), payload))
        except UnicodeDecodeError:
            return None
    return files


def mutate_folder(data: bytes, rng: random.Random, others=()) -> bytes:
    files = unpack_folder(data)
    if files is None or rng.random() < 0.05:
        return mutate_bytes(data, rng, others)
    if not files:
        return pack_folder([("member_0.safetensors", b"")])
    r = rng.random()
    i = rng.randrange(len(files))
    name, payload = files[i]
    if r < 0.55:
        mut = mutate_safetensors if name.endswith(".safetensors") else (
            mutate_json_text if name.endswith(".json") else mutate_bytes)
        files[i] = (name, mut(payload, rng))
        if rng.random() < 0.7:
            files = reseal(files, name)
    elif r < 0.65:
        del files[i]
    elif r < 0.75:
        files.append((rng.choice(("member_7.safetensors", "member_-1.safetensors", "member_x.safetensors",
                                  "member_99999999999999999999.safetensors", "member_01.safetensors",
                                  "member_2.safetensors/", ".member_0.safetensors.tmp", "member_0.0badc0de.safetensors",
                                  "ensemble.json/")), payload))
    elif r < 0.85:
        others_members = [f for f in files if f[0] != name]
        if others_members:
            files[i] = (name, rng.choice(others_members)[1])  # a member swapped for another
    else:
        files[i] = (name, truncate(payload, rng))
    return pack_folder(files)


def reseal(files, name: str):
    """Update the SHA-256 a JSON manifest in the folder records for ``name``, so that an edited
    member reaches the member loader instead of the manifest's digest check."""
    import hashlib

    payload = dict(files).get(name)
    if payload is None:
        return files
    digest = hashlib.sha256(payload).hexdigest()

    def walk(node):
        if isinstance(node, dict):
            if node.get("file") == name and "sha256" in node:
                node["sha256"] = digest
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    out = []
    for fname, data in files:
        if fname.endswith(".json"):
            try:
                manifest = json.loads(data)
            except (UnicodeDecodeError, ValueError, RecursionError):
                out.append((fname, data))
                continue
            walk(manifest)
            data = json.dumps(manifest).encode()
        out.append((fname, data))
    return out


def mutate_json_text(data: bytes, rng: random.Random, others=()) -> bytes:
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return mutate_bytes(data, rng, others)
    if isinstance(obj, dict) and rng.random() < 0.8:
        drop_checksums({"__metadata__": obj})
    return dumps_hostile(mutate_json(obj, rng), rng).encode("utf-8")
