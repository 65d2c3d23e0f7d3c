"""Test-data files: a CSV file with a header row, or JSON lines, read into rows of text.

Both formats become the same :class:`DataRows`: the field names, and one tuple
of text values per row, in field order. Every problem is a :class:`Problem`
naming the file (and the line, where there is one), so a bad file is one line:

    data[0].file: 'users.csv' line 4: 2 values for 3 header fields (id, email, name); ...
"""

from __future__ import annotations

import csv
import enum
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from redline.plan._problem import Problem, short

__all__ = ["DataFormat", "DataRows", "FIELD_NAME", "format_of", "read_rows"]

#: What a field (a CSV header cell, a JSON key) may be called: it becomes part of
#: a variable name, ``${users.email}``.
FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: The header cell that says a CSV file has no header row: its first row is data.
_NO_HEADER_HINT = "the first line must be a header row of field names, such as 'id,email'"


class DataFormat(enum.StrEnum):
    """How a test-data file is written."""

    #: Comma-separated values with a header row (RFC 4180, as Python's ``csv`` reads it).
    CSV = "csv"
    #: One JSON object per line (https://jsonlines.org).
    JSONL = "jsonl"


#: Formats by file extension, for files whose format is not given.
FORMAT_OF_SUFFIX = {
    ".csv": DataFormat.CSV,
    ".jsonl": DataFormat.JSONL,
    ".ndjson": DataFormat.JSONL,
}


@dataclass(frozen=True)
class DataRows:
    """The rows of one test-data file.

    Attributes:
        fields: the field names, in the file's order.
        rows: one tuple of text values per row, in ``fields`` order.
    """

    fields: tuple[str, ...]
    rows: list[tuple[str, ...]]


def format_of(file: str) -> DataFormat | None:
    """The format a file's extension implies, or None for an unknown extension."""
    return FORMAT_OF_SUFFIX.get(Path(file).suffix.lower())


def read_rows(file: str, data_format: DataFormat) -> DataRows:
    """Read every row of ``file``.

    Raises:
        Problem: the file cannot be read, is not UTF-8, has no rows, a CSV file has
            no header row or a row of the wrong length, or a JSON line is not an
            object or lacks a field another line has.
    """
    text = _text_of(file)
    rows = _csv_rows(file, text) if data_format is DataFormat.CSV else _jsonl_rows(file, text)
    if not rows.rows:
        raise Problem(
            f"{short(file)} has no rows; allowed a file with at least one row"
            + (" under its header" if data_format is DataFormat.CSV else "")
        )
    return rows


def _text_of(file: str) -> str:
    try:
        raw = Path(file).read_bytes()
    except FileNotFoundError:
        raise Problem(
            f"{short(file)} does not exist; allowed a readable CSV or JSON-lines file",
            hint="a relative path is read from the plan file's directory",
        ) from None
    except OSError as exc:
        raise Problem(f"{short(file)} cannot be read: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")  # a byte-order mark, as spreadsheets write, is not data
    except UnicodeDecodeError as exc:
        raise Problem(
            f"{short(file)} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None


def _check_fields(file: str, line: int, fields: list[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    for name in fields:
        if not FIELD_NAME.fullmatch(name):
            raise Problem(
                f"{short(file)} line {line}: {short(name)} is not a field name; "
                "allowed letters, digits and _, not starting with a digit",
                hint=_NO_HEADER_HINT,
            )
        if name in seen:
            raise Problem(
                f"{short(file)} line {line}: field {name!r} is given twice; allowed each field once"
            )
        seen.add(name)
    return tuple(fields)


def _csv_rows(file: str, text: str) -> DataRows:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise Problem(
                f"{short(file)} is empty; allowed a header row and at least one row under it"
            )
        fields = _check_fields(file, reader.line_num, header)
        rows: list[tuple[str, ...]] = []
        for row in reader:
            if not row:
                continue  # a blank line
            if len(row) != len(fields):
                values = f"{len(row)} value{'' if len(row) == 1 else 's'}"
                raise Problem(
                    f"{short(file)} line {reader.line_num}: {values} for "
                    f"{len(fields)} header fields ({', '.join(fields)}); "
                    "allowed one value per header field"
                )
            rows.append(tuple(row))
    except csv.Error as exc:
        raise Problem(f"{short(file)} line {reader.line_num}: not CSV: {exc}") from None
    return DataRows(fields, rows)


def _text_value(value: object) -> str:
    """A JSON value as a variable's text: strings as they are, others as JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _jsonl_rows(file: str, text: str) -> DataRows:
    fields: tuple[str, ...] | None = None
    first_line = 0
    rows: list[tuple[str, ...]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise Problem(
                f"{short(file)} line {number}: not JSON ({exc.msg}, column {exc.colno}); "
                "allowed one JSON object per line"
            ) from None
        if not isinstance(value, dict):
            raise Problem(
                f"{short(file)} line {number}: {short(value)} is not a JSON object; "
                "allowed one JSON object per line"
            )
        if fields is None:
            fields, first_line = _check_fields(file, number, list(value)), number
        elif set(value) != set(fields):
            raise Problem(_field_mismatch(file, number, first_line, fields, value))
        rows.append(tuple(_text_value(value[name]) for name in fields))
    return DataRows(fields or (), rows)


def _field_mismatch(
    file: str, number: int, first_line: int, fields: tuple[str, ...], value: dict[str, object]
) -> str:
    missing = [name for name in fields if name not in value]
    if missing:
        return (
            f"{short(file)} line {number}: field {missing[0]!r} is missing, which line "
            f"{first_line} has; allowed the same fields on every line ({', '.join(fields)})"
        )
    extra = next(name for name in value if name not in fields)
    return (
        f"{short(file)} line {number}: field {extra!r} is not on line {first_line}; "
        f"allowed the same fields on every line ({', '.join(fields)})"
    )
