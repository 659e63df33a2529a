"""The InverseMap estimator: shapes, bad input, history, progress, Ctrl-C, model files."""

import json
import os
import signal
import threading
import time

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse import _core


def toy(n=200, length=40, channels=None, seed=0):
    rng = np.random.default_rng(seed)
    a, b = rng.random(n), rng.random(n)
    t = np.linspace(0, 1, length)
    x = a[:, None] + (b[:, None] - 0.5) * t[None, :]
    if channels:
        x = np.stack([x] + [x ** (c + 2) for c in range(channels - 1)], axis=1)
    return x.astype(np.float32), np.stack([3 * a - 1, 10 * b], axis=1)


def test_study_architectures():
    cnn = fi.InverseMap.cnn().build((1, 1000), 2)
    assert cnn.n_params == 33874
    dense = fi.InverseMap.dense().build((1000,), 2)
    assert dense.n_params == 1000 * 32 + 32 + 3 * 1056 + 66
    table = cnn.summary()
    assert "33,874" in table and "(32, 30)" in table and "(960,)" in table


def test_fit_predict_shapes_history_and_scaling():
    x, y = toy()
    m = fi.InverseMap.dense(units=[32, 32], seed=1)
    m.fit(x, y, epochs=30, batch_size=16, lr=1e-2, validation=0.2, progress=False)
    pred = m.predict(x)
    assert pred.shape == (200, 2) and pred.dtype == np.float64
    assert len(m.history["loss"]) == 30 and len(m.history["val_loss"]) == 30
    # labels are predicted in their own units (min–max scaling inverted)
    r2 = 1 - ((pred - y) ** 2).sum(0) / ((y - y.mean(0)) ** 2).sum(0)
    assert (r2 > 0.9).all(), r2
    # 1-D labels, (N, C, L) inputs, standard scaling, AdamW with cosine schedule and clipping
    x3, y3 = toy(channels=2)
    m2 = fi.InverseMap.cnn(filters=[4, 8], dense=[16], seed=2)
    m2.fit(x3, y3[:, 0], epochs=3, optimizer="adamw", schedule="cosine", clip_norm=1.0,
           scaling="standard", progress=False)
    assert m2.predict(x3).shape == (200, 1)


def test_early_stopping_restores_best():
    x, y = toy()
    m = fi.InverseMap.dense(units=[8], seed=3)
    m.fit(x, y, epochs=200, lr=5e-2, validation=(x[:50], y[:50]), early_stopping=3, progress=False)
    h = m.history
    assert h["stopped_early"] and len(h["loss"]) < 200
    best = h["val_loss"][h["best_epoch"]]
    ys = m.parts.scaling.transform(y[:50].astype(np.float32))
    assert m.network.loss(x[:50], ys) == pytest.approx(best, rel=1e-6)


def test_same_seed_same_result_any_thread_count():
    x, y = toy()
    p = []
    for threads in (1, 2):
        m = fi.InverseMap.cnn(filters=[4, 8], dense=[16], seed=4)
        m.fit(x, y, epochs=2, batch_size=64, n_threads=threads, progress=False)
        p.append(m.network.params)
    np.testing.assert_array_equal(p[0], p[1])


