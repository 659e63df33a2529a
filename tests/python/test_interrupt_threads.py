"""Native calls under stress: a thread count out of range is a ValueError (never a crash), the
maximum runs, and Ctrl-C stops every long native loop within 0.5 s, leaving objects usable.

Interrupts come as real signals: SIGINT sent to a child process from outside, and in-process
from a timer thread (os.kill of the own process) while the main thread is inside a native call.
The call sizes take well over a second without interruption (one thread), so a loop that does
not poll fails the latency check.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse import _core

LATENCY = 0.5  # seconds from the signal to KeyboardInterrupt
HUGE = 100_000
RANGE = rf"n_threads must be in \[0, {_core.MAX_THREADS}\]"


@pytest.fixture(scope="module")
def small_map():
    rng = np.random.default_rng(0)
    x = rng.random((40, 30)).astype(np.float32)
    return fi.InverseMap.dense(units=[8]).fit(x, rng.random((40, 2)), epochs=1, progress=False), x


def _entry_points(small_map):
    m, x = small_map
    theta = fi.default_prior().sample(4)
    u = np.sin(np.linspace(0, 20, 200))[None].repeat(3, axis=0)
    net = m.network
    return {
        "simulate": lambda n: fi.simulate(theta, n_threads=n),
        "ar1_noise": lambda n: fi.AR1Noise().sample(3, 50, n_threads=n),
        "spike_statistics": lambda n: fi.spike_statistics(u, np.arange(200) * 0.2, n_threads=n),
        "fourier_features": lambda n: fi.fourier_features(u, n_threads=n),
        "features": lambda n: fi.features(u, "time+fourier", n_threads=n),
        "InverseMap.predict": lambda n: m.predict(x, n_threads=n),
        "InverseMap.fit": lambda n: fi.InverseMap.dense(units=[4]).fit(x, x[:, :2], epochs=1, progress=False,
                                                                         n_threads=n),
        "Network.loss": lambda n: net.loss(x, np.zeros((40, 2), np.float32), n_threads=n),
        "Network.forward_backward": lambda n: net.forward_backward(x, np.zeros((40, 2), np.float32), n_threads=n),
        "refine": lambda n: fi.refine(theta, fi.simulate(theta), iterations=1, n_threads=n),
        "sensitivities": lambda n: fi.sensitivities(theta, n_threads=n),
        "laplace_covariance": lambda n: fi.laplace_covariance(theta, n_threads=n),
        "ar1_whiten": lambda n: fi.ar1_whiten(u, 0.5, n_threads=n),
    }


ENTRY_POINTS = ["simulate", "ar1_noise", "spike_statistics", "fourier_features", "features",
                "InverseMap.predict", "InverseMap.fit", "Network.loss", "Network.forward_backward", "refine",
                "sensitivities", "laplace_covariance", "ar1_whiten"]


@pytest.mark.parametrize("name", ENTRY_POINTS)
@pytest.mark.parametrize("n_threads", [HUGE, _core.MAX_THREADS + 1, 10**12, -1])
def test_thread_count_out_of_range_is_a_value_error(small_map, name, n_threads):
    call = _entry_points(small_map)[name]
    with pytest.raises(ValueError, match=RANGE if n_threads > 0 else "n_threads"):
        call(n_threads)


def test_the_maximum_thread_count_runs_and_changes_nothing():
    theta = fi.default_prior().sample(_core.MAX_THREADS + 8, seed=3)  # a full team
    t = np.arange(6) * 0.2
    assert np.array_equal(fi.simulate(theta, t=t, n_threads=_core.MAX_THREADS), fi.simulate(theta, t=t, n_threads=1))
    eta, _ = fi.AR1Noise().sample(_core.MAX_THREADS + 8, 8, seed=1, n_threads=_core.MAX_THREADS)
    assert np.array_equal(eta, fi.AR1Noise().sample(_core.MAX_THREADS + 8, 8, seed=1, n_threads=1)[0])


# -- Ctrl-C inside native calls -------------------------------------------------------------------

def _interrupted_after(delay: float, call):
    """Run call() with SIGINT sent to this process after ``delay`` s; returns seconds from the
    signal to the KeyboardInterrupt. Fails when the call ends without one."""
    sent = []
    timer = threading.Timer(delay, lambda: (sent.append(time.perf_counter()), os.kill(os.getpid(), signal.SIGINT)))
    timer.start()
    try:
        call()
    except KeyboardInterrupt:
        caught = time.perf_counter()
    else:
        timer.cancel()
        try:  # a signal already on its way lands here
            timer.join()
            time.sleep(0.05)
        except KeyboardInterrupt:
            pass
        pytest.fail(f"the call ended without KeyboardInterrupt (signal sent: {bool(sent)})")
    timer.join()
    return caught - sent[0]


def _wide_dense():
    return _core.Network((1000,), [{"kind": "dense", "units": 1024}, {"kind": "relu"},
                                   {"kind": "dense", "units": 1024}, {"kind": "relu"},
                                   {"kind": "dense", "units": 2}], 0)


# name: (inputs, call). Inputs are built before the signal (NumPy's own work is not interruptible);
# each call takes more than a second on one unloaded core. (Spike statistics poll the same way
# — tests/cpp/test_interrupt.cpp — but a second of them needs gigabytes of input.)
CALLS = {
    "simulate": (lambda: fi.default_prior().sample(4000, seed=1),
                 lambda theta: fi.simulate(theta, n_threads=1)),
    "simulate_simd": (lambda: fi.default_prior().sample(40_000, seed=1),
                      lambda theta: fi.simulate(theta, n_threads=1, method="rkf78-simd")),
    "ar1_noise": (lambda: (np.full(400, 0.3), np.full(400, 0.5)),
                  lambda a: _core.ar1_noise(a[0], a[1], 150_000, 0, 0, 1)),
    "fourier_features": (lambda: np.ones((100, 100_003)),  # a prime length: slower transforms
                         lambda x: _core.fourier_features(x, _core.Representation.packed, _core.Norm.ortho, 1)),
    "predict": (lambda: (_wide_dense(), np.ones((20_000, 1000), np.float32)),
                lambda a: a[0].predict(a[1], 1)),
    "refine": (lambda: fi.default_prior().sample(100, seed=2),
               lambda theta: fi.refine(theta, np.zeros((100, 1000)), iterations=10, n_threads=1)),
    "sensitivities": (lambda: fi.default_prior().sample(3000, seed=3),
                      lambda theta: fi.sensitivities(theta, n_threads=1)),
    "laplace_covariance": (lambda: fi.default_prior().sample(3000, seed=3),
                           lambda theta: fi.laplace_covariance(theta, n_threads=1)),
}
DELAY = 0.2


@pytest.mark.parametrize("name", list(CALLS))
def test_ctrl_c_stops_native_calls_within_half_a_second(name):
    inputs, call = CALLS[name]
    args = inputs()
    latency = _interrupted_after(DELAY, lambda: call(args))
    assert latency < LATENCY, f"{name}: KeyboardInterrupt {latency:.2f} s after SIGINT"


def test_objects_stay_usable_after_an_interrupt():
    theta = fi.default_prior().sample(30, seed=4)
    u_before = fi.simulate(theta)
    net, x_long = CALLS["predict"][0]()
    x = np.random.default_rng(1).random((50, 1000)).astype(np.float32)
    y_before = net.predict(x, 2)
    _interrupted_after(DELAY, lambda: net.predict(x_long, 1))
    theta_long = CALLS["simulate"][0]()
    _interrupted_after(DELAY, lambda: fi.simulate(theta_long, n_threads=1))
    assert np.array_equal(net.predict(x, 2), y_before)
    assert np.array_equal(fi.simulate(theta), u_before)


CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    import fhn_inverse as fi
    theta = fi.default_prior().sample(10_000, seed=5)
    small = fi.simulate(theta[:20])
    print("ready", flush=True)
    try:
        fi.simulate(theta, n_threads=2)
        print("finished", flush=True)
    except KeyboardInterrupt:
        print("interrupted", time.monotonic(), flush=True)
    assert np.array_equal(fi.simulate(theta[:20]), small)
    print("usable", flush=True)
""")


