"""A kiosk on its way to a stockout, for the foresight tests: 100 counted at 07:00, 2 sold
every 10 minutes since 08:00, 52 left at noon: out this afternoon, long before its
supplier's two days of lead time (the demo catalog)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import pos

OUTLET, SKU = "IKN-01", "KERIPIK-PISANG-200"


def count_opening(events: Any, outlet: str, units: int, at: datetime, sku: str = SKU) -> None:
    """An opening count of `units` of `sku` at `outlet` (sent, not flushed)."""
    opening = inv.StockCounted(
        count_id=f"OPEN-{outlet}",
        outlet_id=outlet,
        kind=inv.CountKind.OPENING,
        counted_at=at,
        lines=[inv.CountedLine(sku=sku, counted=units)],
    )
    events.send("inventory.commands", outlet, events.envelope(opening))


def sell_toward_a_stockout(events: Any, read_model: Any, noon: datetime) -> None:
    count_opening(events, OUTLET, 100, noon - timedelta(hours=5))
    events.flush()
    assert read_model.wait_for(lambda: SKU in read_model.outlet(OUTLET))
    for n in range(24):
        sale = pos.SaleRecorded(
            sale_id=f"S-{n}",
            outlet_id=OUTLET,
            sold_at=noon - timedelta(hours=4) + timedelta(minutes=10 * n),
            lines=[pos.SaleLine(sku=SKU, qty=2, unit_price_idr=15_000)],
        )
        raw = events.envelope(sale, events.sale_event_id(OUTLET, f"S-{n}"))
        events.send("pos.sales", OUTLET, raw)
    events.flush()
