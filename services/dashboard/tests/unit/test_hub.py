"""The hub's fan-out of what the board folds, fed raw records as Kafka hands them over
(no broker: the hub is never started)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from lumbung.contracts import make_event
from lumbung.contracts.envelope import encode
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import pos
from lumbung.contracts.registry import DEFAULT
from lumbung.dashboard.hub import Hub

AT = datetime(2026, 11, 29, 1, 30, tzinfo=UTC)


def record(payload: Any) -> bytes:
    return encode(
        make_event(
            payload, event_id=uuid.uuid4(), occurred_at=AT, producer="test", correlation_id="c"
        )
    )


def test_a_refusal_after_its_return_reaches_pages_as_the_reversal_then_the_alert() -> None:
    hub = Hub("127.0.0.1:9", DEFAULT, lambda: AT)
    line = pos.SaleLine(sku="AMPLANG-IKAN-250", qty=2, unit_price_idr=25_000)
    back = pos.SaleReturned(
        return_id="R1",
        sale_id="S1",
        outlet_id="BOOTH-GOR",
        lines=[line],
        returned_at=AT + timedelta(minutes=5),
    )
    refused = inv.ReturnRefused(
        return_id="R1",
        sale_id="S1",
        outlet_id="BOOTH-GOR",
        kind="return",
        reason=inv.ReturnRefusal.SALE_UNKNOWN,
        message="no sale S1 at BOOTH-GOR",
    )
    hub._apply("pos.sales", record(back))
    hub._apply("inventory.alerts", record(refused))

    updates = hub.since(0) or []
    assert [(u.seq, u.kind) for u in updates] == [(1, "sale"), (2, "sale"), (3, "alert")]
    assert [u.data.get("amount_idr") for u in updates] == [-50_000, 50_000, None]
    assert updates[2].data["reason"] == "sale_unknown"
