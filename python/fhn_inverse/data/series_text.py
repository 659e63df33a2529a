"""The cells of a text file of series, for ``read_series``: its lines (blank and comment lines left
out, each kept with its number in the file), the delimiter, the fields of each line (quotes
honoured; a quote left open is an error naming the line), and what a cell is — a number written
with the file's decimal mark, a missing value, a time such as ``t=0.2``, or a name. It knows
nothing of layouts, headers or IDs: series_io applies those rules.
"""

from __future__ import annotations

import csv
import os
import re
import stat
import threading
from contextlib import contextmanager

__all__ = ["TIME_NAMES", "ID_NAMES", "MISSING", "DECIMALS", "check_regular", "read_text", "text_lines", "sniff",
           "split_fields", "number", "time_value", "is_missing", "is_name", "show", "decimal_hint"]

TIME_NAMES = {"t", "time", "times", "time_s", "time_ms", "t_ms", "t_s", "seconds", "ms"}
ID_NAMES = {"id", "ids", "series", "name", "label", "sample", "cell", "trace"}
#: Spreadsheet error values (English, German, French), which stand where a value is missing.
SPREADSHEET_ERRORS = ("#n/a", "#na", "#value!", "#div/0!", "#ref!", "#name?", "#num!", "#null!", "#spill!", "#calc!",
                      "#getting_data", "#field!", "#nv", "#wert!", "#bezug!", "#zahl!", "#valeur!", "#nom?",
                      "#nombre!", "#nul!")
#: Cells (lower-cased) that say a value is missing; a missing value is never a name, so never makes a header.
MISSING = {"", "na", "nan", "n/a", "n.a.", "null", "none", "nil", "missing", "-", "--", "?", ".", *SPREADSHEET_ERRORS}
DECIMALS = (".", ",")
#: Lines the delimiter is sniffed from, at most (the first that splits decides).
SNIFF_LINES = 100

_FIELD_LIMIT_LOCK = threading.Lock()  # one reader at a time changes csv's (process-wide) limit
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # CSV's line breaks only: U+2028, U+0085, form feed… stay in their cell
_TIME_CELL = re.compile(r"([A-Za-z_]+)\s*=\s*(\S+)")
_WHITESPACE_FIELD = re.compile(r'\s*(?:"((?:[^"]|"")*)"(?=\s|$)|([^\s"]\S*))')


def check_regular(path, mode: int) -> None:
    """ValueError naming ``path`` unless ``mode`` (an ``os.stat`` result's) is a regular file's:
    reading a pipe or a device would wait for a writer, or never end."""
    if not stat.S_ISREG(mode):
        raise ValueError(f"{path}: not a regular file (a folder, a pipe or a device); series are read from files")


