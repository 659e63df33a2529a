"""Type stubs for the native core ``fhn_inverse._core`` (C++, pybind11).

Arrays at this boundary are float64, C order unless stated: theta (N, P), u (N, L), t (L,),
sigma/rho (N,). The public, validated API is in :mod:`fhn_inverse`; prefer it.

Every ``n_threads`` must be in [0, MAX_THREADS] (0 = the cores free now, ``available_threads``),
else ValueError. The batch
calls release the GIL and poll for Ctrl-C between work items (every 25 ms, from the main
thread): a signal handler's exception — KeyboardInterrupt — ends the call within a fraction of
a second, its outputs discarded and its objects usable.
"""

from enum import Enum
from typing import Sequence

import numpy as np
from numpy.typing import NDArray

MAX_THREADS: int
"""Largest accepted ``n_threads`` (1024)."""

def available_threads() -> int:
    """The team size ``n_threads=0`` gives now: the cores this process may use less the threads
    other processes keep running, at least 1 (re-measured at most every 250 ms; every core with
    FHN_INVERSE_ADAPTIVE_THREADS=0 in the environment)."""

class _Model:
    """What every model of the core's list is bound with (bind_models.cpp): constants by keyword
    (or position), each defaulting to the default model's; ``initial`` None: the model's default;
    ``free`` the quantities a row of θ holds (parameters, constants, initial state as ``<state>0``;
    None: the model's parameters), and the values of parameters that are not free by keyword (the
    middle of the prior box by default)."""

    param_names: list[str]
    param_units: list[str]
    constant_names: list[str]
    state_names: list[str]
    quantity_names: list[str]
    units: dict[str, str]
    ranges: dict[str, tuple[float, float]]
    prior_lower: list[float]
    prior_upper: list[float]
    grid_step: float
    grid_points: int
    def __init__(self, *constants: float, initial: Sequence[float] | None = None,
                 free: Sequence[str] | None = None, **by_name: float) -> None: ...
    @property
    def constants(self) -> dict[str, float]: ...
    @property
    def initial(self) -> list[float]: ...
    @property
    def free(self) -> tuple[str, ...]: ...
    @property
    def fixed(self) -> dict[str, float]: ...
    @property
    def is_default_free(self) -> bool: ...
    def rhs(self, state: Sequence[float], theta: Sequence[float]) -> list[float]: ...
    def jacobians(self, state: Sequence[float], theta: Sequence[float]) -> tuple[list[float], list[float]]: ...

class FitzHughNagumo(_Model):
    """FitzHugh–Nagumo: du/dt = γ (u − u³/3 + v + ζ), dv/dt = −(u − θ0 + θ1 v)/γ; quantities θ0,
    θ1, γ, ζ, u0, v0."""

    def __init__(self, gamma: float = 3.0, zeta: float = -0.4, initial: tuple[float, float] = (0.0, 0.0), *,
                 free: Sequence[str] | None = None, **fixed: float) -> None: ...
    @property
    def gamma(self) -> float: ...
    @property
    def zeta(self) -> float: ...

class MorrisLecar(_Model):
    """Morris–Lecar: θ = (I_app, g_Ca, g_K, φ); the Hopf set of Rinzel & Ermentrout by default."""

class HodgkinHuxley(_Model):
    """Hodgkin–Huxley (squid axon, rest at −65 mV): θ = (g_Na, g_K, g_L, I_app)."""

class DampedOscillator(_Model):
    """x'' + 2ζω x' + ω² x = 0: θ = (ω, ζ); the example model of the list."""

MODEL_NAMES: list[str]

class Stream(Enum):
    """Independent random streams; a draw is a function of (seed, stream, index)."""

    prior = 1
    noise_parameters = 2
    noise = 3
    shuffle = 4
    init = 5
    dropout = 6

