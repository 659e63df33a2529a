"""A toy head, defined in this one file and added with one registration: point estimates of
positive parameters, regressed (by the core's MSE) on their logarithms and returned as
exponentials. ``test_parts.py`` trains it end to end and round-trips it through a model file."""

import numpy as np

from fhn_inverse.nn.heads import Head, register_head


@register_head
class LogPointHead(Head):
    name = "log_point"
    loss = "mse"

    @classmethod
    def training_targets(cls, y, cov, name="cov"):
        y = super().training_targets(y, cov, name)
        if not (y > 0).all():
            raise ValueError("the log_point head needs positive labels")
        return np.log(y).astype(np.float32)

    def outputs(self, raw, scaling, *, want_cov, cov_scale=1.0):
        log_mean, _ = super().outputs(raw, scaling, want_cov=False)
        return np.exp(log_mean), None
