"""A retailer's periodic sales report, read through the retailer's saved profile and
turned into sale facts: the domain of report imports, without Kafka or HTTP.

An Indomaret-style report is a CSV or XLSX export with one row per store, product and day:
a store code, a PLU or barcode, a date, a quantity and an amount. Each retailer lays it out
its own way, so a `Profile` names the columns and the date format, and maps the
retailer's store codes to outlets and its PLUs to SKUs (a row with a barcode is matched
through the catalog's product barcodes).

A report is identified by (retailer, store, period). `read` checks every row and says
what each became, or why not (`Report.rows`), before anything is written: a dry run is
the same call. What a report adds is a list of `Line`s per (day, SKU), each written as one
sale on `pos.sales` with an id that follows from the report and the line, so importing the
same report again writes the same events; `compare` tells an unchanged re-import (nothing
to do) from a changed one (refused, with the differences).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation

from lumbung.contracts.bounds import MAX_UNITS
from lumbung.contracts.events.books import ReportProfileSaved

MAX_ROWS = 20_000
HEADER_SEARCH = 10
"""Rows searched for the header: an export often starts with a title and a blank row."""
LINES_PER_SALE = 200
"""Products per reported sale: each may take two prices, and a sale holds 500 lines."""
SALE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
SALE_HOUR = time(12, 0)
"""A reported day's sales are dated at noon in the outlet's time zone: a report has no
times, and noon is inside every outlet's day."""


Profile = ReportProfileSaved
"""How one retailer's report reads (`books.ReportProfileSaved`, saved on `books.reports`)."""


