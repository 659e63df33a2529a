"""The executors' tuning constants (_core._tuning/_set_tuning, for benchmarks that sweep them): a
network keeps the tuning it was built with, the chunking it sets decides the summation order
(and so the last bits) but never depends on the thread count, and bad values are refused by name.
"""

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse import _core


@pytest.fixture(autouse=True)
def restore_tuning():
    yield
    _core._set_tuning(**_core._tuning(defaults=True))


def _train(net, threads, x, y):
    opt = _core.Adam(net.n_params)
    _core.fit(net, opt, x, y, config=fi.TrainingConfig(epochs=2, batch_size=32, lr=1e-3,
                                                       n_threads=threads).to_core(3))
    return net.params.copy()


def _cnn():
    m = fi.InverseMap.cnn()
    m.build((1, 200), 2)
    return m.network


def _data():
    rng = np.random.default_rng(5)
    return rng.standard_normal((96, 1, 200)).astype(np.float32), rng.random((96, 2)).astype(np.float32)


def test_defaults_and_fields():
    t = _core._tuning()
    assert t == _core._tuning(defaults=True)
    assert set(t) == {"min_chunk", "min_gemm_eval_chunk", "vector_eval_rows", "vector_eval_chunks",
                      "element_parts", "min_gemm_chunk", "chunked_wide_params"}
    assert t["min_chunk"] == 16 and t["min_gemm_chunk"] == 128
    changed = _core._set_tuning(min_chunk=np.int64(8))  # any integer type
    assert changed == {**t, "min_chunk": 8} == _core._tuning()
    assert _core._tuning(defaults=True) == t


@pytest.mark.parametrize("kwargs, error, words", [
    ({"min_chunk": 0}, ValueError, ["min_chunk", "[1,", "got 0"]),
    ({"vector_eval_chunks": 65}, ValueError, ["vector_eval_chunks", "64]", "got 65"]),
    ({"vector_eval_rows": 64}, ValueError, ["vector_eval_rows", "[128,", "got 64"]),
    ({"chunks": 4}, ValueError, ["unknown tuning field 'chunks'", "min_chunk"]),
    ({"min_chunk": 8.0}, TypeError, ["min_chunk", "int", "float"]),
    ({"min_chunk": True}, TypeError, ["min_chunk", "bool"]),
    ({"min_chunk": 10**30}, ValueError, ["min_chunk", "out of range", str(10**30)]),
    ({"min_chunk": 2**40}, ValueError, ["min_chunk", "1048576]", str(2**40)]),
])
def test_bad_values_are_refused_by_name(kwargs, error, words):
    before = _core._tuning()
    with pytest.raises(error) as info:
        _core._set_tuning(**kwargs)
    for w in words:
        assert w in str(info.value)
    assert _core._tuning() == before  # nothing half-applied


def test_a_network_keeps_the_tuning_it_was_built_with():
    x, y = _data()
    default_net = _cnn()
    _core._set_tuning(min_chunk=8)
    eight_net = _cnn()
    _core._set_tuning(min_chunk=32)  # changes neither network built before
    a = _train(default_net, 2, x, y)
    b = _train(eight_net, 2, x, y)
    _core._set_tuning(**_core._tuning(defaults=True))
    c = _train(_cnn(), 2, x, y)
    np.testing.assert_array_equal(a, c)  # the default network trains as a fresh default one
    # four chunks of 8 instead of two of 16: another summation order, the same gradients to rounding
    assert not np.array_equal(a, b)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-4)


@pytest.mark.parametrize("min_chunk", [8, 32])
def test_results_do_not_depend_on_threads_at_any_tuning(min_chunk):
    x, y = _data()
    _core._set_tuning(min_chunk=min_chunk)
    one, two = _train(_cnn(), 1, x, y), _train(_cnn(), 2, x, y)
    np.testing.assert_array_equal(one, two)
