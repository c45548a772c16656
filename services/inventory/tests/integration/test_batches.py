"""Best-before batches through the real worker and API (issue 21): a delivery with a
batch and its date, a sale that takes the soonest batch first, the warning before the
date, the units past it no longer available, and the write-off."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from lumbung.platform.clock import WITA

pytestmark = pytest.mark.broker
OUTLET, HONEY = "IKN-01", "MADU-KELULUT-250"


def test_a_batch_is_sold_first_warned_of_expired_and_written_off(
    inventory_api: Any,
    demo_catalog: dict[str, str],
    workers: Any,
    shift_clock: Any,
    read_model: Any,
    on_topic: Any,
) -> None:
    workers()
    today = datetime.now(WITA).date()
    count = inventory_api.post(
        f"/v1/outlets/{OUTLET}/counts",
        json={
            "count_id": "OPEN-HONEY",
            "kind": "opening",
            "lines": [
                {
                    "sku": HONEY,
                    "counted": 6,
                    "batch_code": "MK-B",
                    "best_before": str(today + timedelta(days=30)),
                },
                {
                    "sku": HONEY,
                    "counted": 2,
                    "batch_code": "MK-A",
                    "best_before": str(today + timedelta(days=20)),
                },
            ],
        },
    )
    assert count.status_code == 202, count.text
    receipt = inventory_api.post(
        f"/v1/outlets/{OUTLET}/receipts",
        json={
            "receipt_id": "RCV-HONEY-1",
            "sku": HONEY,
            "qty": 5,
            "batch_code": "MK-0",
            "best_before": str(today + timedelta(days=2)),
        },
    )
    assert receipt.status_code == 202, receipt.text
    assert read_model.wait_for(
        lambda: read_model.outlet(OUTLET).get(HONEY, {}).get("on_hand") == 13
    )
    sold = inventory_api.post(
        f"/v1/outlets/{OUTLET}/sales",
        json={
            "sale_id": "S-HONEY-1",
            "sold_at": datetime.now(WITA).isoformat(),
            "lines": [{"sku": HONEY, "qty": 3}],
        },
    )
    assert sold.status_code == 202, sold.text
    assert read_model.wait_for(lambda: read_model.outlet(OUTLET)[HONEY]["on_hand"] == 10)

    # Within three days of MK-0's date: warned of, its 2 left (the sale took 3 of it).
    [soon] = on_topic("inventory.alerts", "inventory.ExpiryAlert", wait_for=1)
    assert (soon["data"]["kind"], soon["data"]["batch_code"], soon["data"]["qty"]) == (
        "soon",
        "MK-0",
        2,
    )

    # Three days later MK-0 is past its date: on hand, not available.
    shift_clock(3 * 24 * 3600)
    alerts = on_topic("inventory.alerts", "inventory.ExpiryAlert", wait_for=2)
    assert [a["data"]["kind"] for a in alerts] == ["soon", "expired"]
    assert read_model.wait_for(lambda: read_model.outlet(OUTLET)[HONEY]["available"] == 8)
    assert read_model.outlet(OUTLET)[HONEY]["on_hand"] == 10

    written_off = inventory_api.post(
        f"/v1/outlets/{OUTLET}/adjustments",
        json={"adjustment_id": "W-HONEY-1", "sku": HONEY, "delta": -2, "reason": "expired"},
    )
    assert written_off.status_code == 202, written_off.text
    assert read_model.wait_for(lambda: read_model.outlet(OUTLET)[HONEY]["on_hand"] == 8)
    assert read_model.outlet(OUTLET)[HONEY]["available"] == 8