def test_sigint_from_outside_stops_a_long_simulation():
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)
    try:
        assert child.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        child.kill()
    lines = out.split()
    assert "interrupted" in lines, (out, err)
    latency = float(lines[lines.index("interrupted") + 1]) - sent
    assert latency < LATENCY, f"KeyboardInterrupt {latency:.2f} s after SIGINT"
    assert "usable" in lines and child.returncode == 0, (out, err)


def test_default_team_leaves_cores_that_other_processes_hold():
    import os
    import subprocess
    import sys
    import time

    from fhn_inverse import _core

    cores = len(os.sched_getaffinity(0))
    assert 1 <= _core.available_threads() <= cores
    if cores != 2:
        pytest.skip(f"the busy-loop check is sized for 2 cores, this machine gives {cores}")
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        time.sleep(0.6)  # past the 250 ms between measurements
        seen = []
        for _ in range(4):
            seen.append(_core.available_threads())
            time.sleep(0.3)
        assert min(seen) == 1, seen  # two busy loops hold both cores: one thread for us
    finally:
        for p in busy:
            p.kill()
            p.wait()


@pytest.mark.parametrize("when", [0.2, 1.5])  # while the first block is simulated, and while training
def test_ctrl_c_stops_training_on_a_stream_and_its_reader(when):
    model = fi.InverseMap.cnn(seed=0)
    src = fi.Simulations(10**6, block=5_000, seed=0)
    readers = {t for t in threading.enumerate() if t.name == "fhn_inverse-prefetch"}
    latency = _interrupted_after(when, lambda: model.fit(src, epochs=1, progress=False))
    assert latency < 2 * LATENCY, f"KeyboardInterrupt {latency:.2f} s after SIGINT"
    assert not {t for t in threading.enumerate() if t.name == "fhn_inverse-prefetch"} - readers  # it has stopped
    x, _ = src.validation_set(5)
    assert np.isfinite(fi.InverseMap.cnn(seed=0).fit(src.validation_set(50)[0], src.validation_set(50)[1],
                                                     epochs=1, progress=False).predict(x)).all()
