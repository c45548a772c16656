"""Reading CSV files as a spreadsheet exports them: comma or semicolon separated, UTF-8
with or without a byte-order mark, a header in row 1. Rows keep the spreadsheet's
numbers (the first data row is row 2), so a report can say "row 14: …"."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

MAX_ROWS = 5000


class SheetError(Exception):
    """The file as a whole cannot be read (encoding, header, size); nothing is imported."""


def rows(
    data: bytes, columns: Sequence[str], required: Sequence[str]
) -> Iterator[tuple[int, dict[str, str | None]]]:
    """(row number, cells by lower-case column) for every non-empty row."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SheetError(f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    expected = f"expected columns: {', '.join(columns)}"
    missing = [c for c in required if c not in header]
    if missing:
        raise SheetError(f"the header (row 1) has no {missing[0]!r} column; {expected}")
    unknown = [h for h in header if h and h not in columns]
    if unknown:
        raise SheetError(f"the header (row 1) has unknown columns {unknown}; {expected}")
    reader.fieldnames = header
    for index, raw in enumerate(reader):
        if index >= MAX_ROWS:
            raise SheetError(f"the file has more than {MAX_ROWS} rows; split it")
        cells = {
            k: (None if v is None or v.strip() == "" else v.strip()) for k, v in raw.items() if k
        }
        if any(cells.values()):
            yield index + 2, cells


def cell(value: object, most: int = 40) -> str:
    """A cell as a problem report quotes it: its repr, cut short when long (a 5,000-digit
    number in a report helps nobody)."""
    text = repr(value)
    return text if len(text) <= most else f"{text[: most - 10]}… ({len(str(value))} characters)"
