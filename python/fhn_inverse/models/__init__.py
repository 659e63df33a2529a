"""The forward model: ``simulation`` (the ODE model, its grid and the batch simulator), ``priors``
(Gaussian and uniform priors of θ), ``noise`` (AR(1) and Gaussian measurement noise) and
``spikes`` (spike statistics of series). The public names of all four are importable from here.
"""

from .noise import (
    NOISE_LAWS,
    STUDY_NOISE_MEAN,
    STUDY_NOISE_STD,
    AR1Noise,
    GaussianNoise,
    ar1_noise,
    noise_from_dict,
)
from .priors import (
    GaussianPrior,
    IndependentPrior,
    LogNormal,
    Normal,
    Uniform,
    UniformPrior,
    as_prior,
    default_prior,
    prior_from_dict,
)
from .simulation import (
    DEFAULT_GRID,
    METHODS,
    STATUS,
    MODELS,
    DampedOscillator,
    FitzHughNagumo,
    HodgkinHuxley,
    MorrisLecar,
    SimulationError,
    model_from_dict,
    model_grid,
    model_to_dict,
    model_and_theta,
    simulate,
    simulator_options,
)
from .spikes import SpikeStatistics, spike_statistics
from .ode import BACKENDS, ODEModel, SlowBackendWarning
from .observation import BinomialNoise, ChannelNoise, FunctionNoise, LogNormalNoise, PoissonNoise
from .compile import NativeBuildError

__all__ = [
    # simulation
    "FitzHughNagumo", "MorrisLecar", "HodgkinHuxley", "DampedOscillator", "MODELS", "model_grid", "model_to_dict",
    "model_from_dict",
    "DEFAULT_GRID", "STATUS", "METHODS", "SimulationError", "simulator_options", "model_and_theta", "simulate",
    # user models
    "ODEModel", "NativeBuildError", "SlowBackendWarning", "BACKENDS",
    # observation laws
    "LogNormalNoise", "PoissonNoise", "BinomialNoise", "FunctionNoise", "ChannelNoise",
    # priors
    "GaussianPrior", "UniformPrior", "IndependentPrior", "Uniform", "Normal", "LogNormal", "default_prior",
    "prior_from_dict", "as_prior",
    # noise
    "NOISE_LAWS", "STUDY_NOISE_MEAN", "STUDY_NOISE_STD", "AR1Noise", "GaussianNoise", "ar1_noise", "noise_from_dict",
    # spikes
    "SpikeStatistics", "spike_statistics",
]