def read_text(path) -> str:
    """The file's text (UTF-8, a BOM dropped). Opened without waiting (a pipe that appeared since
    the caller's check is refused, not waited on); ValueError for anything but a regular file or
    for bytes that are not UTF-8."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        check_regular(path, os.fstat(f.fileno()).st_mode)
        data = f.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not a text file of series ({err.reason} at byte {err.start})") from None


def _is_comment(line: str) -> bool:
    """A line starting with "#", unless that is a spreadsheet error value in the first cell
    (``#N/A,0.1,…``: a data line with a missing value)."""
    s = line.lstrip()
    if not s.startswith("#"):
        return False
    low = s.lower()
    for token in SPREADSHEET_ERRORS:
        if low.startswith(token):
            rest = low[len(token):].lstrip(" ")
            if not rest or rest[0] in ",;\t\"#+-.0123456789":
                return False
    return True


def text_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every line that is neither blank nor a comment."""
    return [(k + 1, line) for k, line in enumerate(_LINE_BREAK.split(text))
            if line.strip() and not _is_comment(line)]


def _split_whitespace(line: str) -> list[str] | None:
    """Fields between runs of whitespace, ``"quoted fields"`` kept whole; None for a quote left open."""
    if '"' not in line:
        return line.split()
    fields, pos, end = [], 0, len(line.rstrip())
    while pos < end:
        match = _WHITESPACE_FIELD.match(line, pos)
        if match is None:
            return None
        quoted, plain = match.groups()
        fields.append(quoted.replace('""', '"') if quoted is not None else plain)
        pos = match.end()
    return fields


@contextmanager
def _field_limit(size: int):
    """csv's limit on a field (131,072 characters by default) raised to ``size`` for the block
    only: the limit is the csv module's, so other users see it restored, and readers in other
    threads wait rather than restore it under each other."""
    with _FIELD_LIMIT_LOCK:
        old = csv.field_size_limit()
        csv.field_size_limit(max(old, size))
        try:
            yield
        finally:
            csv.field_size_limit(old)


def _count_fields(line: str, delimiter: str | None) -> int:
    if delimiter is None:
        return len(_split_whitespace(line) or [line])
    try:
        return len(next(csv.reader([line], delimiter=delimiter)))
    except csv.Error:
        return 1


def sniff(numbered: list[tuple[int, str]], decimal: str = ".") -> str | None:
    """The delimiter: on the first line that splits into more than one field at all, the first
    of tab, semicolon and comma that splits it (a semicolon before the comma, which may be a
    decimal mark there; never the comma with ``decimal=","``), else whitespace (None). Rows of
    another length are found later, by line."""
    candidates = ("\t", ";") if decimal == "," else ("\t", ";", ",")
    with _field_limit(max(len(line) for _, line in numbered[:SNIFF_LINES]) + 1):
        for _, line in numbered[:SNIFF_LINES]:
            for delimiter in (*candidates, None):
                if _count_fields(line, delimiter) > 1:
                    return delimiter
    return None


def split_fields(path, numbered: list[tuple[int, str]], delimiter: str | None) -> list[list[str]]:
    """The fields of each line, stripped. A quoted field may hold the delimiter but not a line
    break: a quote left open, or text after a closing quote, is a ValueError naming the line."""
    if delimiter is None:
        rows = []
        for k, line in numbered:
            fields = _split_whitespace(line)
            if fields is None:
                raise ValueError(f"{path}, line {k}: a quote left open (or text after a closing quote)")
            rows.append(fields)
        return rows
    rows = []
    with _field_limit(max(len(line) for _, line in numbered) + 1):
        reader = csv.reader([line for _, line in numbered], delimiter=delimiter, strict=True)
        try:
            for record in reader:
                if reader.line_num != len(rows) + 1:  # the record ran on into the next line
                    raise ValueError(f"{path}, line {numbered[len(rows)][0]}: a quote left open (a quoted field "
                                     f"runs past the end of the line)")
                rows.append(list(map(str.strip, record)))
        except csv.Error as err:
            raise ValueError(f"{path}, line {numbered[len(rows)][0]}: {err} (a quote left open, or text after "
                             f"a closing quote)") from None
    return rows


def number(cell: str, decimal: str = ".") -> float | None:
    """The cell's number, written with ``decimal`` as the decimal mark (with ",", a cell holding
    "." is not a number: a thousands separator or another convention); None if it is not one."""
    if decimal == ",":
        if "." in cell:
            return None
        cell = cell.replace(",", ".")
    try:
        return float(cell)
    except ValueError:
        return None


def time_value(cell: str, decimal: str = ".") -> float | None:
    """The time a header cell gives: a number, or a time name, "=" and a number (``t=0.2``,
    ``time = 0.2``); None otherwise (``t3`` is a label, not a time)."""
    value = number(cell, decimal)
    if value is None:
        match = _TIME_CELL.fullmatch(cell)
        if match and match.group(1).lower() in TIME_NAMES:
            value = number(match.group(2), decimal)
    return value


def is_missing(cell: str) -> bool:
    return cell.strip().lower() in MISSING


def _other_decimal(cell: str, decimal: str) -> bool:
    """A number written with the other decimal mark (``0,5`` where "." is the mark)."""
    other = "," if decimal == "." else "."
    return other in cell and number(cell, other) is not None


def is_name(cell: str, decimal: str = ".") -> bool:
    """A name: not a number (in either decimal convention) and not a missing value."""
    return number(cell, decimal) is None and not is_missing(cell) and not _other_decimal(cell, decimal)


def show(cell: str) -> str:
    """A cell for an error message: quoted, cut to 40 characters."""
    return repr(cell if len(cell) <= 40 else cell[:40] + "…")


def decimal_hint(cell: str, decimal: str) -> str:
    """The way out, for a cell that is a number in the other decimal convention ("" otherwise)."""
    if not _other_decimal(cell, decimal):
        return ""
    mark, other = ("comma", ",") if decimal == "." else ("point", ".")
    return f' (a decimal {mark}? read the file with decimal="{other}"; on the command line, --decimal "{other}")'
