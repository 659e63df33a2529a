"""Reading observed series as labs save them: CSV, TSV, semicolon- or whitespace-separated text,
with or without a header, an ID column or a time row or column, one series per row or per column,
with a decimal point or a decimal comma; and ``.npy`` / ``.npz`` arrays.

``read_series(path)`` returns a :class:`SeriesTable` — the series (N, L), their IDs and, where
the file has times, their times (which give the grid a map checks). Every ambiguity is resolved
by a stated rule, and a file that breaks one (a missing value, a ragged row, a quote left open,
times that do not increase evenly, an ID twice) is a ValueError naming the file and the line.
series_text splits a text file into cells; this module applies the rules:

1. *Lines* end at "\\n", "\\r\\n" or "\\r" (not at U+2028 or a form feed: those stay in their
   cell). Blank lines and lines starting with "#" are left out; a line starting with a
   spreadsheet error (``#N/A,0.1,…``) is data. Line numbers are the file's.
2. *Delimiter*: on the first line that splits at all, the first of tab, ";" and "," that
   splits it (never "," with ``decimal=","``), else whitespace. A quoted field may hold the
   delimiter (``"cell, 3",0.1``), not a line break; a quote left open is an error.
3. *Cells*: a number is written with the decimal mark ``decimal``; a missing value is empty,
   "NA", "NaN", "null", "none", "-", "?" or a spreadsheet error ("#N/A", "#VALUE!", "#DIV/0!",
   "#REF!", "#NAME?", "#NUM!", "#NULL!", and their German and French forms); a name is any
   other cell, except a number written with the other decimal mark ("0,5" read with ".": an
   error that says so).
4. *Header*: the first line is a header when a cell after its first is a name, when its first
   cell is an ID name ("id", "series", "cell", …), or when it is one cell that is a name. Only
   then: a first line of numbers and missing values is data, and its missing value an error.
5. *Layout* (``"auto"``): one series per column when each line is one field, or when the
   first column is a time axis — its header is a time name ("t", "time", …), or, unnamed, its
   numbers increase evenly — and there are more rows than columns. A header whose first cell
   is empty or an ID name and whose second is a time name (pandas' index, then the times) makes
   the second column the time axis and the first a row index, left out. Else one series per row.
6. *Columns*: the time axis (if any) gives the times; the header cells after it name the
   series ("0", "1", … without a header).
7. *Rows*: a first column holding a name (or headed by an ID name) holds the IDs. The times,
   when the file gives them, are the first of: a first row whose ID is a time name; without a
   header, a first row whose ID cell is empty and whose numbers increase evenly (pandas'
   header); without IDs, a first row of numbers that increase evenly when the second row's do
   not; the header's cells after the ID column when every one gives a time — a number, or a
   time name, "=" and a number ("t=0.2", "time = 0.2"; "t3" is a label). Times must increase
   evenly; a header (or pandas' header row) of the column numbers 0, 1, … or 1, 2, … holds
   labels, not times.
8. The table holds N >= 1 series of L >= 1 finite points and N distinct IDs, none missing.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._util.validation import as_float_array
from .series_text import (DECIMALS, ID_NAMES, TIME_NAMES, check_regular, decimal_hint, is_missing, is_name, number,
                          read_text, show, sniff, split_fields, text_lines, time_value)

__all__ = ["SeriesTable", "read_series", "LAYOUTS"]

#: ``read_series``' layouts: "auto" (the rules above), "rows" (one series per row), "columns".
LAYOUTS = ("auto", "rows", "columns")


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

    Examples
    --------
    >>> import tempfile, os
    >>> import fhn_inverse as fi
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "series.csv")
    ...     with open(path, "w") as f:
    ...         _ = f.write("0.1,0.5,0.9\\n0.0,0.4,0.8\\n")     # no header, no IDs, no times
    ...     table = fi.read_series(path)
    >>> table.d.shape, table.ids, table.t
    ((2, 3), ['0', '1'], None)
    """

    d: np.ndarray
    ids: list
    t: np.ndarray | None = None


