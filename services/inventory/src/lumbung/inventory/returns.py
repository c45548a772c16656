"""Returns and voids, checked against their sale.

A return names its sale and brings back at most what that sale sold, less what came back
of it already; a void cancels the whole rest of a sale, and only within the void window
counted from the sale's `sold_at` to the void's own `returned_at` (so an offline till can
still void a sale it recorded minutes ago, and send both later).

Both checks need what the sale sold. The worker keeps that beside the sale's remembered
id (a kernel note: `Sold.note`), for as long as it remembers the id; the ingest keeps the
same note in Redis, so it can refuse with a 422 what it can already see. What came back
of a sale is kept beside it (`Returned`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from lumbung.contracts.events import pos
from lumbung.contracts.events.inventory import ReturnRefusal

VOID_WINDOW = timedelta(minutes=30)
"""How long after its `sold_at` a sale may still be voided (the setting's default)."""


@dataclass(frozen=True)
class Sold:
    """What one sale sold: its time and units per SKU."""

    sold_at: int
    """Seconds since the epoch."""
    units: dict[str, int]
    prices: dict[str, int] = field(default_factory=dict)
    """The price each SKU sold at, where the note has it (the ingest's, not the worker's)."""

    @staticmethod
    def note_of(sale: pos.SaleRecorded, priced: bool = False) -> str:
        """What a sale sold as one short string, `"<sold_at> SKU:QTY SKU:QTY"` (a SKU has
        no space or colon): the worker keeps one per sale it remembers, 2,000 per outlet,
        and builds one per sale it applies, so it is small and quick to make. `priced`
        adds each line's price (`SKU:QTY:PRICE`): the ingest's memory, which prices a
        return's lines at what its sale sold them for."""
        if priced:
            lines = " ".join([f"{x.sku}:{x.qty}:{x.unit_price_idr}" for x in sale.lines])
        else:
            lines = " ".join([f"{x.sku}:{x.qty}" for x in sale.lines])
        return f"{int(sale.sold_at.timestamp())} {lines}"

    @classmethod
    def from_note(cls, note: str | None) -> Sold | None:
        if note is None:
            return None
        sold_at, *lines = note.split(" ")
        units: dict[str, int] = {}
        prices: dict[str, int] = {}
        for line in lines:
            sku, qty, *price = line.split(":")
            units[sku] = units.get(sku, 0) + int(qty)
            if price:
                prices.setdefault(sku, int(price[0]))
        return cls(int(sold_at), units, prices)


@dataclass(frozen=True)
class Refusal:
    reason: ReturnRefusal
    message: str
    sku: str | None = None
    """The SKU of the line that asks for too much (`MORE_THAN_SOLD`)."""


class Line(Protocol):
    @property
    def sku(self) -> str: ...

    @property
    def qty(self) -> int: ...


def per_sku(lines: Iterable[Line]) -> dict[str, int]:
    """Units per SKU of sale, return or transfer lines (a SKU may stand on two lines)."""
    units: dict[str, int] = {}
    for line in lines:
        units[line.sku] = units.get(line.sku, 0) + line.qty
    return units


def left(sold: Sold, returned: dict[str, int]) -> dict[str, int]:
    """Units of each SKU the sale still has to return."""
    rest = {sku: qty - returned.get(sku, 0) for sku, qty in sold.units.items()}
    return {sku: qty for sku, qty in rest.items() if qty > 0}


def check(
    sold: Sold | None,
    returned: dict[str, int],
    back: pos.SaleReturned,
    void_window: timedelta = VOID_WINDOW,
) -> Refusal | None:
    """Why `back` cannot be applied, or None when it can."""
    if sold is None:
        return Refusal(
            ReturnRefusal.SALE_UNKNOWN,
            f"no sale {back.sale_id!r} at {back.outlet_id} is known (never recorded, or "
            "older than the sales Lumbung checks returns against); record an adjustment",
        )
    rest = left(sold, returned)
    asked = per_sku(back.lines)
    if back.kind is pos.ReturnKind.VOID:
        late = back.returned_at - datetime.fromtimestamp(sold.sold_at, back.returned_at.tzinfo)
        if late > void_window:
            minutes = int(void_window.total_seconds() // 60)
            return Refusal(
                ReturnRefusal.VOID_TOO_LATE,
                f"sale {back.sale_id!r} was sold {int(late.total_seconds() // 60)} min before "
                f"the void; a void is allowed within {minutes} min: record a return",
            )
        if asked != rest:
            return Refusal(
                ReturnRefusal.VOID_NOT_WHOLE,
                f"a void cancels all that sale {back.sale_id!r} has left "
                f"({_units(rest) or 'nothing'}), not {_units(asked)}: record a return",
            )
        return None
    for sku, qty in asked.items():
        if qty > rest.get(sku, 0):
            return Refusal(
                ReturnRefusal.MORE_THAN_SOLD,
                f"{sku}: {qty} back, but sale {back.sale_id!r} has {rest.get(sku, 0)} "
                "left to return",
                sku,
            )
    return None


def after(returned: dict[str, int], back: pos.SaleReturned) -> dict[str, int]:
    """What came back of the sale once `back` is applied."""
    total = dict(returned)
    for sku, qty in per_sku(back.lines).items():
        total[sku] = total.get(sku, 0) + qty
    return total


def _units(units: dict[str, int]) -> str:
    return ", ".join(f"{qty} {sku}" for sku, qty in units.items())
