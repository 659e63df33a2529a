"""Training on streams: fresh simulations per epoch and a Zarr store read in shuffled blocks.
Deterministic for a seed, the same steps as fit() on arrays when the stream is one block, every
row of a store once per epoch, and clear errors."""

import threading

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse.data import streams


class Arrays:
    """A stream that hands out the same arrays as one block every epoch."""

    def __init__(self, x, y):
        self.x, self.y, self.t = x, y, fi.DEFAULT_GRID

    def block_sizes(self):
        return [len(self.x)]

    def blocks(self, epoch):
        yield self.x, self.y

    def describe(self):
        return {"stream": "arrays", "size": len(self.x)}


@pytest.fixture(scope="module")
def data():
    return fi.Dataset.generate(300, 1, noise=fi.AR1Noise.study(), progress=False)


def test_one_block_per_epoch_takes_the_steps_of_fit(data):
    kw = {"epochs": 3, "batch_size": 32, "progress": False, "schedule": "cosine", "lr": 3e-3}
    a = fi.InverseMap.dense((16, 16), seed=3).fit(data.d, data.theta, **kw)
    b = fi.InverseMap.dense((16, 16), seed=3).fit(Arrays(data.d, data.theta), **kw)
    assert a.network.params.tobytes() == b.network.params.tobytes()
    assert a.history["step_loss"].tobytes() == b.history["step_loss"].tobytes()
    assert a.history["loss"] == b.history["loss"] and b.history["samples"] == 3 * 300
    np.testing.assert_array_equal(a.predict(data.d[:20]), b.predict(data.d[:20]))


def test_simulations_hand_out_the_rows_of_their_epoch():
    src = streams.Simulations(250, block=100, seed=5, n_threads=1)
    assert src.block_sizes() == [100, 100, 50]
    blocks = list(src.blocks(2))
    ref = fi.Dataset.generate(250, 5, noise=fi.AR1Noise.study(), start=500, progress=False, method="rkf78-simd")
    np.testing.assert_array_equal(np.concatenate([s for s, _ in blocks]), ref.d)
    np.testing.assert_array_equal(np.concatenate([y for _, y in blocks]), ref.theta)
    joint = streams.Simulations(40, seed=5, labels="theta+noise", series="clean", method="rkf78")
    s, y = next(joint.blocks(0))
    ref = fi.Dataset.generate(40, 5, noise=fi.AR1Noise.study(), progress=False)
    np.testing.assert_array_equal(s, ref.u)
    np.testing.assert_array_equal(y, np.concatenate([ref.theta, ref.noise], axis=1))
    xv, yv = src.validation_set(7)
    assert xv.shape == (7, 1000) and not np.isin(yv[:, 0], ref.theta[:, 0]).any()


def test_reuse_hands_each_simulated_block_out_again():
    src = streams.Simulations(250, block=100, seed=5, n_threads=1, reuse=2)
    assert src.block_sizes() == [100, 100, 100, 100, 50, 50]
    blocks = list(src.blocks(1))
    assert len(blocks) == 6 and blocks[0][0] is blocks[1][0] and not np.array_equal(blocks[1][0], blocks[2][0])
    fresh = streams.Simulations(250, block=100, seed=5, n_threads=1)
    np.testing.assert_array_equal(np.concatenate([s for s, _ in blocks[::2]]),
                                  np.concatenate([s for s, _ in fresh.blocks(1)]))
    m = fi.InverseMap.dense((8,), seed=0).fit(src, epochs=1, progress=False)
    assert m.history["samples"] == 500 and m.trained_on["reuse"] == 2
    with pytest.raises(ValueError, match="reuse must be >= 1"):
        streams.Simulations(10, reuse=0)