def _is_grid(values, least: int = 3) -> bool:
    """At least ``least`` values, strictly increasing and evenly spaced (to 1e-6 of the step): a
    time axis. ``least`` is 3 where the axis is recognised by its numbers alone."""
    values = np.asarray(values, dtype=float)
    if values.size < least or not np.all(np.isfinite(values)):
        return False
    if values.size == 1:
        return True
    steps = np.diff(values)
    return bool(np.all(steps > 0) and np.allclose(steps, steps.mean(), rtol=1e-6, atol=0))


def _numbers(path, rows, line_no, first_col: int, decimal: str, stop: int | None = None) -> np.ndarray:
    """The cells of ``rows`` in columns ``first_col:stop``, shape (len(rows), their number); a
    missing value or a cell that is not a finite number is a ValueError naming line and column."""
    width = (len(rows[0]) if stop is None else stop) - first_col
    cells = [cell for row in rows for cell in row[first_col:stop]]
    try:  # all at once (float() at C speed); cell by cell only to name a bad one
        if decimal == "," and any("." in cell for cell in cells):
            raise ValueError
        out = np.fromiter(map(float, [c.replace(",", ".") for c in cells] if decimal == "," else cells), float,
                          len(cells)).reshape(len(rows), width)
        if np.all(np.isfinite(out)):
            return out
    except ValueError:
        pass
    index, value = next((i, v) for i, v in enumerate(number(c, decimal) for c in cells) if v is None
                        or not math.isfinite(v))
    i, j = divmod(index, width)
    cell = cells[index]
    what = "a missing value" if is_missing(cell) or value is not None else show(cell)
    raise ValueError(f"{path}, line {line_no[i]}, column {first_col + j + 1}: {what} where a number belongs"
                     f"{decimal_hint(cell, decimal)}")


def _check_ids(where: str, ids, places, unit: str) -> None:
    """IDs name one series each: none missing, none twice (``places``: their line or column numbers)."""
    seen = {}
    for name, place in zip(ids, places):
        if is_missing(name):
            raise ValueError(f"{where}, {unit} {place}: a missing ID ({show(name)})")
        if name in seen:
            raise ValueError(f"{where}, {unit}s {seen[name]} and {place}: the ID {show(name)} twice (an ID names "
                             f"one series)")
        seen[name] = place


def _is_header(first: list[str], decimal: str) -> bool:
    """Rule 4: a name after the first cell, an ID name first, or a single cell that is a name."""
    return (any(is_name(cell, decimal) for cell in first[1:]) or first[0].lower() in ID_NAMES
            or (len(first) == 1 and is_name(first[0], decimal)))


def _header_times(cells, decimal: str) -> np.ndarray | None:
    """The times header cells give when every one gives one (rule 7), else None."""
    times = [time_value(cell, decimal) for cell in cells]
    return None if not times or None in times else np.array(times)


def _columns(path, header, header_line, rows, line_no, decimal, time_col) -> SeriesTable:
    """Rule 6: one series per column; ``time_col`` is the time axis' column (None: no times)."""
    t, first = None, 0
    if time_col is not None:
        first = time_col + 1
        t = _numbers(path, rows, line_no, time_col, decimal, stop=first)[:, 0]
        if not _is_grid(t, least=1):
            raise ValueError(f"{path}: the time column (column {first}) must increase evenly")
    table = _numbers(path, rows, line_no, first, decimal)
    if header is None:
        names = [str(i) for i in range(table.shape[1])]
    else:
        names = list(header[first:])
        _check_ids(f"{path}, line {header_line}", names, range(first + 1, len(header) + 1), "column")
    return SeriesTable(np.ascontiguousarray(table.T), names, t)


def _column_numbers(values) -> bool:
    """0, 1, …, L-1 or 1, 2, …, L: the column numbers pandas and spreadsheets head columns with."""
    n = len(values)
    return bool(np.array_equal(values, np.arange(n)) or np.array_equal(values, np.arange(1, n + 1)))


