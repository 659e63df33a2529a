"""Inverse maps: dense and convolutional networks trained in the native core (float32).

``InverseMap`` is the estimator: build one with :meth:`InverseMap.dense`, :meth:`InverseMap.cnn`
or a general layer list, then ``.fit(X, Y)`` / ``.predict(X)``. Inputs are NumPy arrays of shape
(N, L) or (N, C, L); labels (N, D) or (N,). Labels are scaled on the training set (min–max to
[0, 1] as the study, or standardised) and the scaling is inverted by ``predict``. A trained map
is one file in the safetensors layout (``save`` / ``load``), which also opens with the
``safetensors`` package and maps onto PyTorch (``to_torch``, optional extra).

The network's output layer (a dense layer with one unit per target, plus ``output_activation``)
is appended automatically; the layer lists here describe the hidden stack.

Modules: ``estimator`` (InverseMap), ``layers`` (layer specs), ``scaling`` (label and input
scaling), ``checks`` (inputs, grids, records), ``files`` (model files), ``torch_export``.
"""

from .training import MAX_BATCH, MAX_EPOCHS
from .checks import DEFAULT_UNITS, _sklearn_regressor_tags
from .estimator import InverseMap
from .files import _header_digest
from .layers import ACTIVATIONS, LAYER_KINDS

__all__ = ["InverseMap", "LAYER_KINDS", "ACTIVATIONS", "DEFAULT_UNITS", "MAX_EPOCHS", "MAX_BATCH"]
_private = (_sklearn_regressor_tags, _header_digest)  # used by ensemble.py and the file tests
