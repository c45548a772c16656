"""Consignment statements in plain Python: what sold, what came back, what is owed.

A statement covers one supplier at one outlet for one period (a calendar month in the
outlet's time zone). The worker keeps, per (outlet, month, supplier), a `Ledger` of what
sold per (day, SKU, unit price) and of each return; a statement is computed from it when
it is read, with the outlet's commission in force on each day, so a corrected commission
history shows on every statement not issued yet.

Money rules (written down in the books notes):
- a line is one (SKU, unit price, commission rate); gross = (sold - returned) x price;
- commission = gross x rate / 100, rounded to whole rupiah half up, per line;
- net = gross - commission; the statement's totals are the sums of its lines;
- a return counts in the period it happened, at the price of its line and at the rate of
  the day its sale sold (the return's own day once the sale is no longer remembered);
  what the outlet refunded its customer is shown, never subtracted;
- outlets the forum runs itself (not a consignment channel) take no commission.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from lumbung.contracts.ids import LUMBUNG_NAMESPACE


class StatementState(StrEnum):
    OPEN = "open"
    """Not issued: the figures still move with every sale."""
    ISSUED = "issued"
    PART_PAID = "part_paid"
    PAID = "paid"


class BooksError(Exception):
    """A request the books refuse: `field` names what was wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class UnknownStatement(BooksError):
    pass


class NotAllowed(BooksError):
    """The statement's state or the period does not allow it (a conflict)."""


class Rebuilding(BooksError):
    """The read model is being rebuilt from Kafka: a write now would go by figures that
    are not all there yet (an issue would freeze a short statement)."""


# -- periods and numbers ------------------------------------------------------------------

PERIOD = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
"""A calendar month, `YYYY-MM`."""


def period_of(moment: datetime, zone: tzinfo) -> tuple[str, str]:
    """(month `YYYY-MM`, day `YYYY-MM-DD`) of a moment in the outlet's time zone."""
    day = moment.astimezone(zone).date()
    return day.strftime("%Y-%m"), day.isoformat()


def period_end(period: str, zone: tzinfo) -> datetime:
    """The first moment after `period` in the outlet's time zone."""
    year, month = (int(part) for part in period.split("-"))
    first = date(year + month // 12, month % 12 + 1, 1)
    return datetime.combine(first, time(), zone)


def statement_number(period: str, supplier_id: str, outlet_id: str) -> str:
    return f"ST-{period}-{supplier_id}-{outlet_id}"


def parse_number(
    number: str, suppliers: Iterable[str], outlets: Iterable[str]
) -> tuple[str, str, str]:
    """(period, supplier, outlet) of a statement number, told apart with the ids the
    catalog knows (an id may hold dashes itself)."""
    period, rest = number[3:10], number[11:]
    if not number.startswith("ST-") or number[10:11] != "-" or not PERIOD.match(period):
        raise UnknownStatement("number", f"{number!r} is not a statement number")
    known = set(suppliers)
    found = [
        (rest[: -len(outlet) - 1], outlet)
        for outlet in outlets
        if rest.endswith(f"-{outlet}") and rest[: -len(outlet) - 1] in known
    ]
    if len(found) != 1:
        why = "no supplier and outlet" if not found else "more than one supplier and outlet"
        raise UnknownStatement("number", f"{number!r} names {why} the catalog knows")
    return period, *found[0]


def issued_event_id(number: str) -> uuid.UUID:
    """Issuing a statement again is the same event."""
    return uuid.uuid5(LUMBUNG_NAMESPACE, f"books:{number}:issued")


def payment_event_id(number: str, payment_id: str) -> uuid.UUID:
    return uuid.uuid5(LUMBUNG_NAMESPACE, f"books:{number}:payment:{payment_id}")


# -- the worker's ledger of one (outlet, month, supplier) ---------------------------------


@dataclass
class Ledger:
    """What sold and came back of one supplier's goods at one outlet in one month.

    `sold`: "DAY|SKU|PRICE" -> units; `returns`: return id -> {"day", "sold_on", "lines":
    [[sku, price, units]], "refund"}; `live`: the days with sales from the outlet's own
    tills (not from a retailer's report: a day is one or the other); `sent_back`: send-back
    id -> {"day", "reason", "lines": [[sku, units]]}, goods the outlet sent back to the
    supplier; `version` grows with every change (the read model keeps the newest)."""

    sold: dict[str, int] = field(default_factory=dict)
    returns: dict[str, dict[str, Any]] = field(default_factory=dict)
    version: int = 0
    live: list[str] = field(default_factory=list)
    sent_back: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> Ledger:
        if raw is None:
            return cls()
        # ledgers kept before reports were imported and goods sent back have neither
        live, back = list(raw.get("live", [])), dict(raw.get("back", {}))
        return cls(dict(raw["sold"]), dict(raw["returns"]), int(raw["v"]), live, back)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sold": self.sold,
            "returns": self.returns,
            "v": self.version,
            "live": self.live,
            "back": self.sent_back,
        }

    def sell(self, day: str, sku: str, price: int, qty: int, live: bool = True) -> None:
        key = f"{day}|{sku}|{price}"
        self.sold[key] = self.sold.get(key, 0) + qty
        if live and day not in self.live:
            self.live.append(day)
            self.live.sort()
        self.version += 1

    def take_back(
        self, return_id: str, day: str, lines: list[list[Any]], refund: int, sold_on: str
    ) -> None:
        """A return on `day` of units sold on `sold_on` (the day whose rate applies)."""
        self.returns[return_id] = {"day": day, "sold_on": sold_on, "lines": lines, "refund": refund}
        self.version += 1

    def send_back(self, sendback_id: str, day: str, lines: list[list[Any]], reason: str) -> None:
        """Goods sent back to the supplier on `day` (the same id again changes nothing)."""
        if sendback_id in self.sent_back:
            return
        self.sent_back[sendback_id] = {"day": day, "reason": reason, "lines": lines}
        self.version += 1

    def forget_return(self, return_id: str) -> bool:
        if self.returns.pop(return_id, None) is None:
            return False
        self.version += 1
        return True


