"""fi.read_series against the faults labs and the fuzzer found: a missing value taken for a header,
long rows, quotes and line breaks, pipes, times in the header, decimal commas, duplicate IDs and
quoted IDs. Each test names the fault it covers; every error must be a ValueError naming the file."""

import csv
import os
import random
import re
import stat
import threading

import numpy as np
import pytest

import fhn_inverse as fi

T = np.round(np.arange(6) * 0.2, 10)  # a grid of 6 times, Δt = 0.2
D = np.array([[0.5, -1.25, 2.0, 3.5, 0.125, 7.0], [1.5, 2.25, -0.75, 4.0, 5.5, 6.25],
              [9.0, 8.5, 7.25, 6.0, 5.75, 4.5]])  # (N 3, L 6), no row a time axis


def _write(path, text: str):
    path.write_text(text, encoding="utf-8", newline="")
    return path


def _csv(rows, sep=",") -> str:
    return "".join(sep.join(str(c) for c in row) + "\n" for row in rows)


def _fails(path, match, **kwargs):
    """read_series(path) raises a ValueError that names the file and matches ``match``."""
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*" + match) as info:
        fi.read_series(path, **kwargs)
    return str(info.value)


def _check_table(table):
    n, length = table.d.shape
    assert n >= 1 and length >= 1 and len(table.ids) == n
    assert table.t is None or table.t.shape == (length,)


# -------------------------------------------------- 1. a missing value in the first row is data
@pytest.mark.parametrize("token", ["#N/A", "#n/a", "#VALUE!", "#DIV/0!", "#REF!", "#NAME?", "#NUM!", "#NULL!",
                                   "NA", "NaN", "null", "-", ""])
def test_a_missing_value_in_the_first_row_is_not_a_header(tmp_path, token):
    rows = [list(r) for r in D]
    rows[0][1] = token
    _fails(_write(tmp_path / "bare.csv", _csv(rows)), "line 1, column 2: a missing value")
    with_ids = [[f"cell{i}", *r] for i, r in enumerate(rows)]
    _fails(_write(tmp_path / "ids.csv", _csv(with_ids)), "line 1, column 3: a missing value")
    # after a comment line: the line numbers are the file's
    _fails(_write(tmp_path / "comment.csv", "# exported 2024\n" + _csv(with_ids)), "line 2, column 3: a missing")


@pytest.mark.parametrize("token", ["#N/A", "#VALUE!", "NA"])
def test_a_missing_value_first_on_a_line_is_neither_a_comment_nor_a_header(tmp_path, token):
    rows = [list(r) for r in D]
    rows[0][0] = token
    _fails(_write(tmp_path / "first.csv", _csv(rows)), "line 1, column 1: a missing value")
    rows = [list(r) for r in D]
    rows[1][0] = token
    _fails(_write(tmp_path / "second.tsv", _csv(rows, "\t")), "line 2, column 1: a missing value")


def test_a_header_with_a_name_is_still_a_header(tmp_path):
    table = fi.read_series(_write(tmp_path / "h.csv", _csv([["series", "a", "#N/A", "c", "d", "e", "f"]]
                                                            + [[f"c{i}", *r] for i, r in enumerate(D)])))
    np.testing.assert_array_equal(table.d, D)
    assert table.ids == ["c0", "c1", "c2"]


# -------------------------------------------------- 2. long rows and fields
@pytest.mark.parametrize("sep", [",", "\t"])
def test_a_row_of_a_million_values(tmp_path, sep):
    rng = np.random.default_rng(3)
    d = rng.normal(size=(2, 10**6))
    path = tmp_path / "long.csv"
    with open(path, "w", encoding="utf-8") as f:
        for i, row in enumerate(d):
            f.write(f"cell{i}{sep}" + sep.join(map(repr, row.tolist())) + "\n")
    limit = csv.field_size_limit()
    table = fi.read_series(path)
    assert csv.field_size_limit() == limit  # raised for the call only
    np.testing.assert_array_equal(table.d, d)
    assert table.ids == ["cell0", "cell1"]


