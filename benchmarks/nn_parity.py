"""The parity table of docs/nn.md: the study's dense map and CNN against an independent PyTorch
definition with identical weights (tests/python/test_nn_parity.py's networks and data, 37
samples so the batch splits into uneven chunks). Largest relative error, max |ours − torch| /
max |torch|, of the outputs, the loss, dx and the worst parameter gradient.

    python benchmarks/nn_parity.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))

import test_nn_parity as parity  # noqa: E402


def main() -> str:
    lines = ["| network | outputs | loss | dx | worst parameter gradient |", "|---|---:|---:|---:|---:|"]
    names = {"dense": "study dense (4 × 32, swish, sigmoid)", "cnn": "study CNN (33,874 parameters)"}
    for kind in ("dense", "cnn"):
        net, tm = parity.pair(kind)
        x, y = parity.data(kind, 37)
        out_t, loss_t, dx_t = parity.torch_grads(tm, x, y)
        loss, grads, dx = net.forward_backward(x, y)
        state = dict(tm.named_parameters())
        worst = 0.0
        for name, offset, shape in net.param_tensors():
            g_t = state[name.removeprefix("layers.")].grad.numpy()
            worst = max(worst, parity.rel(grads[offset: offset + g_t.size].reshape(shape), g_t))
        lines.append(f"| {names[kind]} | {parity.rel(net.predict(x), out_t):.1e} | "
                     f"{abs(loss - loss_t) / loss_t:.1e} | {parity.rel(dx, dx_t):.1e} | {worst:.1e} |")
    text = "\n".join(lines)
    print(text)
    return text


if __name__ == "__main__":
    main()
