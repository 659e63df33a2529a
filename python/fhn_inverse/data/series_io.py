"""Reading observed series as labs save them: CSV, TSV, semicolon- or whitespace-separated text,
with or without a header, an ID column or a time column, one series per row or per column; and
``.npy`` / ``.npz`` arrays.

``read_series(path)`` returns a :class:`SeriesTable` — the series (N, L), their IDs and, where
the file has a time row or column, their times (which give the grid a map checks). Every
ambiguity is resolved by a stated rule, and a file that breaks one (a missing value, a ragged
row, a time column that is not increasing) is an error naming the line.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._util.validation import as_float_array

__all__ = ["SeriesTable", "read_series", "LAYOUTS"]

#: ``read_series``' layouts: "auto" (the rules below), "rows" (one series per row), "columns".
LAYOUTS = ("auto", "rows", "columns")
_TIME_NAMES = {"t", "time", "times", "time_s", "time_ms", "t_ms", "t_s", "seconds", "ms"}
_ID_NAMES = {"id", "ids", "series", "name", "label", "sample", "cell", "trace"}
_MISSING = {"", "na", "nan", "n/a", "null", "none", "-"}


@dataclass
class SeriesTable:
    """Series read from a file.

    Parameters
    ----------
    d : ndarray, shape (N, L)
        The series.
    ids : list of str
        N strings: the file's, or "0", "1", ….
    t : ndarray, shape (L,), optional
        Their times where the file gives them (else None).
    """

    d: np.ndarray
    ids: list
    t: np.ndarray | None = None


def _number(cell: str) -> float | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    return value


def _split(lines: list[str], delimiter: str | None) -> list[list[str]]:
    if delimiter is None:  # whitespace
        return [line.split() for line in lines]
    return [[cell.strip() for cell in row] for row in csv.reader(lines, delimiter=delimiter)]


def _sniff(lines: list[str]) -> str | None:
    """The delimiter: the first of tab, semicolon and comma that splits the first line into more
    than one field (a semicolon before the comma, which may be a decimal mark there); else
    whitespace (None). Rows of another length are found later, by line."""
    for delimiter in ("\t", ";", ","):
        if len(next(csv.reader(lines[:1], delimiter=delimiter))) > 1:
            return delimiter
    return None


def _is_grid(values: np.ndarray) -> bool:
    """Strictly increasing and evenly spaced (to 1e-6 of the step): a time axis."""
    if values.size < 3 or not np.all(np.isfinite(values)):
        return False
    steps = np.diff(values)
    return bool(np.all(steps > 0) and np.allclose(steps, steps.mean(), rtol=1e-6, atol=0))


def read_series(path, *, layout: str = "auto", delimiter: str | None = None) -> SeriesTable:
    """The series in ``path``.

    ``.npy``: a 1-D (one series) or 2-D array, one series per row. ``.npz``: a data set of
    ``fhn-inverse simulate`` (its noisy series and grid). Text (anything else): the delimiter
    is sniffed — tab, semicolon, comma, or whitespace — unless given. Then, by rule:

    - a first line with a cell after the first that is not a number is a header (so is one
      whose first cell is an ID name such as "id" or "series");
    - ``layout="auto"``: one series per column when the first column is a time axis (its header
      is a time name such as "t" or "time", or, without one, its numbers increase evenly) and
      there are more rows than columns; else one series per row;
    - one series per column: the first column is the times when it is a time axis, the header
      cells name the series;
    - one series per row: a first column whose cells are not all numbers (or whose header is an
      ID name such as "id" or "series") holds the IDs; a first row of numbers that increase
      evenly (or whose first cell is a time name) holds the times.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    layout : {"auto", "rows", "columns"}, default "auto"
        One series per row (``"rows"``) or per column (``"columns"``) of a text file, or
        ``"auto"``: the rule above.
    delimiter : str, optional
        The delimiter of a text file; sniffed if not given.

    Returns
    -------
    SeriesTable
        The series, their IDs and, where the file gives them, their times.

    Raises
    ------
    ValueError
        If ``layout`` is unknown; for a missing value (empty, "NaN", "NA"), a cell that is not a
        number, or a row of another length, naming the file, the line and the column.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    path = Path(path)
    if path.suffix == ".npz":
        from .dataset import Dataset

        data = Dataset.load(path)
        return SeriesTable(data.d, [str(i) for i in range(len(data.d))], np.asarray(data.t))
    if path.suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except OSError:
            raise
        except Exception as err:  # noqa: BLE001 - a hostile file: whatever numpy raises is the file's fault
            raise ValueError(f"cannot read series file {path}: {type(err).__name__}: {err}") from None
        try:
            d = as_float_array(array, f"series in {path}", (1, 2))
        except TypeError as err:
            raise ValueError(str(err)) from None
        d = d.reshape(1, -1) if d.ndim == 1 else d
        return SeriesTable(d, [str(i) for i in range(len(d))])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not a text file of series ({err.reason} at byte {err.start})") from None
    numbered = [(k + 1, line) for k, line in enumerate(text.splitlines()) if line.strip()
                and not line.lstrip().startswith("#")]
    if not numbered:
        raise ValueError(f"{path}: no series (the file is empty)")
    line_no = [k for k, _ in numbered]
    rows = _split([line for _, line in numbered],
                  delimiter if delimiter is not None else _sniff([text for _, text in numbered]))
    header = None
    names = [_number(cell) is None and cell.lower() not in _MISSING for cell in rows[0]]
    if any(names[1:]) or (names[0] and rows[0][0].strip().lower() in _ID_NAMES):
        header, rows, line_no = rows[0], rows[1:], line_no[1:]  # (a name then numbers: an ID and its series)
    if not rows:
        raise ValueError(f"{path}: a header and no series")
    width = len(rows[0]) if header is None else len(header)
    for k, row in zip(line_no, rows):
        if len(row) != width:
            raise ValueError(f"{path}, line {k}: {len(row)} fields, the {'header' if header else 'first line'} has "
                             f"{width} (a ragged row)")

    first_cells = [row[0] for row in rows]
    first_numbers = [_number(c) for c in first_cells]
    first_name = header[0].strip().lower() if header else ""
    unnamed = header is None or first_name in ("", "x")
    evenly = all(v is not None for v in first_numbers) and _is_grid(np.array(first_numbers, dtype=float))
    first_is_time = first_name in _TIME_NAMES or (unnamed and evenly)
    if layout == "auto":
        layout = "columns" if first_is_time and len(rows) > width else "rows"

    def numbers(block_rows, block_lines, first_col: int) -> np.ndarray:
        out = np.empty((len(block_rows), len(block_rows[0]) - first_col))
        for i, (k, row) in enumerate(zip(block_lines, block_rows)):
            for j, cell in enumerate(row[first_col:]):
                value = _number(cell)
                if value is None or not math.isfinite(value):
                    what = "a missing value" if cell.lower() in _MISSING or value is not None else f"{cell!r}"
                    raise ValueError(f"{path}, line {k}, column {j + first_col + 1}: {what} where a number belongs")
                out[i, j] = value
        return out

    if layout == "columns":
        if first_is_time:
            t = numbers([[r[0]] for r in rows], line_no, 0)[:, 0]
            if not _is_grid(t):
                raise ValueError(f"{path}: the time column (column 1) must increase evenly")
            table = numbers(rows, line_no, 1)
            names = header[1:] if header else [str(i) for i in range(table.shape[1])]
        else:
            t, table = None, numbers(rows, line_no, 0)
            names = header if header else [str(i) for i in range(table.shape[1])]
        return SeriesTable(np.ascontiguousarray(table.T), [str(n) for n in names], t)

    has_ids = first_name in _ID_NAMES or any(v is None and c.lower() not in _MISSING
                                             for c, v in zip(first_cells, first_numbers))
    col0 = 1 if has_ids else 0
    table = numbers(rows, line_no, col0)
    ids = list(first_cells) if has_ids else [str(i) for i in range(len(table))]
    t = None
    time_row = (ids[0].strip().lower() in _TIME_NAMES) if has_ids else (len(table) > 1 and _is_grid(table[0])
                                                                          and not _is_grid(table[1]))
    if time_row:
        t, table, ids = table[0], table[1:], ids[1:]
        if not _is_grid(t):
            raise ValueError(f"{path}, line {line_no[0]}: the time row must increase evenly")
        if not has_ids:
            ids = [str(i) for i in range(len(table))]
    if len(table) == 0:
        raise ValueError(f"{path}: times and no series")
    return SeriesTable(table, ids, t)
