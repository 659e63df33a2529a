"""scikit-learn's estimator protocol for :class:`~fhn_inverse.nn.InverseMap` (``clone``,
``cross_val_score``, ``GridSearchCV``): the constructor's arguments as parameters, R² as the score,
and a regressor's tags."""

from __future__ import annotations

import numpy as np

from .checks import _sklearn_regressor_tags

__all__ = ["RegressorProtocol"]


class RegressorProtocol:
    """The protocol's methods, for a map whose constructor takes ``layers``, ``output_activation``
    and ``seed`` and which keeps them in ``parts.architecture``."""

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's arguments ``layers`` (as given), ``output_activation`` and ``seed``:
        scikit-learn's protocol (``clone`` builds an untrained copy from them). ``deep`` is part of the
        protocol and changes nothing. Training settings are ``fit``'s arguments.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> fi.InverseMap.dense((8,), seed=3).get_params()
        {'layers': [{'kind': 'dense', 'units': 8}, 'swish'], 'output_activation': 'sigmoid', 'seed': 3}
        """
        arch = self.parts.architecture
        return {"layers": arch.layers_given, "output_activation": arch.output_activation, "seed": arch.seed}

    def set_params(self, **params) -> RegressorProtocol:
        """Set constructor arguments (``layers``, ``output_activation``, ``seed``; scikit-learn's
        protocol): the map is rebuilt untrained. Returns self; ValueError for another name.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> m = fi.InverseMap.dense((8,)).build((16,), 2)
        >>> m.set_params(seed=5, output_activation=None)     # untrained again
        InverseMap(2 hidden layers, not built)
        >>> m.seed, m.output_activation
        (5, None)
        """
        unknown = set(params) - {"layers", "output_activation", "seed"}
        if unknown:
            raise ValueError(f"unknown parameters {sorted(unknown)}; InverseMap takes layers, output_activation, seed")
        self.__init__(**{**self.get_params(), **params})
        return self

    def score(self, X, y) -> float:
        """R² of the predictions for X against y (N, D) or (N,), the mean over the parameters
        (scikit-learn's regressor convention).

        Examples
        --------
        >>> import numpy as np
        >>> import fhn_inverse as fi
        >>> from fhn_inverse.metrics import r2_score
        >>> x = np.random.default_rng(0).standard_normal((200, 16)).astype(np.float32)
        >>> y = x[:, :2] ** 2
        >>> m = fi.InverseMap.dense((8,)).fit(x, y, epochs=2, progress=False)
        >>> bool(np.isclose(m.score(x, y), r2_score(y, m.predict(x)).mean()))     # the mean R² over the targets
        True
        """
        from ..metrics import r2_score

        return float(np.mean(r2_score(y, self.predict(X))))

    def __sklearn_tags__(self):
        return _sklearn_regressor_tags()
