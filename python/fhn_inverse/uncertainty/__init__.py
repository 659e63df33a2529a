"""uncertainty: posterior uncertainty of the inverse maps. ``laplace`` (Laplace covariance from the
ODE's sensitivities), ``local_gaussian`` (log-Euclidean covariance targets), ``calibration``
(quantile calibration of a Gaussian) and ``diagnostics`` (``diagnose`` and the public names of the
checks, which live in ``stats``, ``coverage``, ``sbc``, ``recovery``, ``predictive`` and ``figures``).
"""
