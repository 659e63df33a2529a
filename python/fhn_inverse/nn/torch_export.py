"""PyTorch export of a trained map (the optional ``torch`` extra): an equivalent
``torch.nn.Module`` with the same weights, input standardisation and label unscaling."""

from __future__ import annotations

import numpy as np

__all__ = ["to_torch", "to_torch_mixture"]


def to_torch(m, *, unscale: bool = True, return_cov: bool = False):
    """An equivalent ``torch.nn.Module`` (needs the optional ``torch`` extra).

    It takes (N, C, L) for convolutional maps and (N, F) for dense maps (as ``predict`` after its
    reshape).

    Parameters
    ----------
    m : InverseMap
        A built map.
    unscale : bool, default True
        Return labels in training units like ``predict`` (float32); False: the network's raw
        (scaled) outputs.
    return_cov : bool, default False
        For a Gaussian-NLL head: the module returns (mean (N, D), cov (N, D, D)) like
        ``predict(X, return_cov=True)`` (with ``cov_scale``; a quantile calibration, which is not
        Gaussian, is not part of the module). ValueError for other heads or without ``unscale``.

    Returns
    -------
    torch.nn.Module
        The module, in evaluation mode, with the map's weights, its input standardisation (where it
        has one) and, with ``unscale``, its label unscaling.

    Raises
    ------
    RuntimeError
        If the map is not built.
    ImportError
        If ``torch`` is not installed.
    """
    net = m.require_network()
    parts = m.parts
    if return_cov and (not unscale or parts.head.name != "gaussian_nll"):
        raise ValueError("return_cov=True exports the Gaussian-NLL head's covariance in the labels' units: it needs "
                         f"unscale=True and a 'gaussian_nll' head (this map has {parts.head.name!r})")
    import torch
    from torch import nn

    params = torch.from_numpy(net.params.copy())
    tensors = {name: params[o: o + int(np.prod(s))].reshape(tuple(s)).clone()
               for name, o, s in net.param_tensors()}
    acts = {"relu": nn.ReLU, "swish": nn.SiLU, "gelu": nn.GELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
    modules = []
    shape = tuple(net.input_shape)
    full = parts.architecture.full_layers(shape, net.output_shape[0])
    for i, layer in enumerate(full):
        kind = layer["kind"]
        if kind == "dense":
            mod = nn.Linear(tensors[f"layers.{i}.weight"].shape[1], layer["units"])
        elif kind == "conv1d":
            w = tensors[f"layers.{i}.weight"]
            k, s, length = layer["kernel"], layer["stride"], shape[1]
            pad = (0, 0)
            if layer["padding"] == "same":
                out = -(-length // s)
                total = max((out - 1) * s + k - length, 0)
                pad = (total // 2, total - total // 2)
            conv = nn.Conv1d(w.shape[1], w.shape[0], k, stride=s)
            mod = conv if pad == (0, 0) else nn.Sequential(nn.ConstantPad1d(pad, 0.0), conv)
        elif kind == "avgpool1d":
            mod = nn.AvgPool1d(layer["pool"], layer["stride"])
        elif kind == "maxpool1d":
            mod = nn.MaxPool1d(layer["pool"], layer["stride"])
        elif kind == "flatten":
            mod = nn.Flatten()
        elif kind == "dropout":
            mod = nn.Dropout(layer["rate"])
        else:
            mod = acts[kind]()
        target = mod[1] if isinstance(mod, nn.Sequential) else mod
        if kind in ("dense", "conv1d"):
            with torch.no_grad():
                target.weight.copy_(tensors[f"layers.{i}.weight"])
                target.bias.copy_(tensors[f"layers.{i}.bias"])
        modules.append(mod)
        shape = net.summary()[i][1]
    model = nn.Sequential(*modules)
    if parts.input_scaling is not None:
        view = (1, -1, 1) if len(net.input_shape) == 2 else (1, -1)
        in_offset = torch.tensor(parts.input_scaling.offset, dtype=torch.float32).reshape(view)
        in_scale = torch.tensor(parts.input_scaling.scale, dtype=torch.float32).reshape(view)

        class _Standardise(nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("offset", in_offset)
                self.register_buffer("scale", in_scale)

            def forward(self, x):
                return (x - self.offset) / self.scale

        model = nn.Sequential(_Standardise(), model)
    back = [] if parts.transform is None or not unscale else [_untransform(parts.transform, return_cov)]
    if return_cov:
        return nn.Sequential(model, _gaussian_outputs(parts.head.n_targets, parts.scaling, m.cov_scale), *back).eval()
    if unscale and parts.scaling is not None:
        offset = torch.tensor(parts.scaling.offset, dtype=torch.float32)
        scale = torch.tensor(parts.scaling.scale, dtype=torch.float32)
        n_t = parts.head.n_targets

        class _Unscale(nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("offset", offset)
                self.register_buffer("scale", scale)

            def forward(self, y):
                return y[:, :n_t] * self.scale + self.offset

        model = nn.Sequential(model, _Unscale(), *back)
    return model.eval()


def _untransform(transform, with_cov: bool):
    """g⁻¹ of a map's transform (:mod:`~fhn_inverse.nn.transforms`) in torch: (N, D) means, and with
    ``with_cov`` (mean, cov) → (g⁻¹(mean), J cov J), J = dθ/dz at the mean, as ``predict``."""
    import torch
    from torch import nn

    finite = lambda v: torch.tensor(np.where(np.isfinite(v), v, 0.0), dtype=torch.float64)  # noqa: E731
    lower, upper = finite(transform.lower), finite(transform.upper)
    is_log, is_logit = torch.as_tensor(transform._log), torch.as_tensor(transform._logit)

    class _Untransform(nn.Module):
        def __init__(self):
            super().__init__()
            for name, value in (("lower", lower), ("upper", upper), ("is_log", is_log), ("is_logit", is_logit)):
                self.register_buffer(name, value)

        def forward(self, out):
            mean, cov = out if with_cov else (out, None)
            z = mean.to(torch.float64)
            s = torch.sigmoid(z)
            theta = torch.where(self.is_log, self.lower + torch.exp(z),
                                torch.where(self.is_logit, self.lower + (self.upper - self.lower) * s, z))
            if cov is None:
                return theta.to(mean.dtype)
            jac = torch.where(self.is_log, torch.exp(z),
                              torch.where(self.is_logit, (self.upper - self.lower) * s * (1 - s), torch.ones_like(z)))
            return theta.to(mean.dtype), cov * jac[:, :, None] * jac[:, None, :]

    return _Untransform()


def _gaussian_outputs(d: int, scaling, cov_scale: float):
    """The Gaussian-NLL head in torch: raw outputs (N, D + D(D+1)/2) → (mean, S L Lᵀ S · cov_scale)."""
    import torch
    from torch import nn

    offset = torch.zeros(d) if scaling is None else torch.tensor(scaling.offset, dtype=torch.float32)
    scale = torch.ones(d) if scaling is None else torch.tensor(scaling.scale, dtype=torch.float32)
    rows, cols = np.tril_indices(d)

    class _Gaussian(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("offset", offset)
            self.register_buffer("scale", scale)
            self.rows, self.cols, self.cov_scale = torch.as_tensor(rows), torch.as_tensor(cols), float(cov_scale)

        def forward(self, raw):
            mean = raw[:, :d] * self.scale + self.offset
            chol = raw[:, d:].to(torch.float64)
            L = torch.zeros(raw.shape[0], d, d, dtype=torch.float64)
            L[:, self.rows, self.cols] = chol
            idx = torch.arange(d)
            L[:, idx, idx] = torch.exp(L[:, idx, idx])
            s = self.scale.to(torch.float64)
            return mean, (L @ L.transpose(1, 2)) * torch.outer(s, s) * self.cov_scale

    return _Gaussian()


def to_torch_mixture(members, *, return_cov: bool = False):
    """An ensemble's members as one ``torch.nn.Module``: the mean of the members' means, and with
    ``return_cov`` the mixture's covariance (the mean of Σ_k + μ_k μ_kᵀ, less μ μᵀ), as
    ``Ensemble.predict`` gives them."""
    from torch import nn

    modules = nn.ModuleList([to_torch(m, return_cov=return_cov) for m in members])

    class _Mixture(nn.Module):
        def __init__(self):
            super().__init__()
            self.members = modules

        def forward(self, x):
            outs = [member(x) for member in self.members]
            if not return_cov:
                return sum(outs) / len(outs)
            means = [o[0].to(o[1].dtype) for o in outs]
            mean = sum(means) / len(means)
            second = sum(c + mu[:, :, None] * mu[:, None, :] for (_, c), mu in zip(outs, means)) / len(outs)
            return mean.to(outs[0][0].dtype), second - mean[:, :, None] * mean[:, None, :]

    return _Mixture().eval()
