"""Returns against their sale and prices against the outlet's, through the real ingest,
worker, broker and Redis (issue 18)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from lumbung.contracts import Registry
from lumbung.contracts.events import pos

from .test_ingest_api import written

pytestmark = pytest.mark.broker
SKU = "AMPLANG-IKAN-250"  # Rp 25.000 in the demo catalog, no outlet price of its own


def back(return_id: str, sale_id: str, qty: int, **extra: Any) -> dict[str, Any]:
    return {
        "return_id": return_id,
        "sale_id": sale_id,
        "lines": [{"sku": SKU, "qty": qty}],
        "returned_at": datetime.now().astimezone().isoformat(),
        **extra,
    }


def test_prices_are_filled_in_and_checked_and_returns_must_fit_their_sale(
    inventory_api: Any,
    demo_catalog: dict[str, str],
    workers: Any,
    read_model: Any,
    events: Any,
    on_topic: Any,
    kafka_bootstrap: str,
    registry: Registry,
) -> None:
    workers()
    outlet = {"X-API-Key": demo_catalog["IKN-01"]}
    opening = {"count_id": "OPEN-1", "kind": "opening", "lines": [{"sku": SKU, "counted": 40}]}
    assert (
        inventory_api.post("/v1/outlets/IKN-01/counts", headers=outlet, json=opening).status_code
        == 202
    )
    now = datetime.now().astimezone().isoformat()

    # A till that sends no price gets the outlet's; one far off the outlet's is flagged.
    unpriced = {"sale_id": "S-1", "sold_at": now, "lines": [{"sku": SKU, "qty": 1}]}
    dear = {
        "sale_id": "S-2",
        "sold_at": now,
        "lines": [{"sku": SKU, "qty": 2, "unit_price_idr": 40_000}],
    }
    answer = inventory_api.post(
        "/v1/outlets/IKN-01/sales", headers=outlet, json={"sales": [unpriced, dear]}
    )
    assert answer.status_code == 202, answer.text
    sales = on_topic("pos.sales", "pos.SaleRecorded", wait_for=2)
    prices = {e["data"]["sale_id"]: e["data"]["lines"][0]["unit_price_idr"] for e in sales}
    assert prices == {"S-1": 25_000, "S-2": 40_000}
    [flag] = on_topic("inventory.alerts", "inventory.PriceFlagged", wait_for=1)
    assert (flag["data"]["sale_id"], flag["data"]["outlet_price_idr"]) == ("S-2", 25_000)

    # 100 back from a 1-unit sale: a 422 naming the line, and nothing on Kafka.
    before = written(kafka_bootstrap, registry, "pos.sales")
    refused = inventory_api.post(
        "/v1/outlets/IKN-01/returns", headers=outlet, json=back("R-1", "S-1", 100)
    )
    assert refused.status_code == 422
    assert "lines.0.qty" in refused.text
    assert "1 left to return" in refused.text
    assert written(kafka_bootstrap, registry, "pos.sales") == before

    # A SKU the catalog never knew, with no price, is named as the SKU it is.
    unknown = {"sale_id": "S-9", "sold_at": now, "lines": [{"sku": "KUE-MISTERI", "qty": 1}]}
    named = inventory_api.post("/v1/outlets/IKN-01/sales", headers=outlet, json=unknown)
    assert named.status_code == 422
    assert "sales.0.lines.0.sku" in named.text

    # A partial return fits, at the price its sale was made at; sent again after a lost
    # answer it is the same event; the rest of the sale can come back, not more.
    taken = inventory_api.post(
        "/v1/outlets/IKN-01/returns", headers=outlet, json=back("R-2", "S-2", 1)
    )
    assert taken.status_code == 202, taken.text
    resent = inventory_api.post(
        "/v1/outlets/IKN-01/returns", headers=outlet, json=back("R-2", "S-2", 1)
    )
    assert resent.status_code == 202, resent.text
    assert resent.json()["event_id"] == taken.json()["event_id"]
    returned = on_topic("pos.sales", "pos.SaleReturned", wait_for=2)  # the same event twice
    assert {r["event_id"] for r in returned} == {taken.json()["event_id"]}
    assert {r["data"]["lines"][0]["unit_price_idr"] for r in returned} == {40_000}
    again = inventory_api.post(
        "/v1/outlets/IKN-01/returns", headers=outlet, json=back("R-3", "S-2", 2)
    )
    assert again.status_code == 422

    # A sale the ingest never saw (a gateway wrote it straight onto pos.sales) and an
    # over-return sent right after it: the ingest cannot tell, the worker refuses it.
    events.send(
        "pos.sales",
        "IKN-01",
        events.envelope(
            pos.SaleRecorded(
                sale_id="G-1",
                outlet_id="IKN-01",
                sold_at=datetime.now().astimezone(),
                lines=[pos.SaleLine(sku=SKU, qty=1, unit_price_idr=25_000)],
            ),
            events.sale_event_id("IKN-01", "G-1"),
        ),
    )
    events.flush()
    slipped = inventory_api.post(
        "/v1/outlets/IKN-01/returns", headers=outlet, json=back("R-4", "G-1", 5)
    )
    assert slipped.status_code == 202
    [refusal] = on_topic("inventory.alerts", "inventory.ReturnRefused", wait_for=1)
    assert (refusal["data"]["return_id"], refusal["data"]["reason"]) == ("R-4", "more_than_sold")

    # On hand: 40 - 1 - 2 + 1 (R-2) - 1 (G-1), in five changes; changed
    # nothing.
    assert read_model.wait_for(
        lambda: (
            (
                read_model.outlet("IKN-01")[SKU]["version"],
                read_model.outlet("IKN-01")[SKU]["on_hand"],
            )
            == (5, 37)
        )
    )
    ledger = inventory_api.get(f"/v1/outlets/IKN-01/stock/{SKU}/ledger", headers=outlet).json()
    assert [line["reason"] for line in ledger["ledger"]].count("sale_return") == 1
