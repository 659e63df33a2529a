"""Parity with PyTorch (CPU, float32) on identical weights for the study's dense and CNN maps:
outputs and every gradient within 1e-5 relative, one Adam/AdamW step identical, the first 20
training losses from the same initialisation and batches within 1e-4 relative."""

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse import _core

torch = pytest.importorskip("torch")
nn = torch.nn


def torch_model(kind):
    """An independent PyTorch definition of the study's networks (module i = our layer i)."""
    if kind == "dense":
        mods = [nn.Linear(1000, 32), nn.SiLU()]
        for _ in range(3):
            mods += [nn.Linear(32, 32), nn.SiLU()]
        mods += [nn.Linear(32, 2), nn.Sigmoid()]
    else:
        mods = [nn.Conv1d(1, 8, 3, 2), nn.SiLU(), nn.AvgPool1d(2), nn.Conv1d(8, 16, 3, 2), nn.SiLU(),
                nn.AvgPool1d(2), nn.Conv1d(16, 32, 3, 2), nn.SiLU(), nn.Flatten(), nn.Linear(960, 32),
                nn.SiLU(), nn.Linear(32, 32), nn.SiLU(), nn.Linear(32, 2), nn.Sigmoid()]
    return nn.Sequential(*mods)


def pair(kind, seed=3):
    m = fi.InverseMap.dense() if kind == "dense" else fi.InverseMap.cnn()
    m.seed = seed
    m.build((1000,) if kind == "dense" else (1, 1000), 2)
    net = m.network
    tm = torch_model(kind)
    params = net.params
    state = {}
    for name, offset, shape in net.param_tensors():
        state[name.removeprefix("layers.")] = torch.from_numpy(
            params[offset: offset + int(np.prod(shape))].reshape(shape).copy())
    tm.load_state_dict(state)
    return net, tm


def data(kind, n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 1000) if kind == "dense" else (n, 1, 1000)).astype(np.float32)
    y = rng.random((n, 2)).astype(np.float32)
    return x, y


def rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def torch_grads(tm, x, y):
    xt = torch.from_numpy(x).requires_grad_(True)
    out = tm(xt)
    loss = torch.nn.functional.mse_loss(out, torch.from_numpy(y))
    tm.zero_grad()
    loss.backward()
    return out.detach().numpy(), loss.item(), xt.grad.numpy()


def assert_matches_torch(net, tm, x, y, n_threads=0):
    """Outputs, loss, dx and every parameter gradient of net agree with the torch module tm
    within 1e-5 relative; returns net's (loss, grads, dx)."""
    out_t, loss_t, dx_t = torch_grads(tm, x, y)
    assert rel(net.predict(x), out_t) < 1e-5
    loss, grads, dx = net.forward_backward(x, y, n_threads=n_threads)
    assert abs(loss - loss_t) / loss_t < 1e-5
    assert rel(dx, dx_t) < 1e-5
    state = dict(tm.named_parameters())
    for name, offset, shape in net.param_tensors():
        g_t = state[name.removeprefix("layers.")].grad.numpy()
        g = grads[offset: offset + g_t.size].reshape(shape)
        assert rel(g, g_t) < 1e-5, name
    return loss, grads, dx


@pytest.mark.parametrize("kind", ["dense", "cnn"])
def test_outputs_and_gradients_match_torch(kind):
    net, tm = pair(kind)
    x, y = data(kind, 37)  # 37 samples: three uneven chunks
    assert_matches_torch(net, tm, x, y)


@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
def test_one_optimizer_step_matches_torch(optimizer):
    net, tm = pair("cnn")
    x, y = data("cnn", 32, seed=1)
    wd = 0.01 if optimizer == "adamw" else 0.0
    opt = _core.Adam(net.n_params, weight_decay=wd, decoupled=optimizer == "adamw")
    topt = (torch.optim.AdamW if optimizer == "adamw" else torch.optim.Adam)(tm.parameters(), lr=2e-3, weight_decay=wd)
    for _ in range(2):
        net.forward_backward(x, y)
        opt.step(net, 2e-3)
        torch_grads(tm, x, y)
        topt.step()
    params = net.params
    for name, offset, shape in net.param_tensors():
        p_t = dict(tm.named_parameters())[name.removeprefix("layers.")].detach().numpy()
        p = params[offset: offset + p_t.size].reshape(shape)
        # same update up to float32 rounding of identical arithmetic
        assert np.max(np.abs(p - p_t)) < 2e-6 * max(1.0, np.max(np.abs(p_t))), name