class ReportError(Exception):
    """The file as a whole cannot be read with this profile: nothing is imported."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    """The last day, included."""

    @classmethod
    def month(cls, text: str) -> Period:
        """`2026-11`: the whole month."""
        try:
            first = datetime.strptime(text, "%Y-%m").date()
        except ValueError:
            raise ReportError(f"period {text!r} is not a month like 2026-11") from None
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return cls(first, date.fromordinal(following.toordinal() - 1))

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    @property
    def name(self) -> str:
        if self.start.day == 1 and Period.month(self.start.strftime("%Y-%m")) == self:
            return self.start.strftime("%Y-%m")
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


@dataclass(frozen=True)
class Line:
    """What a report says of one product on one day at one store."""

    day: date
    sku: str
    qty: int
    amount_idr: int

    def prices(self) -> list[tuple[int, int]]:
        """(units, whole-rupiah price) that add up to the amount exactly: an amount that
        does not divide by the units is split across two prices one rupiah apart."""
        low, extra = divmod(self.amount_idr, self.qty)
        split = [(self.qty - extra, low), (extra, low + 1)]
        return [(units, price) for units, price in split if units > 0]


@dataclass
class RowOutcome:
    row: int
    status: str
    """`ok`, `refused` or `flagged` (applied, with a warning)."""
    message: str = ""
    sku: str | None = None
    day: date | None = None


@dataclass
class Report:
    """What a report file says, checked row by row."""

    retailer: str
    store: str
    outlet_id: str | None
    period: Period
    lines: dict[tuple[date, str], Line] = field(default_factory=dict)
    rows: list[RowOutcome] = field(default_factory=list)

    @property
    def report_id(self) -> str:
        return f"{self.retailer}|{self.store}|{self.period.name}"

    def digest(self) -> str:
        """What the report adds, as a short fingerprint: the same lines, the same digest."""
        text = "\n".join(
            f"{line.day.isoformat()} {line.sku} {line.qty} {line.amount_idr}"
            for line in sorted(self.lines.values(), key=lambda x: (x.day, x.sku))
        )
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def sales(self) -> list[ReportSale]:
        """The sales the report's lines become: one per day (split every `LINES_PER_SALE`
        products), with ids that follow from the report and the day, so importing the same
        report again writes the same events."""
        by_day: dict[date, list[Line]] = {}
        for line in sorted(self.lines.values(), key=lambda x: (x.day, x.sku)):
            by_day.setdefault(line.day, []).append(line)
        out = []
        for day, lines in by_day.items():
            for part, start in enumerate(range(0, len(lines), LINES_PER_SALE)):
                chunk = tuple(lines[start : start + LINES_PER_SALE])
                out.append(ReportSale(self._sale_id(day, part), day, chunk))
        return out

    def _sale_id(self, day: date, part: int) -> str:
        """`RPT-<store>-<yyyymmdd>[-<part>]`, at most 64 characters (a digest of the
        report id and the day for a long store code)."""
        tail = f"-{part + 1}" if part else ""
        readable = f"RPT-{self.store}-{day:%Y%m%d}{tail}"
        if len(readable) <= 64 and SALE_ID.match(readable):
            return readable
        digest = hashlib.sha256(f"{self.report_id}|{day}".encode()).hexdigest()
        return f"RPT-{digest[:40]}{tail}"


@dataclass(frozen=True)
class ReportSale:
    sale_id: str
    day: date
    lines: tuple[Line, ...]


def _cells(data: bytes, filename: str) -> list[list[str]]:
    """Every row of the file as text cells: CSV (comma or semicolon, UTF-8 with or without
    a BOM) or XLSX (its first sheet)."""
    if filename.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        return _xlsx_cells(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReportError(
            f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    sample = "\n".join(text.splitlines()[:HEADER_SEARCH])
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _xlsx_cells(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not XLSX
        raise ReportError(f"the file is not a readable XLSX workbook ({exc})") from None
    sheet = book.worksheets[0]
    out: list[list[str]] = []
    for values in sheet.iter_rows(values_only=True):
        out.append([_text(v) for v in values])
        if len(out) > MAX_ROWS + HEADER_SEARCH:
            break
    book.close()
    return out


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header(cells: list[list[str]], profile: Profile) -> tuple[int, dict[str, int]]:
    """(index of the header row, Lumbung field -> column index)."""
    wanted = {header.lower(): name for name, header in profile.columns.named().items()}
    for index, row in enumerate(cells[:HEADER_SEARCH]):
        seen = {cell.strip().lower(): i for i, cell in enumerate(row) if cell.strip()}
        if all(h in seen for h in wanted):
            return index, {name: seen[h] for h, name in wanted.items()}
    raise ReportError(
        f"no row among the first {HEADER_SEARCH} has the columns of the {profile.retailer} "
        f"profile: {', '.join(profile.columns.named().values())}"
    )


def _amount(text: str) -> int | None:
    """Whole rupiah from `25000`, `25.000`, `Rp 25.000`, `25,000` or `25000.00`."""
    cleaned = text.replace("Rp", "").replace(" ", "").strip()
    if not cleaned:
        return None
    marks = [c for c in cleaned if c in ".,"]
    if len(set(marks)) == 2:  # 25.000,00 or 25,000.00: the last mark is the decimal one
        decimal = marks[-1]
        cleaned = cleaned.replace("," if decimal == "." else ".", "").replace(decimal, ".")
    elif len(marks) == 1 and len(cleaned.rsplit(marks[0], 1)[1]) != 3:
        cleaned = cleaned.replace(marks[0], ".")  # 25000,5 or 25000.50: a decimal mark
    else:
        cleaned = cleaned.replace(".", "").replace(",", "")  # 25.000, 1.250.000
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if value != value.to_integral_value() or value < 0:
        return None
    return int(value)


def _find_date(text: str, fmt: str) -> date | None:
    for candidate in (fmt, "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), candidate).date()
        except ValueError:
            continue
    return None


def read(
    data: bytes,
    filename: str,
    profile: Profile,
    store: str,
    period: Period,
    skus_by_barcode: Mapping[str, str],
    known_skus: Sequence[str] | frozenset[str] | set[str],
) -> Report:
    """Every row checked: a row is refused (with its reason) when its store is another,
    its date is outside the period or unreadable, its product is not found, or its
    quantity or amount is not a whole positive number; rows of the same (day, product)
    add up. Raises ReportError when the file cannot be read at all."""
    cells = _cells(data, filename)
    header_at, column = _header(cells, profile)
    outlet_id = profile.stores.get(store)
    report = Report(profile.retailer, store, outlet_id, period)
    body = cells[header_at + 1 :]
    if len(body) > MAX_ROWS:
        raise ReportError(f"the file has more than {MAX_ROWS} rows; split it")
    if outlet_id is None:
        raise ReportError(
            f"store {store!r} is not in the {profile.retailer} profile's stores: add it "
            "with the outlet it is"
        )
    for offset, row in enumerate(body):
        number = header_at + offset + 2  # the spreadsheet's own row number
        if not any(cell.strip() for cell in row):
            continue

        def cell(name: str, row: list[str] = row) -> str:
            index = column.get(name)
            return row[index].strip() if index is not None and index < len(row) else ""

        outcome = _row(report, number, cell, profile, period, skus_by_barcode, known_skus)
        report.rows.append(outcome)
    return report


def _row(
    report: Report,
    number: int,
    cell: Callable[[str], str],
    profile: Profile,
    period: Period,
    skus_by_barcode: Mapping[str, str],
    known_skus: Sequence[str] | frozenset[str] | set[str],
) -> RowOutcome:
    code = cell("store")
    if code != report.store:
        return RowOutcome(number, "refused", f"store {code!r} is not {report.store!r}")
    day = _find_date(cell("date"), profile.date_format)
    if day is None:
        return RowOutcome(
            number, "refused", f"date {cell('date')!r} does not read as {profile.date_format}"
        )
    if day not in period:
        return RowOutcome(number, "refused", f"{day.isoformat()} is outside {period.name}")
    sku = None
    barcode, plu = cell("barcode"), cell("plu")
    if barcode:
        sku = skus_by_barcode.get(barcode)
    if sku is None and plu:
        sku = profile.plus.get(plu)
    if sku is None or sku not in known_skus:
        what = f"barcode {barcode!r}" if barcode else f"PLU {plu!r}"
        return RowOutcome(number, "refused", f"{what} is no product in the catalog", day=day)
    qty, amount = _amount(cell("qty")), _amount(cell("amount"))
    if qty is None or not 1 <= qty <= MAX_UNITS:
        return RowOutcome(
            number, "refused", f"qty {cell('qty')!r} is not a whole number of units", sku, day
        )
    if amount is None:
        return RowOutcome(
            number, "refused", f"amount {cell('amount')!r} is not whole rupiah", sku, day
        )
    key = (day, sku)
    before = report.lines.get(key)
    if before is not None:
        qty, amount = qty + before.qty, amount + before.amount_idr
    report.lines[key] = Line(day, sku, qty, amount)
    return RowOutcome(number, "ok", "", sku, day)


def flag(
    report: Report,
    live_days: set[date],
    delivered: Mapping[str, int],
) -> None:
    """Refuse the lines on days the outlet has live sales of its own (an outlet is live-
    or report-reported, never both for a day), and flag, without refusing, the products
    reported beyond what was delivered to the store (`delivered`: units it held for each
    SKU before the report)."""
    for outcome in report.rows:
        if outcome.status != "ok" or outcome.day not in live_days:
            continue
        outcome.status = "refused"
        outcome.message = (
            f"{outcome.day.isoformat()}: the outlet has live sales that day; a day is "
            "either live or reported"
        )
    for key in [k for k in report.lines if k[0] in live_days]:
        del report.lines[key]
    reported: dict[str, int] = {}
    for line in report.lines.values():
        reported[line.sku] = reported.get(line.sku, 0) + line.qty
    for outcome in report.rows:
        sku = outcome.sku
        if outcome.status != "ok" or sku is None:
            continue
        held = delivered.get(sku, 0)
        if reported[sku] > held:
            outcome.status = "flagged"
            outcome.message = (
                f"{sku}: {reported[sku]} reported in {report.period.name}, but the store "
                f"held {held}"
            )


@dataclass(frozen=True)
class Difference:
    day: date
    sku: str
    before: tuple[int, int] | None
    """(qty, amount) as imported before; None when the line is new."""
    now: tuple[int, int] | None


def compare(before: Mapping[tuple[date, str], Line], report: Report) -> list[Difference]:
    """How a report differs from the one imported before under its id: no differences
    is an unchanged re-import (nothing to write)."""
    keys = sorted(set(before) | set(report.lines))
    out = []
    for key in keys:
        old, new = before.get(key), report.lines.get(key)
        was = (old.qty, old.amount_idr) if old else None
        now = (new.qty, new.amount_idr) if new else None
        if was != now:
            out.append(Difference(key[0], key[1], was, now))
    return out


def sold_at(day: date, tz: tzinfo) -> datetime:
    """When a reported day's sales are dated: noon in the outlet's time zone."""
    return datetime.combine(day, SALE_HOUR, tz)


def rows_text(report: Report) -> Iterator[str]:
    """The per-row report in lines a person reads: `row 7: refused: …`."""
    for outcome in report.rows:
        if outcome.status != "ok":
            yield f"row {outcome.row}: {outcome.status}: {outcome.message}"
