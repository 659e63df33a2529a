"""fhn_inverse: learn inverse maps of ODE models with dense and convolutional networks.

Simulate the FitzHugh–Nagumo model at parameters drawn from a prior, add correlated measurement
noise, and build the features a network maps back to the parameters. The hot loops run in a
native C++ core (Boost.Odeint, FFTW3, Eigen) on all cores; everything is NumPy in, NumPy out.
"""

from ._version import __version__

import os as _os

#: Spins an idle OpenMP thread makes before it sleeps (libgomp's ``GOMP_SPINCOUNT``), set when
#: the package is imported unless ``GOMP_SPINCOUNT`` or ``OMP_WAIT_POLICY`` is set already.
#: libgomp's own default, 300,000 (about 3 ms), keeps threads spinning through the short gaps
#: between training steps; when another process holds a core, the spinning threads take the
#: time the descheduled one needs and training collapses to a fraction of its one-thread speed
#: (docs/speed.md, benchmarks/bench_load.py). It takes effect only if libgomp was not loaded by
#: another module before this one.
THREAD_SPIN_COUNT = 10_000
if "GOMP_SPINCOUNT" not in _os.environ and "OMP_WAIT_POLICY" not in _os.environ:
    _os.environ["GOMP_SPINCOUNT"] = str(THREAD_SPIN_COUNT)

from ._loader import load as _load_core  # noqa: E402

_core = _load_core()  # the native core; of a portable build, the best level this CPU runs (_loader.py)

if _core.__version__ != __version__:
    raise ImportError(f"fhn_inverse {__version__} found its native core built as {_core.__version__} "
                      f"({_core.__file__}): rebuild it (pip install -e . in the source tree, or reinstall)")

from .data.dataset import TEST_SIZE, TEST_START, TRAIN_SIZES, Dataset, study_data, test_set, training_sets  # noqa: E402
from . import metrics  # noqa: E402
from .data.features import features, fourier_features, unpack_spectrum  # noqa: E402
from .uncertainty.laplace import REFERENCE_NOISE, ar1_whiten, laplace_covariance, sensitivities  # noqa: E402
from .nn.training import TrainingConfig  # noqa: E402
from .nn import InverseMap  # noqa: E402
from .nn.ensemble import Ensemble  # noqa: E402
from .uncertainty import diagnostics  # noqa: E402
from .uncertainty.calibration import UncalibratedWarning  # noqa: E402
from .uncertainty.diagnostics import diagnose  # noqa: E402
from .fitting.refine import BestFit, Refined, SeriesFit, best_fitting, fit_series, refine  # noqa: E402
from .fitting.map_fit import MapFit, map_fit, noise_from_residuals  # noqa: E402
from .data.series_io import SeriesTable, read_series  # noqa: E402
from .data import streams  # noqa: E402
from .data.streams import Simulations, StoreStream  # noqa: E402
from .models.noise import AR1Noise, GaussianNoise, ar1_noise  # noqa: E402
from .models.priors import GaussianPrior, IndependentPrior, UniformPrior, default_prior  # noqa: E402
from .models.simulation import DEFAULT_GRID, FitzHughNagumo, SimulationError, simulate  # noqa: E402
from .models.ode import ODEModel  # noqa: E402
from .about import build_info  # noqa: E402
from .models.spikes import SpikeStatistics, spike_statistics  # noqa: E402
from ._util import legacy as _legacy  # noqa: E402

_legacy.install()  # the module paths before the package was laid out by area (old pickles, old scripts)

__all__ = [
    "__version__",
    "THREAD_SPIN_COUNT",
    "DEFAULT_GRID",
    "AR1Noise",
    "BestFit",
    "Simulations",
    "StoreStream",
    "streams",
    "Dataset",
    "Ensemble",
    "FitzHughNagumo",
    "GaussianNoise",
    "GaussianPrior",
    "IndependentPrior",
    "InverseMap",
    "ODEModel",
    "build_info",
    "TrainingConfig",
    "UncalibratedWarning",
    "REFERENCE_NOISE",
    "Refined",
    "SeriesFit",
    "SimulationError",
    "SpikeStatistics",
    "TEST_SIZE",
    "TEST_START",
    "TRAIN_SIZES",
    "UniformPrior",
    "ar1_noise",
    "ar1_whiten",
    "best_fitting",
    "fit_series",
    "map_fit",
    "MapFit",
    "noise_from_residuals",
    "default_prior",
    "diagnose",
    "diagnostics",
    "features",
    "fourier_features",
    "laplace_covariance",
    "metrics",
    "refine",
    "sensitivities",
    "simulate",
    "spike_statistics",
    "study_data",
    "read_series",
    "SeriesTable",
    "test_set",
    "training_sets",
    "unpack_spectrum",
]
