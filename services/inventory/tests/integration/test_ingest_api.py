"""The POS ingest and stock API, with the real worker, broker and Redis."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from lumbung.contracts import Registry

pytestmark = pytest.mark.broker
NOW = datetime.now().astimezone().isoformat()


def sale(sale_id: str, sku: str = "AMPLANG-IKAN-250", qty: int = 2) -> dict[str, Any]:
    return {
        "sale_id": sale_id,
        "sold_at": NOW,
        "lines": [{"sku": sku, "qty": qty, "unit_price_idr": 25000}],
    }


def written(kafka_bootstrap: str, registry: Registry, logical: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap)
    topic = registry.name(logical)
    ends = consumer.end_offsets([TopicPartition(topic, p) for p in range(6)])
    consumer.close()
    return sum(ends.values())


def test_a_sale_posted_by_an_outlet_reaches_its_stock(
    inventory_api: Any, demo_catalog: dict[str, str], workers: Any, read_model: Any
) -> None:
    workers()
    ops = dict(inventory_api.headers)
    key = {"X-API-Key": demo_catalog["IKN-01"]}
    assert (
        inventory_api.post(
            "/v1/outlets/IKN-01/counts",
            headers=ops,
            json={
                "count_id": "OPEN-1",
                "kind": "opening",
                "lines": [{"sku": "AMPLANG-IKAN-250", "counted": 40}],
            },
        ).status_code
        == 202
    )
    assert read_model.wait_for(
        lambda: read_model.outlet("IKN-01").get("AMPLANG-IKAN-250", {}).get("on_hand") == 40
    )

    first = inventory_api.post("/v1/outlets/IKN-01/sales", headers=key, json=sale("S-1"))
    again = inventory_api.post(
        "/v1/outlets/IKN-01/sales", headers=key, json={"sales": [sale("S-1"), sale("S-2", qty=3)]}
    )

    assert first.status_code == 202
    assert again.json()["accepted"][0]["event_id"] == first.json()["accepted"][0]["event_id"]
    assert read_model.wait_for(
        lambda: read_model.outlet("IKN-01").get("AMPLANG-IKAN-250", {}).get("on_hand") == 35
    )
    stock = inventory_api.get("/v1/outlets/IKN-01/stock", headers=key).json()["stock"]
    assert stock["AMPLANG-IKAN-250"]["available"] == 35
    ledger = inventory_api.get(
        "/v1/outlets/IKN-01/stock/AMPLANG-IKAN-250/ledger", headers=key
    ).json()["ledger"]
    assert [line["reason"] for line in ledger] == ["sale", "sale", "opening"]


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/v1/outlets/NOWHERE/sales", sale("S-9"), 404, "outlet_id"),
        ("/v1/outlets/IKN-01/sales", sale("S-9", sku="KUE-MISTERI"), 422, "sales.0.lines.0.sku"),
        ("/v1/outlets/IKN-01/sales", sale("S-9", qty=0), 422, "qty"),
        ("/v1/outlets/IKN-01/sales", {"sales": [sale(f"S-{i}") for i in range(501)]}, 422, "sales"),
        (
            "/v1/outlets/IKN-01/sales",
            {**sale("S-9"), "sold_at": "2026-11-28T10:00:00"},
            422,
            "sold_at",
        ),
    ],
)
def test_bad_sales_get_a_clear_4xx_and_nothing_reaches_kafka(
    inventory_api: Any,
    demo_catalog: dict[str, str],
    kafka_bootstrap: str,
    registry: Registry,
    path: str,
    body: dict[str, Any],
    status: int,
    field: str,
) -> None:
    before = written(kafka_bootstrap, registry, "pos.sales")

    answer = inventory_api.post(
        path,
        json=body,
        headers={"X-API-Key": demo_catalog["IKN-01"]}
        if path.startswith("/v1/outlets/IKN-01")
        else None,
    )

    assert answer.status_code == status
    assert field in answer.text
    assert written(kafka_bootstrap, registry, "pos.sales") == before


def test_an_outlet_key_cannot_record_for_another_outlet(
    inventory_api: Any, demo_catalog: dict[str, str], kafka_bootstrap: str, registry: Registry
) -> None:
    before = written(kafka_bootstrap, registry, "pos.sales")

    answer = inventory_api.post(
        "/v1/outlets/RA-KM47/sales", json=sale("S-1"), headers={"X-API-Key": demo_catalog["IKN-01"]}
    )

    assert answer.status_code == 403
    assert "RA-KM47" in answer.text
    assert written(kafka_bootstrap, registry, "pos.sales") == before
    assert (
        inventory_api.post(
            "/v1/outlets/IKN-01/sales", json=sale("S-1"), headers={"X-API-Key": ""}
        ).status_code
        == 401
    )


COUNT_SHEET = (
    "\ufeffsku;counted\n"
    "AMPLANG-IKAN-250;40\n"
    "KUE-MISTERI;3\n"
    "MADU-KELULUT-250;dua belas\n"
    "AMPLANG-IKAN-250;41\n"
    "MADU-KELULUT-250;12\n"
    "AMPLANG-IKAN-250;1000000000000000000000000000000\n"  # issue 15: past the bound
    f"MADU-KELULUT-250;{'9' * 5000}\n"  # int() raises on it: was a 500
).encode()


def test_an_opening_stock_sheet_counts_the_good_rows_and_reports_the_others(
    inventory_api: Any,
    demo_catalog: dict[str, str],
    workers: Any,
    read_model: Any,
    kafka_bootstrap: str,
    registry: Registry,
) -> None:
    workers()
    before = written(kafka_bootstrap, registry, "inventory.commands")
    dry = inventory_api.post(
        "/v1/outlets/BOOTH-STADION/counts/import",
        params={"dry_run": "true"},
        content=COUNT_SHEET,
        headers={"Content-Type": "text/csv"},
    ).json()
    assert written(kafka_bootstrap, registry, "inventory.commands") == before

    report = inventory_api.post(
        "/v1/outlets/BOOTH-STADION/counts/import",
        content=COUNT_SHEET,
        headers={"Content-Type": "text/csv"},
    ).json()

    assert dry["counted"] == report["counted"] == ["AMPLANG-IKAN-250", "MADU-KELULUT-250"]
    assert [p["message"] for p in report["problems"]] == [
        "row 3: sku 'KUE-MISTERI' is not in the catalog",
        "row 4: counted 'dua belas' is not a whole number of units, 0 to 1000000",
        "row 5: sku 'AMPLANG-IKAN-250' is already on row 2",
        "row 7: counted '1000000000000000000000000000000' is not a whole number of units, "
        "0 to 1000000",
        "row 8: counted '99999999999999999999999999999… (5000 characters) is not a whole "
        "number of units, 0 to 1000000",
    ]
    assert read_model.wait_for(
        lambda: (
            {sku: s["on_hand"] for sku, s in read_model.outlet("BOOTH-STADION").items()}
            == {"AMPLANG-IKAN-250": 40, "MADU-KELULUT-250": 12}
        )
    )
