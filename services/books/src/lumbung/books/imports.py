"""Importing a retailer's report, as plain functions: what an import writes, or why it
writes nothing (issue 18).

The books API reads the file through the retailer's profile (`reports.read`), refuses the
days with live till sales and flags units beyond what the store held (`reports.flag`),
then asks `decide`:

- a dry run writes nothing and answers the per-row report;
- a report imported before with the same lines is unchanged: nothing is written again;
- a report imported before with other lines is refused, with the differences listed;
- otherwise its sales go through the inventory ingest (one sale per day, ids that follow
  from the report: `reports.Report.sales`), then `books.ReportImported` is written on
  `books.reports`, so a crash between the two is mended by importing the report again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, tzinfo
from enum import StrEnum
from typing import Any

from lumbung.books.domain import Ledger
from lumbung.books.handlers import REPORTED_DEVICE
from lumbung.books.reports import Difference, Line, Report, compare, sold_at
from lumbung.contracts.events import books


class Outcome(StrEnum):
    DRY_RUN = "dry_run"
    IMPORTED = "imported"
    UNCHANGED = "unchanged"
    REFUSED = "refused"
    """A changed re-import: the report was imported before with other lines."""


@dataclass
class Decision:
    outcome: Outcome
    imported: books.ReportImported
    differences: list[Difference] = field(default_factory=list)


def live_days(ledgers: Iterable[Ledger]) -> set[date]:
    """The days an outlet sold through its own tills (any supplier's ledger)."""
    return {date.fromisoformat(day) for ledger in ledgers for day in ledger.live}


def on_hand(stock: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """Units the store holds of each SKU, from the inventory API's outlet stock."""
    return {sku: int(cell.get("on_hand", 0)) for sku, cell in stock.items()}


def lines_of(imported: books.ReportImported) -> dict[tuple[date, str], Line]:
    return {
        (line.day, line.sku): Line(line.day, line.sku, line.qty, line.amount_idr)
        for line in imported.lines
    }


def as_imported(report: Report, filename: str) -> books.ReportImported:
    if report.outlet_id is None:  # reports.read raises before
        raise ValueError("a report without its outlet")
    counts = {status: 0 for status in ("ok", "flagged", "refused")}
    for row in report.rows:
        counts[row.status] += 1
    return books.ReportImported(
        report_id=report.report_id,
        retailer=report.retailer,
        store=report.store,
        outlet_id=report.outlet_id,
        period_start=report.period.start,
        period_end=report.period.end,
        digest=report.digest(),
        filename=filename[:200],
        lines=[
            books.ReportLine(day=x.day, sku=x.sku, qty=x.qty, amount_idr=x.amount_idr)
            for x in sorted(report.lines.values(), key=lambda x: (x.day, x.sku))
        ],
        sale_ids=[sale.sale_id for sale in report.sales()],
        rows_ok=counts["ok"],
        rows_flagged=counts["flagged"],
        rows_refused=counts["refused"],
    )


def decide(
    report: Report, before: books.ReportImported | None, filename: str, dry_run: bool
) -> Decision:
    imported = as_imported(report, filename)
    if before is not None:
        differences = compare(lines_of(before), report)
        if differences:
            return Decision(Outcome.REFUSED, imported, differences)
        return Decision(Outcome.UNCHANGED, before)
    return Decision(Outcome.DRY_RUN if dry_run else Outcome.IMPORTED, imported)


def sales_body(report: Report, zone: tzinfo) -> dict[str, Any]:
    """The report's sales as the inventory ingest takes them (`POST …/sales`), each line
    priced so that its units add up to the reported amount."""
    return {
        "sales": [
            {
                "sale_id": sale.sale_id,
                "sold_at": sold_at(sale.day, zone).isoformat(),
                "device_id": f"{REPORTED_DEVICE}{report.retailer}"[:64],
                "receipt_no": report.report_id[:64],
                "lines": [
                    {"sku": line.sku, "qty": units, "unit_price_idr": price}
                    for line in sale.lines
                    for units, price in line.prices()
                ],
            }
            for sale in report.sales()
        ]
    }


def differences_json(differences: list[Difference]) -> list[dict[str, Any]]:
    def pair(value: tuple[int, int] | None) -> dict[str, int] | None:
        return None if value is None else {"qty": value[0], "amount_idr": value[1]}

    return [
        {"day": d.day.isoformat(), "sku": d.sku, "before": pair(d.before), "now": pair(d.now)}
        for d in differences
    ]