def _rows(path, header, header_line, rows, line_no, decimal) -> SeriesTable:
    """Rule 7: one series per row, IDs in the first column when it holds a name."""
    first_cells = [row[0] for row in rows]
    has_ids = (header is not None and header[0].lower() in ID_NAMES) or any(is_name(c, decimal) for c in first_cells)
    col0 = int(has_ids)
    table = _numbers(path, rows, line_no, col0, decimal)
    ids, lines, t = (first_cells if has_ids else None), line_no, None
    if has_ids and (ids[0].lower() in TIME_NAMES or (ids[0] == "" and header is None and _is_grid(table[0], 1))):
        # a time row, or pandas' header: an empty cell, then the times (or the column numbers)
        if not _is_grid(table[0], least=1):
            raise ValueError(f"{path}, line {lines[0]}: the time row must increase evenly")
        t = None if ids[0] == "" and _column_numbers(table[0]) else table[0]
        table, ids, lines = table[1:], ids[1:], lines[1:]
    elif not has_ids and len(table) > 1 and _is_grid(table[0]) and not _is_grid(table[1]):
        t, table, lines = table[0], table[1:], lines[1:]
    elif header is not None:
        t = _header_times(header[col0:], decimal)
        t = None if t is None or _column_numbers(t) else t
        if t is not None and not _is_grid(t, least=1):
            raise ValueError(f"{path}, line {header_line}: the times in the header must increase evenly")
    if len(table) == 0:
        raise ValueError(f"{path}: times and no series")
    if has_ids:
        _check_ids(str(path), ids, lines, "line")
    else:
        ids = [str(i) for i in range(len(table))]
    return SeriesTable(table, ids, t)


def _read_text(path: Path, layout: str, delimiter: str | None, decimal: str) -> SeriesTable:
    numbered = text_lines(read_text(path))
    if not numbered:
        raise ValueError(f"{path}: no series (the file is empty)")
    rows = split_fields(path, numbered, delimiter if delimiter is not None else sniff(numbered, decimal))
    line_no = [k for k, _ in numbered]
    header = header_line = None
    if _is_header(rows[0], decimal):
        header, header_line, rows, line_no = rows[0], line_no[0], rows[1:], line_no[1:]
    if not rows:
        raise ValueError(f"{path}: a header and no series")
    width = len(rows[0]) if header is None else len(header)
    for k, row in zip(line_no, rows):
        if len(row) != width:
            raise ValueError(f"{path}, line {k}: {len(row)} fields, the {'header' if header else 'first line'} has "
                             f"{width} (a ragged row)")

    # rule 5: where the time axis of one series per column would be, and whether there is one
    first_name = header[0].lower() if header is not None else ""
    indexed = (header is not None and width > 2 and (first_name == "" or first_name in ID_NAMES)
               and header[1].lower() in TIME_NAMES)
    time_col = 1 if indexed else 0
    time_name = header[time_col].lower() if header is not None else ""
    first_is_time = time_name in TIME_NAMES
    if not first_is_time and time_name in ("", "x") and width > 1:
        values = [number(row[0], decimal) for row in rows]
        first_is_time = None not in values and _is_grid(values)
    if layout == "auto":
        layout = "columns" if width == 1 or (first_is_time and len(rows) > width) else "rows"
    if layout == "columns":
        return _columns(path, header, header_line, rows, line_no, decimal, time_col if first_is_time else None)
    return _rows(path, header, header_line, rows, line_no, decimal)


def _read_npy(path: Path) -> SeriesTable:
    try:
        array = np.load(path, allow_pickle=False)
    except OSError:
        raise
    except Exception as err:  # noqa: BLE001 - a hostile file: whatever numpy raises is the file's fault
        raise ValueError(f"cannot read series file {path}: {type(err).__name__}: {err}") from None
    try:
        d = as_float_array(array, f"series in {path}", (1, 2, 3))  # (N, K, L): K observed quantities
    except TypeError as err:
        raise ValueError(str(err)) from None
    d = d.reshape(1, -1) if d.ndim == 1 else d
    return SeriesTable(d, [str(i) for i in range(len(d))])