def test_study_cnn_trains_bitwise_alike_at_one_two_and_three_threads():
    # the study's CNN: fused convolutions, a narrow dense layer whose packed weights each thread
    # packs for itself, more chunks than threads at one thread, Adam inside the step
    rng = np.random.default_rng(6)
    x = rng.standard_normal((96, 1000)).astype(np.float32)
    y = rng.random((96, 2))
    p, m = [], None
    for threads in (1, 2, 3):
        m = fi.InverseMap.cnn(seed=2)
        m.fit(x, y, epochs=2, batch_size=32, n_threads=threads, progress=False)
        p.append(m.network.params)
    assert ("Dense", (32,), 960 * 32 + 32) in m.network.summary()  # (the narrow layer)
    np.testing.assert_array_equal(p[0], p[1])
    np.testing.assert_array_equal(p[0], p[2])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda m, x, y: m.fit(x[:10], y, progress=False), "same number of samples"),
        (lambda m, x, y: m.fit(np.where(np.arange(x.size).reshape(x.shape) == 7, np.nan, x), y, progress=False),
         "finite"),
        (lambda m, x, y: m.fit(x, np.where(np.arange(y.size).reshape(y.shape) == 3, np.inf, y), progress=False),
         "finite"),
        (lambda m, x, y: m.fit(x, y, lr=0, progress=False), "lr"),
        (lambda m, x, y: m.fit(x, y, lr=-1e-3, progress=False), "lr"),
        (lambda m, x, y: m.fit(x, y, batch_size=0, progress=False), "batch_size"),
        (lambda m, x, y: m.fit(x, y, epochs=0, progress=False), "epochs"),
        (lambda m, x, y: m.fit(x, y, optimizer="sgd", progress=False), "optimizer"),
        (lambda m, x, y: m.fit(x, y, validation=1.5, progress=False), "validation"),
        (lambda m, x, y: m.fit(x[:, :, None, None], y, progress=False), "dimensions"),
        (lambda m, x, y: m.fit(x, y[:, :, None], progress=False), "dimensions"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    x, y = toy(n=20)
    with pytest.raises(ValueError, match=match):
        call(fi.InverseMap.dense(units=[4]), x, y)


def test_bad_architecture_and_predict_shape():
    with pytest.raises(ValueError, match="softsign"):
        fi.InverseMap.cnn(activation="softsign")
    with pytest.raises(ValueError, match="softsign"):
        fi.InverseMap(["softsign"])
    with pytest.raises(ValueError, match="kernel"):
        fi.InverseMap.cnn(kernel=0)
    with pytest.raises(ValueError, match="kernel"):  # kernel longer than the input
        fi.InverseMap.cnn(filters=[4], kernel=50).build((1, 20), 1)
    x, y = toy(n=20)
    m = fi.InverseMap.dense(units=[4]).fit(x, y, epochs=1, progress=False)
    with pytest.raises(ValueError, match="shape"):
        m.predict(x[:, :30])


def test_progress_callback_and_keyboard_interrupt():
    x, y = toy(n=4000, length=1000, seed=5)
    m = fi.InverseMap.cnn(seed=6)
    timer = threading.Timer(0.7, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        m.fit(x, y, epochs=1000, batch_size=32, progress=True)
    assert time.perf_counter() - start < 0.7 + 1.0
    pred = m.predict(x[:10])  # the model is consistent
    assert np.isfinite(pred).all()
    assert tqdm_lock_free()  # the bar's updates held the Ctrl-C back: no lock left held


def tqdm_lock_free() -> bool:
    """Whether another thread can take tqdm's write lock (both of its locks) within 2 s."""
    from tqdm import tqdm

    lock, got = tqdm.get_lock(), []

    def take():
        ok = all(part.acquire(timeout=2) for part in lock.locks)
        got.append(ok)
        if ok:
            lock.release()

    t = threading.Thread(target=take)
    t.start()
    t.join()
    return got == [True]


def test_ctrl_c_inside_a_progress_update_is_raised_after_it():
    # a KeyboardInterrupt between tqdm's two locks would leave the first held (and the next bar,
    # or tqdm's monitor thread, waiting for it forever): interrupts_held raises it after the block
    from tqdm import tqdm

    from fhn_inverse._util.signals import interrupts_held

    lock, steps = tqdm.get_lock(), []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_held():
            lock.locks[0].acquire()
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):  # (bytecode boundaries, where Python would raise it)
                steps.append(1)
            lock.locks[1].acquire()
            lock.release()
            steps.append("released")
    assert steps[-1] == "released" and len(steps) == 1001
    assert tqdm_lock_free()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_callback_called_at_least_once_a_second():
    x, y = toy(n=500, length=1000, seed=7)
    net = _core.Network((1, 1000), fi.InverseMap.cnn().parts.architecture.full_layers((1, 1000), 2), 0)
    calls = []
    _core.fit(net, _core.Adam(net.n_params), x[:, None, :], (y / 10).astype(np.float32),
              config=fi.TrainingConfig(epochs=4).to_core(0),
              progress=lambda info: calls.append((time.perf_counter(), info["epoch_end"])))
    times = [t for t, _ in calls]
    assert sum(end for _, end in calls) == 4
    assert max(np.diff(times), default=0) < 1.0


# ----------------------------------------------------------------------------------- model files
@pytest.fixture
def trained(tmp_path):
    x, y = toy(channels=2, seed=8)
    m = fi.InverseMap.cnn(filters=[4, 8], dense=[16], seed=9)
    m.fit(x, y, epochs=3, validation=0.25, progress=False)
    path = tmp_path / "map.safetensors"
    m.save(path)
    return m, x, path


def test_save_load_round_trip_is_bitwise(trained, tmp_path):
    m, x, path = trained
    m2 = fi.InverseMap.load(path)
    np.testing.assert_array_equal(m2.network.params, m.network.params)
    np.testing.assert_array_equal(m2.predict(x), m.predict(x))
    assert m2.summary() == m.summary()
    m2.save(tmp_path / "again.safetensors")
    assert (tmp_path / "again.safetensors").read_bytes() == path.read_bytes()


def test_file_opens_with_safetensors(trained):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    from safetensors import safe_open

    m, _, path = trained
    tensors = safetensors_numpy.load_file(str(path))
    for name, offset, shape in m.network.param_tensors():
        np.testing.assert_array_equal(tensors[name].ravel(), m.network.params[offset: offset + int(np.prod(shape))])
        assert tensors[name].shape == tuple(shape)
    with safe_open(str(path), framework="numpy") as f:
        meta = f.metadata()
    arch = json.loads(meta["architecture"])
    assert arch["input_shape"] == [2, 40]
    assert json.loads(meta["scaling"])["kind"] == "minmax"
    assert json.loads(meta["training"])["epochs"] == 3


def _corrupt(path, data):
    path.write_bytes(data)
    return path


def test_truncated_corrupted_hostile_files_raise(trained, tmp_path):
    _, _, path = trained
    good = path.read_bytes()
    n = int.from_bytes(good[:8], "little")
    header = json.loads(good[8: 8 + n])
    bad = tmp_path / "bad.safetensors"

    def with_header(h, tail=good[8 + n:]):
        raw = json.dumps(h).encode()
        return len(raw).to_bytes(8, "little") + raw + tail

    # without checksums (as older files), so that the checks behind them are exercised
    for key in ("checksum_sha256", "header_sha256"):
        del header["__metadata__"][key]
    good = with_header(header)
    n = int.from_bytes(good[:8], "little")

    cases = {
        "empty": b"",
        "short": good[:5],
        "truncated header": good[: 8 + n // 2],
        "truncated data": good[:-7],
        "huge header length": (2**62).to_bytes(8, "little") + good[8:],
        "not json": good[:8] + b"\xff" * n + good[8 + n:],
        "no metadata": with_header({k: v for k, v in header.items() if k != "__metadata__"}),
    }
    hostile_arch = json.loads(header["__metadata__"]["architecture"])
    hostile_arch["layers"][0]["filters"] = 10**12  # would need terabytes
    h = dict(header, __metadata__=dict(header["__metadata__"], architecture=json.dumps(hostile_arch)))
    cases["hostile architecture"] = with_header(h)
    h = json.loads(json.dumps(header))
    first = next(k for k in h if k != "__metadata__")
    h[first]["data_offsets"] = [0, 10**15]
    cases["offsets out of range"] = with_header(h)
    h = json.loads(json.dumps(header))
    h[first]["dtype"] = "F64"
    cases["wrong dtype"] = with_header(h)
    h = json.loads(json.dumps(header))
    h[first]["shape"] = [1, 2, 3]
    cases["wrong shape"] = with_header(h)
    # the trained map has 2 input channels: input scaling for 3, a zero scale, not JSON
    for bad_scaling in ({"kind": "channel", "offset": [0, 0, 0], "scale": [1, 1, 1]},
                        {"kind": "channel", "offset": [0, 0], "scale": [1, 0]}, "{"):
        value = bad_scaling if isinstance(bad_scaling, str) else json.dumps(bad_scaling)
        h = dict(header, __metadata__=dict(header["__metadata__"], input_scaling=value))
        cases[f"input scaling {value}"] = with_header(h)
    for data in cases.values():
        with pytest.raises(ValueError):
            fi.InverseMap.load(_corrupt(bad, data))
        # never a crash, never an over-allocation: we got here
    nan = bytearray(good)
    nan[-4:] = np.array([np.nan], dtype="<f4").tobytes()
    with pytest.raises(ValueError, match="NaN"):
        fi.InverseMap.load(_corrupt(bad, bytes(nan)))


def test_channel_input_scaling_equals_training_on_standardised_inputs(tmp_path):
    x, y = toy(channels=2, seed=3)
    x[:, 1] *= 50.0  # channels of very different scale
    m = fi.InverseMap.cnn(filters=[4, 8], dense=[16], seed=2)
    m.fit(x, y, epochs=3, input_scaling="channel", progress=False)
    mean, std = x.astype(np.float64).mean(axis=(0, 2)), x.astype(np.float64).std(axis=(0, 2))
    xs = ((x - mean[None, :, None]) / std[None, :, None]).astype(np.float32)
    ref = fi.InverseMap.cnn(filters=[4, 8], dense=[16], seed=2).fit(xs, y, epochs=3, progress=False)
    np.testing.assert_array_equal(m.predict(x), ref.predict(xs))  # same float32 inputs: same training
    assert m.history["loss"] == ref.history["loss"]
    m.save(tmp_path / "m.safetensors")
    loaded = fi.InverseMap.load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(loaded.predict(x), m.predict(x))
    with pytest.raises(ValueError, match="input_scaling cannot change"):
        m.fit(x, y, epochs=1, input_scaling="none", progress=False)
    with pytest.raises(ValueError, match="input_scaling must be"):
        fi.InverseMap.dense().fit(x[:, 0], y, input_scaling="global", progress=False)


def test_dense_map_input_scaling_is_one_channel():
    x, y = toy(seed=4)
    m = fi.InverseMap.dense(units=[8], seed=1).fit(x * 100 + 7, y, epochs=2, input_scaling="channel", progress=False)
    assert m.parts.input_scaling.offset.shape == (1,)
    assert m.parts.input_scaling.offset[0] == pytest.approx((x.astype(np.float64) * 100 + 7).mean(), rel=1e-6)


def test_concurrent_predictions_from_threads_take_turns():
    """The bindings release the GIL in predict: threads sharing one map get the serial results
    (a dense map with differently sized batches, so that the evaluation buffers grow meanwhile)."""
    rng = np.random.default_rng(5)
    m = fi.InverseMap.dense(units=[300, 300], seed=3)
    m.build((1000,), 2)
    batches = [rng.standard_normal((n, 1000)).astype(np.float32) for n in (5, 700, 2100, 64)]
    expected = [m.predict(x) for x in batches]
    errors = []

    def worker(k):
        try:
            for r in range(6):
                i = (k + r) % len(batches)
                np.testing.assert_array_equal(m.predict(batches[i]), expected[i])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


def test_openblas_map_evaluates_any_batch_within_its_workspaces():
    """A map with an OpenBLAS layer (dense 196 → 128, neither narrow nor wide) evaluates in chunks
    of up to 128 rows; built for max_batch 100 (below that) it must still evaluate 120 or 300
    rows inside its workspaces, giving what the same map built for 512 gives (sanitize.sh runs
    this under AddressSanitizer)."""
    layers = [{"kind": "conv1d", "filters": 4, "kernel": 3, "stride": 2}, {"kind": "flatten"},
              {"kind": "dense", "units": 128}, {"kind": "swish"}, {"kind": "dense", "units": 2}]
    small = _core.Network((1, 100), layers, 3, 100)
    big = _core.Network((1, 100), layers, 3, 512)
    x = np.random.default_rng(4).standard_normal((300, 1, 100)).astype(np.float32)
    for n in (99, 100, 120, 127, 128, 129, 200, 300):
        np.testing.assert_allclose(small.predict(x[:n], 2), big.predict(x[:n], 2), rtol=1e-6, atol=1e-6)
