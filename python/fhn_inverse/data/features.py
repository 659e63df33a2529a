"""Input features for the inverse maps: the series, its Fourier spectrum, or both as channels.

Spectra come from FFTW3 in the native core (one plan per length, built once). Normalisation is
explicit: ``"backward"`` is ``numpy.fft.rfft``, ``"ortho"`` divides by √L, ``"forward"`` by L.
"""

from __future__ import annotations

import numpy as np

from .. import _core
from .._util.validation import as_float_array, as_threads

__all__ = ["NORMS", "REPRESENTATIONS", "KINDS", "fourier_features", "unpack_spectrum", "features"]

NORMS = ("backward", "ortho", "forward")
REPRESENTATIONS = ("packed", "magnitude")
KINDS = ("time", "fourier", "time+fourier")


def fourier_features(x, representation: str = "packed", norm: str = "ortho", n_threads: int = 0) -> np.ndarray:
    """Fourier spectrum of each real series in ``x``.

    Parameters
    ----------
    x : array_like, shape (N, L) or (L,)
        Real series.
    representation : {"packed", "magnitude"}, default "packed"
        ``"packed"``: L reals ``[Re X_0 … Re X_⌊L/2⌋, Im X_1 … Im X_⌈L/2⌉−1]`` — lossless (the
        imaginary parts left out are zero for a real series) and as long as the series.
        ``"magnitude"``: the ⌊L/2⌋+1 values ``|X_k|``.
    norm : {"backward", "ortho", "forward"}, default "ortho"
        Normalisation: ``"backward"`` is ``numpy.fft.rfft``, ``"ortho"`` divides by √L,
        ``"forward"`` by L.
    n_threads : int, default 0
        Threads to use (0: all cores).

    Returns
    -------
    ndarray, shape (N, L) or (N, ⌊L/2⌋+1)
        The spectra, one per row; (L,) or (⌊L/2⌋+1,) for one series of shape (L,).

    Raises
    ------
    ValueError
        If ``representation`` or ``norm`` is unknown, or a spectrum is not finite (naming the
        first such row).

    Notes
    -----
    A coefficient can reach Σ|x_l| ≤ L·max|x| before normalisation, so series with
    max|x| ≥ 1.8e308 / L (float64's largest value over L) may overflow; a non-finite spectrum
    raises ValueError naming the first such row rather than returning inf or NaN.

    Examples
    --------
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> x = np.array([1.0, 2.0, 0.0, -1.0])
    >>> fi.fourier_features(x, norm="backward")     # Re X_0, Re X_1, Re X_2, Im X_1
    array([ 2.,  1.,  0., -3.])
    >>> np.fft.rfft(x)
    array([2.+0.j, 1.-3.j, 0.+0.j])
    >>> fi.fourier_features(np.zeros((3, 8))).shape, fi.fourier_features(np.zeros((3, 8)), "magnitude").shape
    ((3, 8), (3, 5))
    """
    if representation not in REPRESENTATIONS:
        raise ValueError(f"representation must be one of {REPRESENTATIONS}, got {representation!r}")
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
    x = as_float_array(x, "x", (1, 2))
    x2 = x.reshape(1, -1) if x.ndim == 1 else x
    out = _core.fourier_features(x2, getattr(_core.Representation, representation),
                                 getattr(_core.Norm, norm), as_threads(n_threads))
    bad = np.flatnonzero(~np.isfinite(out).all(axis=1))
    if bad.size:
        L = x2.shape[1]
        raise ValueError(f"the spectrum of {bad.size} series of x overflows float64 (first: row {bad[0]}, "
                         f"max |x| = {np.abs(x2[bad[0]]).max():.3g}); series of length {L} must keep "
                         f"max |x| below {np.finfo(np.float64).max / L:.3g}")
    return out[0] if x.ndim == 1 else out


def unpack_spectrum(packed) -> np.ndarray:
    """Complex rfft coefficients from the packed representation.

    Parameters
    ----------
    packed : array_like, shape (…, L)
        Spectra in the packed representation (see :func:`fourier_features`).

    Returns
    -------
    ndarray of complex128, shape (…, ⌊L/2⌋+1)
        The rfft coefficients.

    Examples
    --------
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> fi.unpack_spectrum([2.0, 1.0, 0.0, -3.0])
    array([2.+0.j, 1.-3.j, 0.+0.j])
    >>> x = np.random.default_rng(0).normal(size=(2, 7))
    >>> bool(np.allclose(fi.unpack_spectrum(fi.fourier_features(x, norm="backward")), np.fft.rfft(x)))
    True
    """
    packed = np.asarray(packed)
    L = packed.shape[-1]
    half = L // 2 + 1
    spectrum = packed[..., :half].astype(np.complex128)
    spectrum[..., 1:1 + (L - half)] += 1j * packed[..., half:]
    return spectrum


def features(x, kind: str = "time", norm: str = "ortho", n_threads: int = 0) -> np.ndarray:
    """Network input from series ``x``.

    Parameters
    ----------
    x : array_like, shape (N, L) or (N, K, L)
        The series; (N, K, L) for K observed quantities, whose features follow one another (the
        C channels of the first quantity, then the second's: shape (N, K·C, L)).
    kind : {"time", "fourier", "time+fourier"}, default "time"
        ``"time"`` (C = 1), ``"fourier"`` (C = 1, packed spectrum) or ``"time+fourier"`` (C = 2,
        the two stacked as channels).
    norm : {"backward", "ortho", "forward"}, default "ortho"
        Normalisation of the spectrum, as in :func:`fourier_features`.
    n_threads : int, default 0
        Threads to use (0: all cores).

    Returns
    -------
    ndarray, shape (N, C, L)
        The network input.

    Raises
    ------
    ValueError
        If ``kind`` is unknown.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> u = fi.simulate([[0.4, 0.4]])
    >>> fi.features(u, "time").shape, fi.features(u, "fourier").shape, fi.features(u, "time+fourier").shape  # (N, C, L)
    ((1, 1, 1000), (1, 1, 1000), (1, 2, 1000))
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    x = as_float_array(x, "x", (2, 3))
    if x.ndim == 3:  # each observed quantity's features in turn
        n, k, length = x.shape
        return features(x.reshape(n * k, length), kind, norm, n_threads).reshape(n, -1, length)
    channels = []
    if kind in ("time", "time+fourier"):
        channels.append(x)
    if kind in ("fourier", "time+fourier"):
        channels.append(fourier_features(x, "packed", norm, n_threads))
    return np.stack(channels, axis=1)
