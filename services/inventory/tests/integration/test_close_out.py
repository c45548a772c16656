"""A booth's close-out through the real worker and API (issue 21): the booth sells, its
window closes and Lumbung asks for its closing count, the staff count one short, the
leftovers go home to the souvenir centre as a transfer, and the report tells what the
booth sold, what was left and where it went."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import pytest

from lumbung.contracts.events import pos
from lumbung.platform.clock import WITA
from tests.support.fixtures import until
from tests.support.stockouts import count_opening

pytestmark = pytest.mark.broker
BOOTH, HOME = "BOOTH-STADION", "SOUVENIR-GROGOT"
SNACK, HONEY = "KERIPIK-PISANG-200", "MADU-KELULUT-250"


def test_a_booth_closes_with_its_leftovers_going_home(
    inventory_api: Any,
    demo_catalog: dict[str, str],
    events: Any,
    workers: Any,
    shift_clock: Any,
    read_model: Any,
    on_topic: Any,
) -> None:
    workers()
    today = datetime.now(WITA).date()
    closes = datetime.combine(today + timedelta(days=6), datetime.min.time(), WITA).replace(
        hour=22
    )  # the demo booths' window
    count_opening(events, BOOTH, 20, closes - timedelta(days=7))
    count_opening(events, BOOTH, 4, closes - timedelta(days=7), sku=HONEY)
    for n, (sku, qty) in enumerate([(SNACK, 5), (HONEY, 4)]):
        sale = pos.SaleRecorded(
            sale_id=f"S-{n}",
            outlet_id=BOOTH,
            sold_at=datetime.now(WITA),
            lines=[pos.SaleLine(sku=sku, qty=qty, unit_price_idr=15_000)],
        )
        events.send(
            "pos.sales", BOOTH, events.envelope(sale, events.sale_event_id(BOOTH, f"S-{n}"))
        )
    events.flush()
    assert read_model.wait_for(lambda: read_model.outlet(BOOTH).get(HONEY, {}).get("on_hand") == 0)

    # The window closes: the closing count is asked for, once.
    shift_clock((closes + timedelta(minutes=1) - datetime.now(WITA)).total_seconds())
    [due] = on_topic("inventory.alerts", "inventory.CloseOutDue", wait_for=1)
    assert (due["data"]["outlet_id"], due["data"]["units"]) == (BOOTH, 15)
    asked = until(lambda: inventory_api.get(f"/v1/outlets/{BOOTH}/close-out").json()["asked"])
    assert asked["window_ends_at"] == due["data"]["window_ends_at"]

    # The staff count 14 packs of chips (one short) and leave the honey out (none left).
    closed = inventory_api.post(
        f"/v1/outlets/{BOOTH}/close-out",
        json={
            "close_id": "CLOSE-STADION",
            "lines": [{"sku": SNACK, "counted": 14}],
            "closed_at": (closes + timedelta(minutes=30)).isoformat(),
        },
    )
    assert closed.status_code == 202, closed.text
    [report] = on_topic("inventory.alerts", "inventory.BoothClosedOut", wait_for=1)
    lines = {line["sku"]: line for line in report["data"]["lines"]}
    assert {k: lines[SNACK][k] for k in ("sold", "revenue_idr", "left_over", "difference")} == {
        "sold": 5,
        "revenue_idr": 75_000,
        "left_over": 14,
        "difference": -1,
    }
    assert (lines[SNACK]["leftovers_to"], lines[SNACK]["destination_id"]) == ("home", HOME)
    assert lines[HONEY]["leftovers_to"] == "none"
    # Honey was out from its sale until the window's end: days of minutes, not the 30 after.
    assert lines[HONEY]["stockout_minutes"] >= 5 * 24 * 60

    # The leftovers leave the booth and are in transit home until the home counts them.
    assert read_model.wait_for(lambda: read_model.outlet(BOOTH)[SNACK]["on_hand"] == 0)
    [dispatched] = on_topic("inventory.commands", "inventory.TransferDispatched", wait_for=1)
    assert dispatched["data"]["to_outlet_id"] == HOME
    transfer_id = report["data"]["transfer_id"]
    assert dispatched["data"]["transfer_id"] == transfer_id
    arrival = inventory_api.post(
        f"/v1/outlets/{HOME}/transfers/{transfer_id}/arrival",
        json={"from_outlet_id": BOOTH, "lines": [{"sku": SNACK, "qty": 14}]},
    )
    assert arrival.status_code == 202, arrival.text
    assert read_model.wait_for(lambda: read_model.outlet(HOME).get(SNACK, {}).get("on_hand") == 14)

    shown = until(lambda: inventory_api.get(f"/v1/outlets/{BOOTH}/close-out").json()["report"])
    assert shown["close_id"] == "CLOSE-STADION"
    assert inventory_api.get(f"/v1/outlets/{BOOTH}/close-out").json()["asked"] is None
    time.sleep(12)  # a tick later: not asked again
    assert len(on_topic("inventory.alerts", "inventory.CloseOutDue")) == 1
