"""Foresight through the real worker: sales give a pace, the forecast tick predicts the
stockout and suggests a restock sized by the forecast, ops change its quantity and send it,
and the receipt clears the prediction."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import pytest

from lumbung.contracts.events import catalog as cat
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import pos
from lumbung.platform.clock import WITA
from tests.support.stockouts import sell_toward_a_stockout

pytestmark = pytest.mark.broker
OUTLET, SKU = "IKN-01", "KERIPIK-PISANG-200"


def test_a_predicted_stockout_suggests_a_restock_ops_edit_and_the_receipt_clears_it(
    demo_catalog: dict[str, str],
    events: Any,
    workers: Any,
    noon: datetime,
    read_model: Any,
    on_topic: Any,
) -> None:
    workers()
    # 12 an hour since 08:00, 52 left at noon; the supplier needs 2 days (demo catalog):
    # out this afternoon, long before any delivery.
    sell_toward_a_stockout(events, read_model, noon)

    [predicted] = on_topic("inventory.alerts", "inventory.StockoutPredicted", wait_for=1)
    data = predicted["data"]
    assert (data["outlet_id"], data["sku"], data["available"]) == (OUTLET, SKU, 52)
    assert data["units_per_hour"] == pytest.approx(12, rel=0.25)
    eta = datetime.fromisoformat(data["expected_at"])
    assert noon + timedelta(hours=3) < eta < noon + timedelta(hours=6)
    # The forecast's restock waits for ops (10 minutes by default): ops halve it and send it.
    [suggested] = on_topic("restock.events", "restock.RestockSuggested", wait_for=1)
    held = suggested["data"]
    assert held["suggested_qty"] > 52
    assert "expected to sell by" in held["reason"]
    assert on_topic("restock.events", "restock.RestockRequested") == []
    halved = held["suggested_qty"] // 2
    change = inv.RestockQuantitySet(
        outlet_id=OUTLET, sku=SKU, restock_id=held["restock_id"], qty=halved, send_now=True
    )
    events.send("inventory.commands", OUTLET, events.envelope(change))
    events.flush()
    [requested] = on_topic("restock.events", "restock.RestockRequested", wait_for=1)
    asked = requested["data"]
    assert (asked["restock_id"], asked["suggested_qty"]) == (held["restock_id"], halved)
    assert f"set to {halved} by ops" in asked["reason"]

    receipt = inv.RestockReceived(
        receipt_id="G-1", outlet_id=OUTLET, sku=SKU, qty=2000, restock_id=asked["restock_id"]
    )
    events.send("inventory.commands", OUTLET, events.envelope(receipt))
    events.flush()
    [cleared] = on_topic("inventory.alerts", "inventory.StockoutCleared", wait_for=1)
    assert cleared["data"]["prediction_id"] == data["prediction_id"]
    assert cleared["data"]["cleared_by"] == "restock"
    assert len(on_topic("inventory.alerts", "inventory.StockoutPredicted")) == 1


def test_a_booth_gets_an_opening_stock_from_what_the_event_s_booths_sold(
    inventory_api: Any, demo_catalog: dict[str, str], events: Any, workers: Any, read_model: Any
) -> None:
    """The demo's Porprov booths opened yesterday: what BOOTH-GOR sold yesterday (the
    read model's daily tally) gives BOOTH-KUARO its suggestion."""
    workers()
    yesterday = datetime.now(WITA).replace(hour=12) - timedelta(days=1)
    events.clock = yesterday
    sku = "AMPLANG-IKAN-250"
    opening = inv.StockCounted(
        count_id="OPEN-GOR",
        outlet_id="BOOTH-GOR",
        kind=inv.CountKind.OPENING,
        counted_at=yesterday,
        lines=[inv.CountedLine(sku=sku, counted=100)],
    )
    events.send("inventory.commands", "BOOTH-GOR", events.envelope(opening))
    events.flush()
    assert read_model.wait_for(lambda: sku in read_model.outlet("BOOTH-GOR"))
    for n in range(4):  # 20 sold yesterday
        sale = pos.SaleRecorded(
            sale_id=f"G-{n}",
            outlet_id="BOOTH-GOR",
            sold_at=events.clock,
            lines=[pos.SaleLine(sku=sku, qty=5, unit_price_idr=25_000)],
        )
        raw = events.envelope(sale, events.sale_event_id("BOOTH-GOR", sale.sale_id))
        events.send("pos.sales", "BOOTH-GOR", raw)
    events.flush()
    assert read_model.wait_for(lambda: read_model.outlet("BOOTH-GOR")[sku]["on_hand"] == 80)

    answer = inventory_api.get("/v1/outlets/BOOTH-KUARO/opening-stock")
    assert answer.status_code == 200, answer.text
    suggestion = answer.json()
    assert suggestion["basis"] == "history"
    assert suggestion["days"] == 8  # yesterday to six days from now
    [line] = [line for line in suggestion["lines"] if line["sku"] == sku]
    # 20 over two booth-days (BOOTH-STADION sold none): 10 a day, 8 days, 20 % more: 96
    assert line["per_day"] == 10
    assert 96 <= line["qty"] < 96 + 24
    assert inventory_api.get("/v1/outlets/IKN-01/opening-stock").status_code == 422