def test_training_on_simulations_is_reproducible_whatever_the_threads_and_prefetch():
    def train(n_threads, prefetch):
        src = streams.Simulations(400, block=150, seed=2, n_threads=n_threads)
        return fi.InverseMap.dense((16,), seed=1).fit_stream(src, epochs=2, batch_size=50, progress=False,
                                                             prefetch=prefetch, n_threads=n_threads)

    a, b = train(1, 1), train(2, 3)
    assert a.network.params.tobytes() == b.network.params.tobytes()
    assert a.history["samples"] == 800 and len(a.history["loss"]) == 2
    assert a.trained_on["stream"] == "simulations" and a.trained_on["per_epoch"] == 400
    assert a.trained_on["noise"] == fi.AR1Noise.study().to_dict()
    assert a.trained_on["simulator"]["method"] == "rkf78-simd"


def test_an_ensemble_trains_on_a_stream():
    src = streams.Simulations(300, block=150, seed=1, n_threads=1)
    ens = fi.Ensemble.like(fi.InverseMap.dense((8,), seed=0), 2).fit(src, epochs=1, progress=False)
    alone = [fi.InverseMap.dense((8,), seed=s).fit(src, epochs=1, seed=s, progress=False) for s in (0, 1)]
    for member, ref in zip(ens.members, alone):
        assert member.network.params.tobytes() == ref.network.params.tobytes()
    assert ens.members[0].network.params.tobytes() != ens.members[1].network.params.tobytes()


def test_validation_early_stopping_and_restore_best(data):
    src = streams.Simulations(200, block=100, seed=4, n_threads=1)
    m = fi.InverseMap.dense((8,), seed=0).fit(src, epochs=40, lr=0.3, early_stopping=2, validation=(data.d, data.theta),
                                              progress=False)
    h = m.history
    assert h["stopped_early"] and len(h["loss"]) < 40
    best = h["best_epoch"]
    assert h["val_loss"][best] == min(h["val_loss"])
    # the kept parameters are the best epoch's: their validation loss is the best one
    x = m.prepare_input(data.d)
    y = m.parts.scaling.transform(data.theta.astype(np.float32))
    assert m.network.loss(x, y) == pytest.approx(h["val_loss"][best], rel=1e-6)


def test_a_stream_trained_map_round_trips_through_its_file(tmp_path):
    src = streams.Simulations(200, block=100, seed=4, n_threads=1)
    m = fi.InverseMap.dense((8,), seed=0).fit(src, epochs=1, features="fourier", progress=False)
    m.save(tmp_path / "m.safetensors")
    back = fi.InverseMap.load(tmp_path / "m.safetensors")
    x, _ = src.validation_set(5)
    np.testing.assert_array_equal(back.predict(x), m.predict(x))
    assert back.inputs["features"] == "fourier" and back.trained_on == m.trained_on


def test_streams_refuse_bad_settings(data):
    with pytest.raises(ValueError, match="series must be one of"):
        streams.Simulations(10, series="noisy")
    with pytest.raises(ValueError, match="labels must be one of"):
        streams.Simulations(10, labels="noise")
    with pytest.raises(ValueError, match="needs noise"):
        streams.Simulations(10, noise=None, labels="theta+noise")
    with pytest.raises(ValueError, match="per_epoch must be >= 1"):
        streams.Simulations(0)
    src = streams.Simulations(20, block=10, n_threads=1)
    m = fi.InverseMap.dense((8,))
    with pytest.raises(ValueError, match="takes no Y"):
        m.fit(src, data.theta)
    with pytest.raises(ValueError, match="Y .* is missing"):
        m.fit(data.d)
    with pytest.raises(TypeError, match="must be a stream"):
        m.fit_stream([data.d, data.theta])
    with pytest.raises(ValueError, match="prefetch must be >= 1"):
        m.fit_stream(src, prefetch=0, progress=False)
    with pytest.raises(ValueError, match="validation of a stream"):
        m.fit_stream(src, validation="some", progress=False)
    with pytest.raises(ValueError, match="takes 2"):
        fi.InverseMap.dense((8,)).fit(data.d[:, :], data.theta, epochs=1, progress=False).fit(
            streams.Simulations(20, labels="theta+noise", n_threads=1), progress=False)