def _checked(path, table: SeriesTable) -> SeriesTable:
    """The reader's contract, whatever the file: N >= 1 series of L >= 1 points, N IDs, L times."""
    n, length = (table.d.shape[0], table.d.shape[-1]) if table.d.ndim in (2, 3) and table.d.size else (0, 0)
    if n < 1 or length < 1:
        raise ValueError(f"{path}: no series ({n} series of {length} points; a file of series holds at least one "
                         f"series of at least one point)")
    if len(table.ids) != n or (table.t is not None and np.shape(table.t) != (length,)):
        raise ValueError(f"{path}: {len(table.ids)} IDs and times of shape {np.shape(table.t)} for {n} series of "
                         f"{length} points")
    return table


def read_series(path, *, layout: str = "auto", delimiter: str | None = None, decimal: str = ".") -> SeriesTable:
    """The series in ``path``.

    ``.npy``: a 1-D (one series) or 2-D array, one series per row, or 3-D (N, K, L) for series of
    K observed quantities. ``.npz``: a data set of ``fhn-inverse simulate`` (its noisy series and
    grid). Text (anything else): read by the
    rules in this module's docstring — in short, the delimiter is sniffed (tab, semicolon, comma
    or whitespace) unless given; the first line is a header only when a cell after its first is a
    name (not a number, not a missing value such as "NA" or "#N/A"), its first cell is an ID name
    such as "id" or "series", or it is one cell that is a name; a first column of names holds IDs;
    times come from a time column, a time row, or a header of times ("0.2", "t=0.2"); one series
    per column when the first column is a time axis and there are more rows than columns, else
    one per row.

    Parameters
    ----------
    path : str or os.PathLike
        The file: a regular file (a pipe, a folder or a device is refused, not waited on).
    layout : {"auto", "rows", "columns"}, default "auto"
        One series per row (``"rows"``) or per column (``"columns"``) of a text file, or
        ``"auto"``: the rule above.
    delimiter : str, optional
        The delimiter of a text file, one character; sniffed if not given.
    decimal : {".", ","}, default "."
        The decimal mark of a text file's numbers: ``","`` reads files European spreadsheets
        write (``0,5;0,7``), whose delimiter then cannot be a comma. A cell with the other mark
        is not a number (with ``","``, "1.234" is refused, not read as a thousand and more).

    Returns
    -------
    SeriesTable
        N >= 1 series of L >= 1 finite points, their N distinct IDs and, where the file gives
        them, their times.

    Raises
    ------
    ValueError
        If ``layout``, ``delimiter`` or ``decimal`` is unknown or they clash; for a path that is
        not a regular file; for a missing value (empty, "NaN", "NA", "#N/A", …), a cell that is
        not a number, a row of another length, a quote left open, times that do not increase
        evenly, an ID missing or given twice, or a file without series, naming the file and
        (where there is one) the line and the column.
    OSError
        If the file cannot be opened (it does not exist, or may not be read).

    Examples
    --------
    >>> import tempfile, os
    >>> import fhn_inverse as fi
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "cells.csv")
    ...     with open(path, "w") as f:     # a header of times, an ID column
    ...         _ = f.write("id,0.0,0.2,0.4\\ncell A,0.1,0.5,0.9\\ncell B,0.0,0.4,0.8\\n")
    ...     table = fi.read_series(path)
    >>> table.ids, table.t.tolist()
    (['cell A', 'cell B'], [0.0, 0.2, 0.4])
    >>> table.d
    array([[0.1, 0.5, 0.9],
           [0. , 0.4, 0.8]])
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if decimal not in DECIMALS:
        raise ValueError(f"decimal must be one of {DECIMALS}, got {decimal!r}")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\"\r\n"):
        raise ValueError(f"delimiter must be one character, not a quote or a line break, got {delimiter!r}")
    if decimal == "," and delimiter == ",":
        raise ValueError('with decimal=",", the delimiter cannot be a comma (use ";", a tab or whitespace)')
    path = Path(path)
    check_regular(path, os.stat(path).st_mode)
    if path.suffix == ".npz":
        from .dataset import Dataset

        data = Dataset.load(path)
        table = SeriesTable(data.d, [str(i) for i in range(len(data.d))], np.asarray(data.t))
    elif path.suffix == ".npy":
        table = _read_npy(path)
    else:
        table = _read_text(path, layout, delimiter, decimal)
    return _checked(path, table)