# -- statements ---------------------------------------------------------------------------


def commission_of(gross: int, percent: float) -> int:
    """gross x percent / 100 to whole rupiah, half up (away from zero on .5)."""
    exact = Decimal(gross) * Decimal(str(percent)) / Decimal(100)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass
class Line:
    sku: str
    unit_price_idr: int
    commission_percent: float
    sold: int = 0
    returned: int = 0

    @property
    def gross_idr(self) -> int:
        return (self.sold - self.returned) * self.unit_price_idr

    @property
    def commission_idr(self) -> int:
        return commission_of(self.gross_idr, self.commission_percent)

    @property
    def net_idr(self) -> int:
        return self.gross_idr - self.commission_idr

    def to_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "unit_price_idr": self.unit_price_idr,
            "commission_percent": self.commission_percent,
            "sold": self.sold,
            "returned": self.returned,
            "gross_idr": self.gross_idr,
            "commission_idr": self.commission_idr,
            "net_idr": self.net_idr,
        }


RateOn = Callable[[date], float]
"""The commission percent in force at the outlet on a day (0 where the forum sells)."""


def lines_of(ledgers: Iterable[Ledger], rate_on: RateOn) -> tuple[list[Line], int]:
    """The statement's lines, by SKU, price and rate, and the refunds shown beside them."""
    lines: dict[tuple[str, int, float], Line] = {}
    rates: dict[str, float] = {}

    def line(day: str, sku: str, price: int) -> Line:
        rate = rates.get(day)
        if rate is None:
            rate = rates[day] = float(rate_on(date.fromisoformat(day)))
        key = (sku, price, rate)
        if key not in lines:
            lines[key] = Line(sku, price, rate)
        return lines[key]

    refunds = 0
    for ledger in ledgers:
        for key, qty in ledger.sold.items():
            day, sku, price = key.split("|")
            line(day, sku, int(price)).sold += qty
        for back in ledger.returns.values():
            refunds += int(back["refund"])
            for sku, price, qty in back["lines"]:
                line(back.get("sold_on", back["day"]), sku, int(price)).returned += int(qty)
    return [lines[key] for key in sorted(lines)], refunds


def sent_back_of(ledgers: Iterable[Ledger]) -> list[dict[str, Any]]:
    """The goods sent back to the supplier, in units per (SKU, reason)."""
    units: dict[tuple[str, str], int] = {}
    for ledger in ledgers:
        for back in ledger.sent_back.values():
            for sku, qty in back["lines"]:
                key = (sku, back["reason"])
                units[key] = units.get(key, 0) + int(qty)
    return [{"sku": sku, "qty": units[sku, why], "reason": why} for sku, why in sorted(units)]


def figures(
    lines: list[Line], refunds: int, sent_back: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A statement's figures as `books.StatementIssued` carries them."""
    return {
        "lines": [line.to_dict() for line in lines],
        "sold": sum(line.sold for line in lines),
        "returned": sum(line.returned for line in lines),
        "gross_idr": sum(line.gross_idr for line in lines),
        "commission_idr": sum(line.commission_idr for line in lines),
        "net_idr": sum(line.net_idr for line in lines),
        "refunds_idr": refunds,
        "sent_back": sent_back or [],
    }


def state_of(issued: bool, net_idr: int, paid_idr: int) -> StatementState:
    if not issued:
        return StatementState.OPEN
    if paid_idr >= net_idr:
        return StatementState.PAID
    return StatementState.PART_PAID if paid_idr > 0 else StatementState.ISSUED