def test_prefetch_hands_on_errors_and_stops_its_thread():
    def boom():
        yield 1
        raise RuntimeError("reader failed")

    with pytest.raises(RuntimeError, match="reader failed"):
        list(streams.prefetch(boom()))
    before = threading.active_count()
    it = streams.prefetch(iter(range(10**6)), depth=2)
    assert next(it) == 0 and next(it) == 1
    it.close()
    assert threading.active_count() == before
    assert list(streams.prefetch(iter(range(5)), transform=lambda v: v * v)) == [0, 1, 4, 9, 16]



@pytest.mark.parametrize("started", [True, False])
def test_ctrl_c_while_the_reader_starts_stops_it(monkeypatch, started):
    """Ctrl-C landing in Thread.start (after the thread came up, or before) leaves no reader behind
    and does not wait for one that never started."""
    start = threading.Thread.start

    def interrupted_start(self):
        if started:
            start(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(threading.Thread, "start", interrupted_start)
    drawn = []
    with pytest.raises(KeyboardInterrupt):
        next(streams.prefetch(drawn.append(i) or i for i in range(10**6)))
    monkeypatch.setattr(threading.Thread, "start", start)
    assert not [t for t in threading.enumerate() if t.name == "fhn_inverse-prefetch"]
    assert len(drawn) < 10  # it stopped at once rather than reading on

zarr = pytest.importorskip("zarr")


def test_a_gaussian_head_trained_on_fresh_simulations_calibrates_itself(data):
    """On Simulations, a Gaussian-NLL head calibrates itself on calibration_split × per_epoch fresh
    series from rows no epoch or validation reaches (the same weights as without: the series are
    extra); without the split, or on a stream that cannot draw fresh series, it stays uncalibrated."""
    import warnings

    src = streams.Simulations(200, block=100, seed=3, n_threads=1)
    kw = {"epochs": 2, "loss": "gaussian_nll", "scaling": "standard", "progress": False}
    m = fi.InverseMap.dense((16,), output_activation=None, seed=1).fit(src, calibration_split=0.15, **kw)
    assert m.calibration is not None and m.parts.training["n_calibration"] == 30
    x_cal, y_cal = src.calibration_set(30)
    ref = fi.Dataset.generate(30, 3, noise=fi.AR1Noise.study(), start=streams.CALIBRATION_START, progress=False,
                              method="rkf78-simd")
    np.testing.assert_array_equal(x_cal, ref.d)
    with warnings.catch_warnings():
        warnings.simplefilter("error", fi.UncalibratedWarning)
        lo, hi = m.interval(data.d[:5], 0.9)
    assert np.all(lo < hi)
    raw = fi.InverseMap.dense((16,), output_activation=None, seed=1).fit(src, calibration_split=None, **kw)
    assert raw.calibration is None and "n_calibration" not in raw.parts.training
    assert raw.network.params.tobytes() == m.network.params.tobytes()
    with pytest.warns(fi.UncalibratedWarning):
        raw.interval(data.d[:5], 0.9)
    fixed = fi.InverseMap.dense((16,), output_activation=None, seed=1).fit(Arrays(data.d, data.theta), **kw)
    assert fixed.calibration is None
    small = fi.InverseMap.dense((16,), output_activation=None, seed=1).fit(src, **kw)  # 10 % of 200 < 20
    assert small.parts.training["n_calibration"] == 20


def test_a_store_stream_reads_every_row_once_per_epoch_in_a_new_order(tmp_path, data):
    from fhn_inverse.data import store

    store.save_zarr(data, tmp_path / "s.zarr", chunk=40, dtype="float32")
    z = store.open_zarr(tmp_path / "s.zarr")
    assert z.dtype == "float32"
    np.testing.assert_array_equal(z[:10].d, data.d[:10].astype(np.float32))
    src = streams.StoreStream(z, window=3, seed=1, labels="theta+noise")
    assert src.block_sizes() == [120, 120, 60] or sorted(src.block_sizes()) == [60, 120, 120]
    orders = []
    for epoch in range(2):
        rows = [y for _, y in src.blocks(epoch)]
        series = np.concatenate([s for s, _ in src.blocks(epoch)])
        labels = np.concatenate(rows)
        key = np.lexsort(labels.T[::-1])
        ref = np.concatenate([data.theta, data.noise], axis=1)
        np.testing.assert_array_equal(labels[key], ref[np.lexsort(ref.T[::-1])])
        assert series.dtype == np.float32 and series.shape == (300, 1000)
        orders.append(labels[:, 0])
    assert not np.array_equal(orders[0], orders[1])
    again = np.concatenate([y for _, y in streams.StoreStream(z, window=3, seed=1, labels="theta+noise").blocks(1)])
    np.testing.assert_array_equal(again[:, 0], orders[1])
    head = streams.StoreStream(tmp_path / "s.zarr", rows=80)
    assert sum(head.block_sizes()) == 80
    with pytest.raises(ValueError, match="multiple of the store's chunk"):
        streams.StoreStream(z, rows=50)
    with pytest.raises(ValueError, match=r"rows must be in \[1, 300\]"):
        streams.StoreStream(z, rows=301)


def test_training_from_a_store_equals_training_on_its_blocks(tmp_path, data):
    from fhn_inverse.data import store

    store.save_zarr(data, tmp_path / "s.zarr", chunk=100)
    src = streams.StoreStream(tmp_path / "s.zarr", window=10, seed=0)  # one block: all rows, shuffled
    m = fi.InverseMap.dense((16,), seed=2).fit(src, epochs=2, batch_size=32, progress=False)
    assert m.history["samples"] == 600 and m.trained_on["stream"] == "store"
    blocks = [next(src.blocks(e)) for e in range(2)]

    class Replay(Arrays):
        def blocks(self, epoch):
            yield blocks[epoch]

    ref = fi.InverseMap.dense((16,), seed=2).fit(Replay(data.d, data.theta), epochs=2, batch_size=32, progress=False)
    assert ref.network.params.tobytes() == m.network.params.tobytes()
    with pytest.raises(ValueError, match="draws series from a simulation stream"):
        fi.InverseMap.dense((16,)).fit(src, validation=50, progress=False)


def test_the_command_line_trains_from_a_store_and_on_fresh_simulations(tmp_path, capsys):
    from fhn_inverse.cli import main

    z = str(tmp_path / "s.zarr")
    assert main(["simulate", z, "-n", "600", "--chunk", "200", "--dtype", "float32", "--method", "rkf78-simd"]) == 0
    assert main(["train", z, str(tmp_path / "a.safetensors"), "--arch", "dense", "--epochs", "1", "--quiet",
                 "--window", "2"]) == 0
    a = fi.InverseMap.load(tmp_path / "a.safetensors")
    assert a.trained_on["stream"] == "store" and a.trained_on["size"] == 600
    assert main(["train", "fresh", str(tmp_path / "b.safetensors"), "--arch", "dense", "--epochs", "2",
                 "--per-epoch", "300", "--block", "150", "--validation", "0.2", "--joint", "--quiet"]) == 0
    b = fi.InverseMap.load(tmp_path / "b.safetensors")
    assert b.trained_on["per_epoch"] == 300 and b.describe()["targets"] == ["theta0", "theta1", "sigma", "rho"]
    with pytest.raises(SystemExit) as info:
        main(["train", z, str(tmp_path / "c.safetensors"), "--validation", "0.1", "--quiet"])
    assert info.value.code == 2 and "a .zarr store trains without it" in capsys.readouterr().err