def test_a_booth_foresees_the_stockout_a_session_rush_near_it_brings(
    demo_catalog: dict[str, str],
    events: Any,
    workers: Any,
    noon: datetime,
    read_model: Any,
    on_topic: Any,
) -> None:
    """Two booths closing at 15:00, 12 an hour since 08:00 and 50 left at noon: at that
    pace 36 more sell before they close. A match near one of them, 13:00 to 14:00, brings
    its crowd before and after: only that booth's stockout is foreseen."""
    revision: dict[str, Any] = {"version": 1, "changed_at": noon - timedelta(days=1)}
    stadium = cat.GeoPoint(lat=-1.95, lon=116.19)
    match = cat.Session(
        name="Sepak bola",
        venue="Stadion Uji",
        kind=cat.SessionKind.MATCH,
        starts_at=noon + timedelta(hours=1),
        ends_at=noon + timedelta(hours=2),
    )
    calendar = cat.CalendarEventChanged(
        calendar_id="PORPROV-UJI",
        name="Porprov uji",
        starts_at=noon - timedelta(days=1),
        ends_at=noon + timedelta(days=1),
        venues=[cat.Venue(name="Stadion Uji", location=stadium)],
        sessions=[match],
        **revision,
    )
    events.send("catalog.calendar", "PORPROV-UJI", events.envelope(calendar))
    window = cat.TimeWindow(starts_at=noon - timedelta(hours=6), ends_at=noon + timedelta(hours=3))
    for outlet_id, where in (
        ("BOOTH-UJI-DEKAT", cat.GeoPoint(lat=-1.951, lon=116.191)),
        ("BOOTH-UJI-JAUH", cat.GeoPoint(lat=-2.3, lon=116.0)),
    ):
        booth = cat.OutletChanged(
            outlet_id=outlet_id,
            name=outlet_id,
            channel=cat.Channel.EVENT_BOOTH,
            address="Paser",
            location=where,
            active_window=window,
            calendar_id="PORPROV-UJI",
            assortment=[cat.AssortmentItem(sku=SKU)],
            **revision,
        )
        events.send("catalog.outlets", outlet_id, events.envelope(booth))
    events.flush()
    workers()
    for outlet_id in ("BOOTH-UJI-DEKAT", "BOOTH-UJI-JAUH"):
        opening = inv.StockCounted(
            count_id=f"OPEN-{outlet_id}",
            outlet_id=outlet_id,
            kind=inv.CountKind.OPENING,
            counted_at=noon - timedelta(hours=5),
            lines=[inv.CountedLine(sku=SKU, counted=98)],
        )
        events.send("inventory.commands", outlet_id, events.envelope(opening))
    events.flush()
    assert read_model.wait_for(lambda: SKU in read_model.outlet("BOOTH-UJI-JAUH"))
    for outlet_id in ("BOOTH-UJI-DEKAT", "BOOTH-UJI-JAUH"):
        for n in range(24):
            sale = pos.SaleRecorded(
                sale_id=f"S-{n}",
                outlet_id=outlet_id,
                sold_at=noon - timedelta(hours=4) + timedelta(minutes=10 * n),
                lines=[pos.SaleLine(sku=SKU, qty=2, unit_price_idr=15_000)],
            )
            raw = events.envelope(sale, events.sale_event_id(outlet_id, sale.sale_id))
            events.send("pos.sales", outlet_id, raw)
    events.flush()
    assert read_model.wait_for(lambda: read_model.outlet("BOOTH-UJI-JAUH")[SKU]["on_hand"] == 50)

    [predicted] = on_topic("inventory.alerts", "inventory.StockoutPredicted", wait_for=1)
    assert predicted["data"]["outlet_id"] == "BOOTH-UJI-DEKAT"
    eta = datetime.fromisoformat(predicted["data"]["expected_at"])
    assert noon < eta < noon + timedelta(hours=3)
    time.sleep(3)  # three more forecasts: the far booth still foresees none
    assert len(on_topic("inventory.alerts", "inventory.StockoutPredicted")) == 1