def test_a_field_longer_than_the_csv_module_allows(tmp_path):
    long_id = "x" * 200_000
    table = fi.read_series(_write(tmp_path / "id.csv", _csv([[long_id, *D[0]], ["short", *D[1]]])))
    assert table.ids == [long_id, "short"]
    np.testing.assert_array_equal(table.d, D[:2])
    limit = csv.field_size_limit()
    _fails(_write(tmp_path / "cell.csv", _csv([D[0], [D[1][0], "y" * 200_000, *D[1][2:]]])), "line 2, column 2: 'yyyy")
    assert csv.field_size_limit() == limit


# -------------------------------------------------- 3. quotes, line breaks, one token: read or refused
@pytest.mark.parametrize("content, match", [
    ('"abc,1,2\n3,4,5\n', "line 1: .*quote"),
    ('a,"b\nc",1\nd,2,3\n', "line 1: .*quote"),
    ('x,1,2\ny,"1,2\n', "line 2: .*quote"),
    ('x,1,2\n"y"z,3,4\n', "line 2: "),
    ("abc\n1,2,3\n4,5,6\n", "line 2: 3 fields, the header has 1"),
    ("time\n0\n0.2\n0.4\n", "no series"),
    ("series\n", "a header and no series"),
])
def test_malformed_text_is_refused_naming_the_line(tmp_path, content, match):
    _fails(_write(tmp_path / "bad.csv", content), match)


@pytest.mark.parametrize("breaker", ["\u2028", "\u2029", "\x85", "\x0c", "\x1e"])
def test_unicode_line_separators_in_ids_are_part_of_the_id(tmp_path, breaker):
    ids = [f"cell{breaker}0", "cell1", "cell2"]
    table = fi.read_series(_write(tmp_path / "u.csv", _csv([[ids[i], *r] for i, r in enumerate(D)])))
    np.testing.assert_array_equal(table.d, D)
    assert table.ids == ids


def test_a_file_of_one_field_per_line_is_one_series(tmp_path):
    table = fi.read_series(_write(tmp_path / "one.csv", "voltage\n" + "".join(f"{v!r}\n" for v in D[0].tolist())))
    np.testing.assert_array_equal(table.d, D[:1])
    assert table.ids == ["voltage"] and table.t is None
    table = fi.read_series(_write(tmp_path / "bare.txt", "".join(f"{v!r}\n" for v in D[1].tolist())))
    np.testing.assert_array_equal(table.d, D[1:2])


def test_random_malformed_text_reads_or_is_refused_naming_the_file(tmp_path):
    """The fuzzer's finds, as a property: whatever comes back holds N >= 1 series of L >= 1 points."""
    rng = random.Random(7)
    tokens = ["1", "2.5", "-3", "a", "id", "time", "t", '"', '"x,y"', "#N/A", "NA", "", "\u2028", "0", "0.2", "0.4"]
    seps, breaks = [",", ";", "\t", " "], ["\n", "\r\n", "\r", "\u2028", "\x85"]
    path = tmp_path / "fuzz.csv"
    for _ in range(400):
        sep = rng.choice(seps)
        lines = [sep.join(rng.choice(tokens) for _ in range(rng.randint(1, 5))) for _ in range(rng.randint(1, 5))]
        _write(path, rng.choice(breaks).join(lines))
        try:
            table = fi.read_series(path)
        except ValueError as err:
            assert str(path) in str(err)
            continue
        _check_table(table)