@pytest.mark.parametrize("kind", ["dense", "cnn"])
def test_first_20_losses_match_torch(kind):
    net, tm = pair(kind, seed=11)
    x, y = data(kind, 160, seed=2)
    opt = _core.Adam(net.n_params)
    h = _core.fit(net, opt, x, y,
                  config=fi.TrainingConfig(epochs=2, batch_size=16, lr=2e-3, seed=5, n_threads=2).to_core(5))
    topt = torch.optim.Adam(tm.parameters(), lr=2e-3)
    losses = []
    for epoch in range(2):
        order = _core.epoch_order(5, epoch, 160)
        for b in range(10):
            idx = order[16 * b: 16 * (b + 1)]
            tm.zero_grad()
            loss = torch.nn.functional.mse_loss(tm(torch.from_numpy(x[idx])), torch.from_numpy(y[idx]))
            loss.backward()
            topt.step()
            losses.append(loss.item())
    assert len(h["step_loss"]) == 20
    np.testing.assert_allclose(h["step_loss"], losses, rtol=1e-4)


def test_gaussian_nll_matches_torch_distribution():
    m = fi.InverseMap.dense(units=[16], output_activation=None, seed=2)
    m.build((20,), 2, loss="gaussian_nll")
    net = m.network
    rng = np.random.default_rng(4)
    x = rng.standard_normal((9, 20)).astype(np.float32)
    t = rng.standard_normal((9, 2)).astype(np.float32)
    loss, grads, _ = net.forward_backward(x, t, loss="gaussian_nll")
    tm = nn.Sequential(nn.Linear(20, 16), nn.SiLU(), nn.Linear(16, 5))
    p = net.params
    tm.load_state_dict({k.removeprefix("layers."): torch.from_numpy(p[o: o + int(np.prod(s))].reshape(s).copy())
                        for k, o, s in net.param_tensors()})
    out = tm(torch.from_numpy(x))
    mu = out[:, :2]
    tril = torch.zeros(9, 2, 2)
    tril[:, 0, 0] = out[:, 2].exp()
    tril[:, 1, 0] = out[:, 3]
    tril[:, 1, 1] = out[:, 4].exp()
    nll = -torch.distributions.MultivariateNormal(mu, scale_tril=tril).log_prob(torch.from_numpy(t)).mean()
    nll.backward()
    assert abs(loss - nll.item()) < 1e-5 * abs(nll.item())
    state = dict(tm.named_parameters())
    for name, offset, shape in net.param_tensors():
        g_t = state[name.removeprefix("layers.")].grad.numpy()
        assert rel(grads[offset: offset + g_t.size].reshape(shape), g_t) < 1e-5, name


def test_to_torch_is_equivalent():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2, 50)).astype(np.float32)
    y = rng.random((64, 3)) * 5
    m = fi.InverseMap([{"kind": "conv1d", "filters": 4, "kernel": 4, "stride": 3, "padding": "same"}, "gelu",
                       {"kind": "maxpool1d", "pool": 2}, "flatten", {"kind": "dense", "units": 8}, "tanh"])
    m.fit(x, y, epochs=2, batch_size=16, progress=False)
    with torch.no_grad():
        out = m.to_torch()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out, m.predict(x), rtol=1e-5, atol=1e-5)


def test_wide_map_split_gemms_match_torch():
    """A wide map (Dense layers of >= 256 in and out) runs whole-batch GEMMs split in fixed parts
    over the threads: outputs, loss, dx and every parameter gradient agree with PyTorch, and the
    result is bitwise the same for 1 and 2 threads."""
    m = fi.InverseMap.dense(units=[300, 520, 256], seed=4)
    m.build((1000,), 2)
    net = m.network
    tm = m.to_torch(unscale=False).train()
    x, y = data("dense", 37)
    loss, grads, dx = assert_matches_torch(net, tm, x, y, n_threads=2)
    loss1, grads1, dx1 = net.forward_backward(x, y, n_threads=1)
    assert loss1 == loss and np.array_equal(grads1, grads) and np.array_equal(dx1, dx)


def test_to_torch_applies_input_scaling():
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((64, 2, 50)) * np.array([1.0, 30.0])[None, :, None] + 4).astype(np.float32)
    y = rng.random((64, 2))
    m = fi.InverseMap.cnn(filters=[4], dense=[8]).fit(x, y, epochs=2, input_scaling="channel", progress=False)
    with torch.no_grad():
        out = m.to_torch()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out, m.predict(x), rtol=1e-5, atol=1e-5)
