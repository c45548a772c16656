"""A suggested transfer through the real worker and API (issue 21): sales give the kiosk a
pace, the forecast predicts its stockout long before its supplier could come, the API
suggests a transfer from a rest area that holds more than it will sell, ops accept it
(twice: one transfer), the kiosk counts one unit short, and the suggestion is gone."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.support.fixtures import until
from tests.support.stockouts import OUTLET, SKU, count_opening, sell_toward_a_stockout

pytestmark = pytest.mark.broker
SOURCE = "RA-KM47"


def suggestions(api: Any) -> list[dict[str, Any]]:
    answer = api.get("/v1/transfers/suggestions")
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["suggestions"]
    return found


def test_a_suggested_transfer_accepted_by_ops_arrives_one_unit_short(
    inventory_api: Any,
    demo_catalog: dict[str, str],
    events: Any,
    workers: Any,
    noon: datetime,
    read_model: Any,
    on_topic: Any,
) -> None:
    workers()
    count_opening(events, SOURCE, 500, noon - timedelta(hours=5))
    sell_toward_a_stockout(events, read_model, noon)
    [predicted] = on_topic("inventory.alerts", "inventory.StockoutPredicted", wait_for=1)

    [suggested] = until(lambda: suggestions(inventory_api))
    assert (suggested["from_outlet_id"], suggested["to_outlet_id"], suggested["sku"]) == (
        SOURCE,
        OUTLET,
        SKU,
    )
    assert suggested["prediction_id"] == predicted["data"]["prediction_id"]
    # The kiosk's gap until the supplier could come, at 12 an hour: far more than 52, and
    # no more than the rest area holds (it has sold nothing today: all of it is spare).
    assert 52 < suggested["qty"] <= 500
    assert datetime.fromisoformat(suggested["arrives_at"]) < datetime.fromisoformat(
        suggested["supplier_at"]
    )

    # Ops move 60 instead; the same acceptance sent again is the same transfer.
    url = f"/v1/transfers/suggestions/{suggested['suggestion_id']}/accept"
    first = inventory_api.post(url, json={"qty": 60})
    assert first.status_code == 202, first.text
    assert first.json()["id"] == suggested["transfer_id"]
    again = inventory_api.post(url, json={"qty": 60})
    assert again.status_code == 202, again.text
    assert again.json()["event_id"] == first.json()["event_id"]
    assert read_model.wait_for(lambda: read_model.outlet(SOURCE)[SKU]["on_hand"] == 440)
    # In transit, the 60 come off what the kiosk still needs.
    [left] = until(
        lambda: [s for s in suggestions(inventory_api) if s["qty"] == suggested["qty"] - 60]
    )
    assert left["suggestion_id"] == suggested["suggestion_id"]

    # The kiosk counts 59: one short, booked lost; the prediction is then over.
    arrival = inventory_api.post(
        f"/v1/outlets/{OUTLET}/transfers/{suggested['transfer_id']}/arrival",
        json={"from_outlet_id": SOURCE, "lines": [{"sku": SKU, "qty": 59}]},
    )
    assert arrival.status_code == 202, arrival.text
    assert read_model.wait_for(lambda: read_model.outlet(OUTLET)[SKU]["on_hand"] == 52 + 59)
    ledger = inventory_api.get(f"/v1/outlets/{OUTLET}/stock/{SKU}/ledger").json()
    newest = [(line["reason"], line["delta"]) for line in ledger["ledger"][:2]]
    assert newest == [("adjustment:lost", -1), ("transfer_in", 60)]
    until(lambda: suggestions(inventory_api) == [])
    time.sleep(2)
    assert read_model.outlet(SOURCE)[SKU]["on_hand"] == 440  # moved once
    missing = inventory_api.post(url, json={"qty": 60})
    assert missing.status_code == 404, missing.text