# -------------------------------------------------- 4. pipes, folders and devices are refused
def _read_in_thread(path):
    """read_series(path) in a thread, so that a reader waiting on a pipe cannot hang the test."""
    result = {}

    def target():
        try:
            result["table"] = fi.read_series(path)
        except Exception as err:  # noqa: BLE001 - the test looks at whatever came out
            result["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout=20)
    if thread.is_alive() and stat.S_ISFIFO(os.stat(path).st_mode):  # release it: a writer that closes at once
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(timeout=5)
        pytest.fail(f"read_series waited on the pipe {path}")
    return result


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
@pytest.mark.parametrize("name", ["pipe.csv", "pipe.npy", "pipe.npz", "pipe"])
def test_a_named_pipe_is_refused_without_waiting(tmp_path, name):
    path = tmp_path / name
    os.mkfifo(path)
    err = _read_in_thread(path).get("error")
    assert isinstance(err, ValueError) and str(path) in str(err) and "not a regular file" in str(err)


def test_a_folder_or_a_device_is_refused(tmp_path):
    (tmp_path / "folder.csv").mkdir()
    _fails(tmp_path / "folder.csv", "not a regular file")
    if os.path.exists("/dev/null"):
        _fails("/dev/null", "not a regular file")
    with pytest.raises(FileNotFoundError):
        fi.read_series(tmp_path / "absent.csv")


# -------------------------------------------------- 5. times in the header after an ID cell
@pytest.mark.parametrize("first", ["id", "series", ""])
def test_a_header_of_an_id_cell_then_times(tmp_path, first):
    ids = ["a", "b", "c"]
    rows = [[first, *map(repr, T.tolist())]] + [[ids[i], *r] for i, r in enumerate(D)]
    path = _write(tmp_path / "h.tsv", _csv(rows, "\t"))
    table = fi.read_series(path)
    np.testing.assert_array_equal(table.d, D)
    np.testing.assert_array_equal(table.t, T)
    assert table.ids == ids


@pytest.mark.parametrize("first, labels", [("", range(6)), ("id", range(1, 7)), ("series", range(6))])
def test_a_header_of_column_numbers_holds_labels_not_times(tmp_path, first, labels):
    """pandas' ``DataFrame(d, index=ids).to_csv()``: an empty cell, then 0, 1, …: no row of its own."""
    rows = [[first, *labels]] + [[f"c{i}", *r] for i, r in enumerate(D)]
    table = fi.read_series(_write(tmp_path / "pandas.csv", _csv(rows)))
    np.testing.assert_array_equal(table.d, D)
    assert table.ids == ["c0", "c1", "c2"] and table.t is None


def test_a_time_row_takes_precedence_over_header_labels(tmp_path):
    rows = [["id", *range(1, 7)], ["time", *T.tolist()]] + [[f"c{i}", *r] for i, r in enumerate(D)]
    table = fi.read_series(_write(tmp_path / "both.csv", _csv(rows)))
    np.testing.assert_array_equal(table.t, T)
    np.testing.assert_array_equal(table.d, D)


def test_header_times_that_do_not_increase_evenly_are_refused(tmp_path):
    times = [0, 0.2, 0.4, 0.5, 0.8, 1.0]
    path = _write(tmp_path / "h.tsv", _csv([["id", *times]] + [[f"c{i}", *r] for i, r in enumerate(D)], "\t"))
    _fails(path, "line 1: the times in the header must increase evenly")


def test_a_time_column_after_an_index_column(tmp_path):
    """pandas' ``to_csv`` with its index: an unnamed (or ID) column of row numbers, then the times."""
    for first in ("", "id"):
        rows = [[first, "time", "a", "b", "c"]] + [[k, repr(float(T[k])), *D[:, k]] for k in range(6)]
        table = fi.read_series(_write(tmp_path / "index.csv", _csv(rows)))
        np.testing.assert_array_equal(table.d, D)
        np.testing.assert_array_equal(table.t, T)
        assert table.ids == ["a", "b", "c"]


# -------------------------------------------------- 6. header cells "t=0.2", "time = 0.2"
@pytest.mark.parametrize("form", ["t={}", "t = {}", "time={}", "T={}", "time= {}"])
@pytest.mark.parametrize("with_ids", [True, False])
def test_header_cells_that_give_a_time(tmp_path, form, with_ids):
    header = [form.format(repr(t)) for t in T.tolist()]
    rows = [["id", *header]] + [[f"c{i}", *r] for i, r in enumerate(D)] if with_ids else [header, *D]
    table = fi.read_series(_write(tmp_path / "t.csv", _csv(rows)))
    np.testing.assert_array_equal(table.d, D)
    np.testing.assert_array_equal(table.t, T)
    assert table.ids == (["c0", "c1", "c2"] if with_ids else ["0", "1", "2"])


def test_column_labels_are_not_times(tmp_path):
    table = fi.read_series(_write(tmp_path / "labels.csv", _csv([["id", *(f"t{k}" for k in range(6))]]
                                                                 + [[f"c{i}", *r] for i, r in enumerate(D)])))
    assert table.t is None
    np.testing.assert_array_equal(table.d, D)


# -------------------------------------------------- 7. decimal commas
def _comma(v) -> str:
    return repr(float(v)).replace(".", ",")


@pytest.mark.parametrize("sep", [";", "\t", " "])
def test_decimal_commas(tmp_path, sep):
    rows = [["time", *map(_comma, T)]] + [[f"c{i}", *map(_comma, r)] for i, r in enumerate(D)]
    path = _write(tmp_path / "eu.csv", _csv(rows, sep))
    table = fi.read_series(path, decimal=",")
    np.testing.assert_array_equal(table.d, D)
    np.testing.assert_array_equal(table.t, T)
    assert table.ids == ["c0", "c1", "c2"]
    bare = _write(tmp_path / "bare.csv", _csv([list(map(_comma, r)) for r in D], sep))
    np.testing.assert_array_equal(fi.read_series(bare, decimal=",").d, D)
    # in columns, with a header that names the series
    cols = _write(tmp_path / "cols.csv", _csv([["t", "a", "b", "c"]] + [[_comma(T[k]), *map(_comma, D[:, k])]
                                                                       for k in range(6)], sep))
    table = fi.read_series(cols, decimal=",")
    np.testing.assert_array_equal(table.d, D)
    np.testing.assert_array_equal(table.t, T)


def test_decimal_comma_errors(tmp_path):
    path = _write(tmp_path / "eu.csv", _csv([list(map(_comma, r)) for r in D], ";"))
    message = _fails(path, "line 1, column 1: '0,5' where a number belongs")
    assert 'decimal=","' in message  # the way out
    with pytest.raises(ValueError, match="decimal must be"):
        fi.read_series(path, decimal=";")
    with pytest.raises(ValueError, match="cannot be a comma"):
        fi.read_series(path, decimal=",", delimiter=",")
    # a point among decimal commas is not read as a thousands separator or a decimal point
    mixed = _write(tmp_path / "mixed.csv", "0,5;1.234;2,5\n1,5;2,5;3,5\n")
    _fails(mixed, "line 1, column 2: '1.234' where a number belongs", decimal=",")


# -------------------------------------------------- 8. duplicate IDs
def test_duplicate_ids_are_refused(tmp_path):
    rows = [["series", *map(repr, T.tolist())], ["a", *D[0]], ["b", *D[1]], ["a", *D[2]]]
    message = _fails(_write(tmp_path / "dup.csv", "# lab export\n" + _csv(rows)), "'a'")
    assert "lines 3 and 5" in message
    cols = [["time", "a", "b", "a"]] + [[repr(float(T[k])), *D[:, k]] for k in range(6)]
    message = _fails(_write(tmp_path / "dupcols.csv", _csv(cols)), "'a'")
    assert "columns 2 and 4" in message and "line 1" in message


# -------------------------------------------------- 9. quoted IDs holding the delimiter
@pytest.mark.parametrize("sep", [",", ";", "\t", " "])
def test_quoted_ids_holding_the_delimiter_round_trip(tmp_path, sep):
    ids = [f"cell{sep} 3", 'cell "4"', f"x{sep}{sep}y"]
    path = tmp_path / "quoted.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=sep, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        for i, row in enumerate(D):
            writer.writerow([ids[i], *map(repr, row.tolist())])
    table = fi.read_series(path)
    np.testing.assert_array_equal(table.d, D)
    assert table.ids == ids


def test_a_quoted_id_holding_a_comma(tmp_path):
    table = fi.read_series(_write(tmp_path / "q.csv", '"cell, 3",0.1,0.2\n"cell, 4",0.3,0.4\n'))
    assert table.ids == ["cell, 3", "cell, 4"]
    np.testing.assert_array_equal(table.d, [[0.1, 0.2], [0.3, 0.4]])


def test_a_decimal_comma_read_with_points_names_both_ways_out(tmp_path):
    path = tmp_path / "comma.csv"
    path.write_text("a;0,5;1,5;2,5\nb;0,25;1,25;2,25\n")
    with pytest.raises(ValueError, match=r'read the file with decimal=","; on the command line, --decimal ","'):
        fi.read_series(path)