class SimulatorOptions:
    """Observation grid, tolerances and budgets of the Runge–Kutta–Fehlberg 7(8) simulator."""

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
    status (N,): 0 ok, 1 diverged (|state| > max_abs_state), 2 step budget exceeded (more than
    max_steps steps — a stiff but bounded solution — or failed step-size control). GIL
    released; 0 threads = all cores."""

class GaussianPrior:
    """N(mean, covariance), optionally truncated to [lower, upper] by rejection."""

    mean: NDArray[np.float64]
    covariance: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    def __init__(self, mean: NDArray[np.float64], covariance: NDArray[np.float64],
                 lower: NDArray[np.float64] = ..., upper: NDArray[np.float64] = ...,
                 max_tries: int = 100000) -> None: ...
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


class IndependentPrior:
    """Independent marginals: kind 0 uniform on [lower, upper], 1 normal N(a, b²), 2 log-normal
    exp(N(a, b²)), the last two truncated to [lower, upper] by rejection of that component."""

    def __init__(self, kind: Sequence[int], a: NDArray[np.float64], b: NDArray[np.float64],
                 lower: NDArray[np.float64], upper: NDArray[np.float64], max_tries: int = 100000) -> None: ...
    def sample(self, n: int, seed: int, first_index: int = 0, stream: Stream = ...) -> NDArray[np.float64]: ...
    @property
    def lower(self) -> NDArray[np.float64]: ...
    @property
    def upper(self) -> NDArray[np.float64]: ...

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

# --- neural networks (bind_nn.cpp): float32 arrays; x (N, C, L) or (N, F), targets (N, D) ---

class Network:
    """Sequential float32 network over one flat parameter buffer; layers are dicts with a
    ``kind`` (dense, conv1d, avgpool1d, maxpool1d, flatten, dropout, relu, swish, silu, gelu,
    tanh, sigmoid) and its fields (units, filters, kernel, stride, padding, pool, rate)."""
    def __init__(self, input_shape: tuple[int, ...], layers: list[dict], seed: int = 0,
                 max_batch: int = 256, max_chunks: int = 8) -> None: ...
    @property
    def n_params(self) -> int: ...
    @property
    def input_shape(self) -> tuple[int, ...]: ...
    @property
    def output_shape(self) -> tuple[int, ...]: ...
    @property
    def max_batch(self) -> int: ...
    @property
    def params(self) -> NDArray[np.float32]:
        """A copy of the flat parameters (P,); assign a (P,) array to replace them."""
    @params.setter
    def params(self, value: NDArray[np.float32]) -> None: ...
    @property
    def grads(self) -> NDArray[np.float32]: ...
    def param_tensors(self) -> list[tuple[str, int, tuple[int, ...]]]:
        """(name, offset, shape) of each weight and bias, PyTorch layouts."""
    def summary(self) -> list[tuple[str, tuple[int, ...], int]]: ...
    def init(self, seed: int) -> None: ...
    def set_max_batch(self, max_batch: int) -> None: ...
    def predict(self, x: NDArray[np.float32], n_threads: int = 0) -> NDArray[np.float32]: ...
    def loss(self, x: NDArray[np.float32], y: NDArray[np.float32], loss: str = "mse",
             n_threads: int = 0) -> float: ...
    def forward_backward(self, x: NDArray[np.float32], y: NDArray[np.float32], loss: str = "mse",
                         training: bool = False, seed: int = 0, step: int = 0, n_threads: int = 0
                         ) -> tuple[float, NDArray[np.float32], NDArray[np.float32]]:
        """(loss, gradient (P,), input gradient shaped like x) of one batch."""

class Adam:
    """Adam (decoupled=False, L2 weight decay) or AdamW (decoupled=True) over a network's flat buffer."""
    def __init__(self, n_params: int, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled: bool = False) -> None: ...
    def step(self, network: Network, lr: float) -> None: ...
    @property
    def steps(self) -> int: ...
    @property
    def m(self) -> NDArray[np.float32]: ...
    @property
    def v(self) -> NDArray[np.float32]: ...
    def reset(self) -> None: ...

def network_size(input_shape: tuple[int, ...], layers: list[dict], max_params: int = ...) -> tuple[int, int]:
    """(parameters, activation floats per sample) without allocating the network."""

def blas_backend() -> str: ...
def epoch_order(seed: int, epoch: int, n: int) -> list[int]:
    """The trainer's shuffled sample order for one epoch."""

class TrainConfig:
    """The native trainer's settings (fhn_inverse.TrainingConfig.to_core makes one, setting every
    attribute from fhn_inverse.nn.training.SCHEMA but those of NATIVE_DEFAULTS). The attributes are
    exactly those bound (tests/python/test_training_schema.py checks)."""
    epochs: int
    batch_size: int
    loss: str
    lr: float
    schedule: str
    warmup_steps: int
    step_epochs: int
    gamma: float
    min_lr: float
    clip_norm: float
    patience: int
    min_delta: float
    restore_best: bool
    shuffle: bool
    seed: int
    n_threads: int
    progress_interval: float
    def __init__(self) -> None: ...
    def validate(self) -> None: ...

def fit_block(network: Network, optimizer: Adam, x: NDArray[np.float32], y: NDArray[np.float32], *,
              config: TrainConfig, block: int, steps_per_epoch: int, total_steps: int) -> dict:
    """One pass of shuffled mini-batches over a block (streamed training); dict: loss, samples, lr,
    interrupted, step_loss."""

def layer_kinds() -> list[tuple[str, list[str]]]:
    """The layer kinds networks are built of, each as (kind, the spec fields it reads): the built-in
    ones, then those registered in C++."""

def loss_names() -> list[str]:
    """The losses the core trains with: "mse", "gaussian_nll", then those registered in C++."""

def fit(network: Network, optimizer: Adam, x: NDArray[np.float32], y: NDArray[np.float32],
        x_val: NDArray[np.float32] | None = None, y_val: NDArray[np.float32] | None = None, *,
        config: TrainConfig, progress=None) -> dict:
    """Train in place (GIL released): fit_stream's loop over one block, the arrays; history dict:
    loss, val_loss, lr, seconds, wait_seconds (per epoch), step_loss, samples, best_epoch,
    stopped_early, interrupted. Ctrl-C raises KeyboardInterrupt."""

def fit_stream(network: Network, optimizer: Adam, blocks, block_sizes: list[int],
               x_val: NDArray[np.float32] | None = None, y_val: NDArray[np.float32] | None = None, *,
               config: TrainConfig, progress=None) -> dict:
    """Train in place on a stream: ``blocks(epoch, k)`` returns block k of the epoch, (x, y) with
    ``block_sizes[k]`` rows, or None to stop; asked in order with the GIL. The history as fit's.
    An exception of ``blocks`` is raised here; Ctrl-C raises KeyboardInterrupt."""
