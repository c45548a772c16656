"""Restock requests and stock alerts, from sales through the real worker to the topics that
notifications and the dashboard read."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import pos, restock

pytestmark = pytest.mark.broker
OUTLET = "IKN-01"
SKU, OTHER = "KERIPIK-PISANG-200", "KOPI-LIBERIKA-200"


def sell(events: Any, sku: str, qty: int, n: int) -> None:
    sale = pos.SaleRecorded(
        sale_id=f"S-{sku}-{n}",
        outlet_id=OUTLET,
        sold_at=events.clock,
        lines=[pos.SaleLine(sku=sku, qty=qty, unit_price_idr=15_000)],
    )
    raw = events.envelope(sale, events.sale_event_id(OUTLET, sale.sale_id))
    events.send("pos.sales", OUTLET, raw)


def command(events: Any, payload: Any, topic: str = "inventory.commands") -> None:
    events.send(topic, OUTLET, events.envelope(payload))


def open_outlet(events: Any, read_model: Any, *skus: str) -> None:
    """20 of each of `skus` at OUTLET, reorder point 10, par level 50. Commands and sales
    travel on different topics: the outlet is open (in the read model) before selling."""
    counted = [inv.CountedLine(sku=sku, counted=20) for sku in skus]
    opening = inv.StockCounted(
        count_id="OPEN",
        outlet_id=OUTLET,
        kind=inv.CountKind.OPENING,
        counted_at=events.clock,
        lines=counted,
    )
    command(events, opening)
    for sku in skus:
        levels = inv.StockLevelsSet(outlet_id=OUTLET, sku=sku, reorder_point=10, par_level=50)
        command(events, levels)
    events.flush()
    assert read_model.wait_for(
        lambda: (
            {s: v["version"] for s, v in read_model.outlet(OUTLET).items()}
            == dict.fromkeys(skus, 2)
        )
    )


def test_restock_requests_and_alerts_follow_the_stock(
    demo_catalog: dict[str, str],
    events: Any,
    workers: Any,
    read_model: Any,
    on_topic: Any,
    consumed: Any,
) -> None:
    workers()
    open_outlet(events, read_model, SKU, OTHER)
    sell(events, SKU, 11, 1)  # available 9: at or below the reorder point
    sell(events, SKU, 1, 2)  # still below: no second request
    sell(events, OTHER, 12, 1)  # available 8
    events.flush()

    requests = on_topic("restock.events", "restock.RestockRequested", wait_for=2)
    assert sorted((r["data"]["sku"], r["data"]["suggested_qty"]) for r in requests) == sorted(
        [(SKU, 41), (OTHER, 42)]
    )
    assert all(r["data"]["supplier_id"] for r in requests), "the catalog names the supplier"
    by_sku = {r["data"]["sku"]: r["data"]["restock_id"] for r in requests}

    # The supplier of SKU accepts; the supplier of OTHER declines.
    expected_at = events.clock + timedelta(days=1)
    supplier = {r["data"]["sku"]: r["data"]["supplier_id"] for r in requests}
    command(
        events,
        restock.RestockAccepted(
            restock_id=by_sku[SKU],
            outlet_id=OUTLET,
            sku=SKU,
            supplier_id=supplier[SKU],
            qty=41,
            expected_at=expected_at,
        ),
        "restock.acks",
    )
    command(
        events,
        restock.RestockDeclined(
            restock_id=by_sku[OTHER],
            outlet_id=OUTLET,
            sku=OTHER,
            supplier_id=supplier[OTHER],
            reason="musim hujan",
        ),
        "restock.acks",
    )
    # A declined request is no longer open: the next sale below the point asks again.
    # The acks and the sales travel on different topics: let the decline land first.
    events.flush()
    assert consumed("restock.acks"), "the worker applies the decline"
    sell(events, OTHER, 1, 2)
    # Goods arrive for SKU: the receipt closes its request.
    command(events, inv.RestockReceived(receipt_id="G-1", outlet_id=OUTLET, sku=SKU, qty=41))
    # Sell OTHER out, then below zero: out of stock, then a negative-stock discrepancy.
    sell(events, OTHER, 7, 3)
    sell(events, OTHER, 2, 4)
    events.flush()

    closed = on_topic("restock.events", "restock.RestockClosed", wait_for=1)
    assert [(c["data"]["restock_id"], c["data"]["received_qty"]) for c in closed] == [
        (by_sku[SKU], 41)
    ]
    requests = on_topic("restock.events", "restock.RestockRequested", wait_for=3)
    assert Counter(r["data"]["sku"] for r in requests) == {SKU: 1, OTHER: 2}
    assert len({r["data"]["restock_id"] for r in requests}) == 3

    alerts = on_topic("inventory.alerts", "inventory.StockAlertRaised", wait_for=4)
    kinds = [(a["data"]["sku"], a["data"]["alert"]) for a in alerts]
    assert kinds.count((SKU, "low_stock")) == 1
    assert kinds.count((OTHER, "low_stock")) == 1
    assert kinds.count((OTHER, "out_of_stock")) == 1
    assert kinds.count((OTHER, "negative_stock")) == 1

    assert read_model.wait_for(lambda: read_model.outlet(OUTLET)[SKU]["on_hand"] == 49)
    assert read_model.outlet(OUTLET)[OTHER]["on_hand"] == -2


def test_a_partial_delivery_leaves_the_request_open_overdue_until_the_rest_arrives(
    demo_catalog: dict[str, str],
    events: Any,
    workers: Any,
    read_model: Any,
    on_topic: Any,
    consumed: Any,
    shift_clock: Any,
) -> None:
    workers()
    open_outlet(events, read_model, SKU)
    sell(events, SKU, 11, 1)  # available 9: a request for 41
    events.flush()
    [request] = on_topic("restock.events", "restock.RestockRequested", wait_for=1)
    restock_id = request["data"]["restock_id"]
    command(
        events,
        restock.RestockAccepted(
            restock_id=restock_id,
            outlet_id=OUTLET,
            sku=SKU,
            supplier_id=request["data"]["supplier_id"],
            qty=41,
            expected_at=events.clock + timedelta(days=1),
        ),
        "restock.acks",
    )
    # The acceptance and the receipts travel on different topics: let it land first.
    events.flush()
    assert consumed("restock.acks"), "the worker applies the acceptance"

    def receipt(receipt_id: str, qty: int) -> None:
        payload = inv.RestockReceived(
            receipt_id=receipt_id, outlet_id=OUTLET, sku=SKU, qty=qty, restock_id=restock_id
        )
        command(events, payload)

    receipt("G-1", 25)  # 16 still on order
    sell(events, SKU, 30, 2)  # available 4: the request is still open, no second one
    events.flush()
    assert read_model.wait_for(lambda: read_model.outlet(OUTLET)[SKU]["on_hand"] == 4)
    assert on_topic("restock.events", "restock.RestockClosed") == []
    assert len(on_topic("restock.events", "restock.RestockRequested")) == 1

    # A day later the rest has still not come: ops are told, once.
    shift_clock(timedelta(days=1, minutes=5).total_seconds())
    [late] = on_topic("restock.events", "restock.RestockOverdue", wait_for=1)
    assert (late["data"]["restock_id"], late["data"]["on_order"]) == (restock_id, 16)

    receipt("G-2", 16)
    events.flush()

    [closed] = on_topic("restock.events", "restock.RestockClosed", wait_for=1)
    assert (closed["data"]["restock_id"], closed["data"]["received_qty"]) == (restock_id, 41)
    assert read_model.wait_for(lambda: read_model.outlet(OUTLET)[SKU]["on_hand"] == 20)
