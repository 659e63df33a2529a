"""Type stubs for the native core ``fhn_inverse._core`` (C++, pybind11).

Arrays at this boundary are float64, C order unless stated: theta (N, P), u (N, L), t (L,),
sigma/rho (N,). The public, validated API is in :mod:`fhn_inverse`; prefer it.
"""

from enum import Enum
from typing import Sequence

import numpy as np
from numpy.typing import NDArray

class FitzHughNagumo:
    """FitzHugh–Nagumo: du/dt = γ (u − u³/3 + v + ζ), dv/dt = −(u − θ0 + θ1 v)/γ."""

    param_names: list[str]
    def __init__(self, gamma: float = 3.0, zeta: float = -0.4, initial: tuple[float, float] = (0.0, 0.0)) -> None: ...
    @property
    def gamma(self) -> float: ...
    @property
    def zeta(self) -> float: ...
    @property
    def initial(self) -> list[float]: ...
    def rhs(self, state: Sequence[float], theta: Sequence[float]) -> list[float]:
        """Right-hand side (du/dt, dv/dt) at ``state`` for parameters ``theta``."""

class Stream(Enum):
    """Independent random streams; a draw is a function of (seed, stream, index)."""

    prior = 1
    noise_parameters = 2
    noise = 3
    shuffle = 4
    init = 5
    dropout = 6

class SimulatorOptions:
    """Observation grid, tolerances and budgets of the Dormand–Prince simulator."""

    t_obs: list[float]
    t0: float
    rtol: float
    atol: float
    dt0: float
    max_steps: int
    max_abs_state: float
    def __init__(self, t_obs: Sequence[float], t0: float = 0.0, rtol: float = 1e-9, atol: float = 1e-9,
                 dt0: float = 1e-2, max_steps: int = 1000000, max_abs_state: float = 1e6) -> None: ...
    @staticmethod
    def default_grid() -> list[float]:
        """t_k = 0.2 k, k = 0..999."""

def simulate_batch(model: FitzHughNagumo, theta: NDArray[np.float64], options: SimulatorOptions,
                   n_threads: int = 0) -> tuple[NDArray[np.float64], NDArray[np.int8]]:
    """Simulate every row of theta (N, P): returns u (N, L), NaN rows where status != 0, and
    status (N,): 0 ok, 1 diverged, 2 step budget exceeded. GIL released; 0 threads = all cores."""

class GaussianPrior:
    """N(mean, covariance), optionally truncated to [lower, upper] by rejection."""

    mean: NDArray[np.float64]
    covariance: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    def __init__(self, mean: NDArray[np.float64], covariance: NDArray[np.float64],
                 lower: NDArray[np.float64] = ..., upper: NDArray[np.float64] = ..., max_tries: int = 100000) -> None: ...
    def sample(self, n: int, seed: int, first_index: int = 0, stream: Stream = Stream.prior) -> NDArray[np.float64]:
        """Samples first_index … first_index + n − 1 of the stream: (n, P)."""

class UniformPrior:
    """Uniform on the box [lower, upper]."""

    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    def __init__(self, lower: NDArray[np.float64], upper: NDArray[np.float64]) -> None: ...
    def sample(self, n: int, seed: int, first_index: int = 0, stream: Stream = Stream.prior) -> NDArray[np.float64]:
        """Samples first_index … first_index + n − 1 of the stream: (n, P)."""

def ar1_noise(sigma: NDArray[np.float64], rho: NDArray[np.float64], length: int, seed: int,
              first_index: int = 0, n_threads: int = 0) -> NDArray[np.float64]:
    """Stationary AR(1) series (N, length): η_0 = σ z_0, η_k = ρ η_{k−1} + σ √(1−ρ²) z_k."""

def spike_statistics(u: NDArray[np.float64], t: Sequence[float], threshold: float = 0.5, min_points: int = 3,
                     time_units_per_second: float = 1000.0,
                     n_threads: int = 0) -> tuple[NDArray[np.int32], NDArray[np.float64], NDArray[np.float64]]:
    """Spike count, rate (per second) and mean duration of each row of u (N, L)."""

class Norm(Enum):
    """Fourier normalisation: backward (none), ortho (1/√L), forward (1/L)."""

    backward = 0
    ortho = 1
    forward = 2

class Representation(Enum):
    """packed: L reals (Re X_0..X_{L/2}, Im X_1..X_{⌈L/2⌉−1}); magnitude: |X_k|, L/2+1 values."""

    packed = 0
    magnitude = 1

def fourier_features(x: NDArray[np.float64], representation: Representation = Representation.packed,
                     norm: Norm = Norm.ortho, n_threads: int = 0) -> NDArray[np.float64]:
    """FFTW3 real-to-complex spectrum of each row of x (N, L)."""
