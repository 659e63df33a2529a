"""The README's Python snippets, extracted from the README itself and run in order in one
namespace, as a reader pasting them would: every line a user copies must work.

Only the sizes shrink so that the suite stays fast (fewer series and epochs); each shrinking
substitution must apply, so a README edit that moves them fails here rather than silently running
the full sizes. What the README's shell lines make for the Python lines after them is made beside:
the series of "Your own data" (``lab.csv``, with a time row) and the store ``big.zarr``, both
from the test series the snippets made.
"""

import os
import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
SHRINK = [  # (pattern, replacement): the sizes of a quick run
    (r"10_000", "300"),
    (r"fi\.study_data\(seed=0, noise=fi\.AR1Noise\(\)\)", "fi.study_data(seed=0, noise=fi.AR1Noise(), "
                                                          "train_size=600, test_size=200)"),
    (r"fi\.training_sets\(pool\)", "fi.training_sets(pool, sizes=(500,))"),
    (r"train\[(1000|8000)\]", "train[500]"),
    (r"epochs=200", "epochs=2"),
    (r"fi\.Dataset\.generate\(2000, ", "fi.Dataset.generate(200, "),
    (r"100_000", "300"),
    (r"validation=2_000", "validation=100"),
    (r"epochs=20\b", "epochs=1"),
    (r"10\*\*6", "600"),
    (r"Ensemble\.like\((.*?), 5\)", r"Ensemble.like(\1, 2)"),
]


def snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_the_readme_snippets_run_in_order(tmp_path, monkeypatch):
    blocks = snippets()
    assert len(blocks) >= 5, "the README's Python snippets were not found"
    code = "\n".join(blocks)
    for pattern, replacement in SHRINK:
        code, count = re.subn(pattern, replacement, code)
        assert count, f"the README no longer contains {pattern!r}: update the test's sizes"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in code.split("\n\n"):
        if "lab.csv" in block and not os.path.exists("lab.csv"):
            test = namespace["test"]
            rows = ["id," + ",".join(f"{v:g}" for v in test.t)]
            rows += [f"cell {i}," + ",".join(f"{v:.8g}" for v in d) for i, d in enumerate(test.d[:5])]
            Path("lab.csv").write_text("\n".join(rows) + "\n")
        if "big.zarr" in block and not os.path.exists("big.zarr"):  # as the bash lines before it make it
            from fhn_inverse.data import store

            store.save_zarr(namespace["test"], "big.zarr", chunk=100)
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - the README's own code
        if "lab.csv" in block:  # the file's series, read and predicted: as the map predicts them itself
            np.testing.assert_allclose(namespace["mean"], namespace["cnn"].predict(namespace["test"].d[:5]),
                                       rtol=1e-6)
    test = namespace["test"]
    lower, upper = namespace["lower"], namespace["upper"]
    assert lower.shape == upper.shape == (len(test), 2) and np.all(lower <= upper)
    assert namespace["nll"].calibration is not None


@pytest.mark.parametrize("pattern", [p for p, _ in SHRINK])
def test_every_shrinking_substitution_still_matches(pattern):
    assert re.search(pattern, "\n".join(snippets())), pattern
