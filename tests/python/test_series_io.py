"""fi.read_series: the layouts labs save series in, and the errors that name the line."""

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse import cli


@pytest.fixture(scope="module")
def data():
    return fi.Dataset.generate(4, 0, noise=fi.AR1Noise(), progress=False)


def _num(v) -> str:
    return repr(float(v))


def _write_rows(path, rows, sep=","):
    path.write_text("\n".join(sep.join(row) for row in rows) + "\n")
    return path


@pytest.mark.parametrize("layout", ["bare", "header_ids", "id_time_row", "time_row", "columns_semicolon",
                                    "columns_tsv_no_header", "whitespace"])
def test_layouts(tmp_path, data, layout):
    d, t = data.d, data.t
    ids, times = [str(i) for i in range(4)], None
    if layout == "bare":
        path = _write_rows(tmp_path / "s.csv", [[_num(v) for v in row] for row in d])
    elif layout == "header_ids":
        ids = [f"cell{i}" for i in range(4)]
        path = _write_rows(tmp_path / "s.csv", [["series", *(f"t{k}" for k in range(1000))]]
                           + [[ids[i], *map(_num, row)] for i, row in enumerate(d)])
    elif layout == "id_time_row":
        ids, times = [f"n{i}" for i in range(4)], t
        path = _write_rows(tmp_path / "s.csv", [["time", *map(_num, t)]] + [[ids[i], *map(_num, row)]
                                                                            for i, row in enumerate(d)])
    elif layout == "time_row":
        times = t
        path = _write_rows(tmp_path / "s.csv", [list(map(_num, t))] + [list(map(_num, row)) for row in d])
    elif layout == "columns_semicolon":
        ids, times = list("abcd"), t
        path = _write_rows(tmp_path / "s.csv", [["time", *ids]] + [[_num(t[k]), *map(_num, d[:, k])]
                                                                   for k in range(1000)], sep=";")
    elif layout == "columns_tsv_no_header":
        times = t
        path = _write_rows(tmp_path / "s.tsv", [[_num(t[k]), *map(_num, d[:, k])] for k in range(1000)], sep="\t")
    else:
        path = _write_rows(tmp_path / "s.txt", [list(map(_num, row)) for row in d], sep="   ")
    table = fi.read_series(path)
    np.testing.assert_array_equal(table.d, d)
    assert table.ids == ids
    if times is None:
        assert table.t is None
    else:
        np.testing.assert_array_equal(table.t, times)


@pytest.mark.parametrize("content, match", [
    ("1,2,3\n4,,6\n", "line 2, column 2: a missing value"),
    ("1,2,3\n4,NaN,6\n", "line 2, column 2: a missing value"),
    ("1,2,3\n4,5\n", "line 2: 2 fields, the first line has 3"),
    ("id,a,b\nx,1,zz\n", "line 2, column 3: 'zz' where a number belongs"),
    ("time;a\n0;1\n0.2;2\n0.1;3\n0.3;4\n", "the time column (column 1) must increase evenly"),
    ("", "no series"),
    ("series,a,b\n", "a header and no series"),
])
def test_errors_name_the_line(tmp_path, content, match):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=match.replace("(", r"\(").replace(")", r"\)")):
        fi.read_series(path, layout="columns" if content.startswith("time;") else "auto")


def test_explicit_layout_and_arrays(tmp_path, data):
    path = _write_rows(tmp_path / "cols.csv", [list(map(_num, data.d[:, k])) for k in range(1000)])
    np.testing.assert_array_equal(fi.read_series(path, layout="columns").d, data.d)
    np.save(tmp_path / "one.npy", data.d[0])
    assert fi.read_series(tmp_path / "one.npy").d.shape == (1, 1000)
    table = fi.read_series(data.save(tmp_path / "data.npz"))
    np.testing.assert_array_equal(table.d, data.d)
    np.testing.assert_array_equal(table.t, data.t)
    with pytest.raises(ValueError, match="layout must be one of"):
        fi.read_series(path, layout="diagonal")


def test_predict_from_a_lab_csv_keeps_ids_and_checks_the_grid(tmp_path, data, capsys):
    train, model = tmp_path / "train.npz", tmp_path / "map.safetensors"
    fi.Dataset.generate(64, 1, noise=fi.AR1Noise(), progress=False).save(train)
    assert cli.main(["train", str(train), str(model), "--arch", "dense", "--epochs", "1", "--quiet"]) == 0
    ids = [f"cell{i}" for i in range(4)]
    lab = _write_rows(tmp_path / "lab.csv", [["time", *ids]] + [[_num(data.t[k]), *map(_num, data.d[:, k])]
                                                                for k in range(1000)])
    capsys.readouterr()
    assert cli.main(["predict", str(model), str(lab)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "id,theta0,theta1,ood" and [line.split(",")[0] for line in lines[1:]] == ids
    expected = fi.InverseMap.load(model).predict(data.d)
    np.testing.assert_allclose(np.array([line.split(",")[1:3] for line in lines[1:]], dtype=float), expected,
                               rtol=1e-5)
    # the same cells sampled every 0.4 time units: refused, then resampled on request
    coarse = _write_rows(tmp_path / "coarse.csv", [["time", *ids]] + [[_num(data.t[k]), *map(_num, data.d[:, k])]
                                                                      for k in range(0, 1000, 2)])
    with pytest.raises(SystemExit):
        cli.main(["predict", str(model), str(coarse)])
    assert "Δt = 0.2" in capsys.readouterr().err
    import warnings

    with warnings.catch_warnings():  # the suite makes warnings errors; the command line prints them
        warnings.simplefilter("default")
        assert cli.main(["predict", str(model), str(coarse), "--resample"]) == 0
    out = capsys.readouterr()
    assert out.out.splitlines()[0] == "id,theta0,theta1,ood"
    assert "fhn-inverse predict: warning: " in out.err and "end values are held" in out.err  # 199.8: past 199.6
