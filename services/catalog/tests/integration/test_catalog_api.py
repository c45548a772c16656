"""The catalog API against the real broker and Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType

from lumbung.catalog import demo
from lumbung.catalog.bootstrap import build_api, issue_key_directly
from lumbung.catalog.settings import Settings
from lumbung.contracts import DEFAULT, Channel, KeyRole, Registry
from lumbung.contracts.bounds import MAX_PRICE_IDR
from lumbung.contracts.events.catalog import GeoPoint
from lumbung.platform.clock import ManualClock

pytestmark = pytest.mark.broker
WITA = demo.WITA

SUPPLIER = {
    "name": "Amplang Bu Sari",
    "owner_name": "Sari Wulandari",
    "contacts": {
        "whatsapp": "+6281234567890",
        "email": "sari@example.id",
        "webhook_url": "https://sari.example.id/hook",
    },
    "language": "id",
    "restock_lead_time_days": 2,
    "delivery_days": ["thu", "mon"],
    "weekly_capacity": 300,
}
PRODUCT = {
    "name": "Amplang Ikan Pipih 250 g",
    "supplier_id": "SUP-SARI",
    "category": "snack",
    "unit": "pack",
    "price_idr": 25000,
    "pirt_no": "2066403010123-25",
    "pack_size": 12,
}
OPENING: dict[str, Any] = {
    "name": "Upacara Pembukaan",
    "venue": "Stadion Tanah Grogot",
    "kind": "ceremony",
    "starts_at": "2026-11-20T19:00:00+08:00",
    "ends_at": "2026-11-20T21:30:00+08:00",
    "expected_visitors": 8000,
}
EVENT = {
    "name": "Porprov Kaltim 2026",
    "starts_at": "2026-11-20T08:00:00+08:00",
    "ends_at": "2026-11-30T22:00:00+08:00",
    "venues": [{"name": "Stadion Tanah Grogot", "location": {"lat": -1.9, "lon": 116.2}}],
    "expected_visitors": 60000,
    "sessions": [OPENING],
}
BOOTH = {
    "name": "Booth Porprov Stadion",
    "channel": "event_booth",
    "address": "Tanah Grogot",
    "active_window": {
        "starts_at": "2026-11-20T08:00:00+08:00",
        "ends_at": "2026-11-30T22:00:00+08:00",
    },
    "calendar_id": "PORPROV-2026",
    "assortment": [{"sku": "AMPLANG-250"}, {"sku": "AMPLANG-250-B", "price_idr": 27000}],
}


@pytest.fixture
def settings(kafka_bootstrap: str, redis_url: str, registry: Registry) -> Settings:
    return Settings(
        kafka_bootstrap_servers=kafka_bootstrap, redis_url=redis_url, topic_prefix=registry.prefix
    )


@pytest.fixture
def ops_key(settings: Settings) -> str:
    return asyncio.run(issue_key_directly(settings, KeyRole.OPS, "*", "tests"))


@pytest.fixture
def client(settings: Settings, ops_key: str) -> Iterator[TestClient]:
    with TestClient(build_api(settings)) as client:
        client.headers["X-API-Key"] = ops_key
        yield client


def messages(kafka_bootstrap: str, topic: str) -> list[Any]:
    consumer = KafkaConsumer(
        bootstrap_servers=kafka_bootstrap, enable_auto_commit=False, consumer_timeout_ms=1500
    )
    consumer.assign([TopicPartition(topic, 0)])
    consumer.seek_to_beginning()
    records = list(consumer)
    consumer.close()
    return records


def written(kafka_bootstrap: str, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap)
    end = consumer.end_offsets([TopicPartition(topic, 0)])[TopicPartition(topic, 0)]
    consumer.close()
    return int(end)


def seed(client: TestClient) -> None:
    assert client.put("/v1/suppliers/SUP-SARI", json=SUPPLIER).status_code == 201
    assert client.put("/v1/products/AMPLANG-250", json=PRODUCT).status_code == 201
    assert client.put("/v1/products/AMPLANG-250-B", json=PRODUCT).status_code == 201
    assert client.put("/v1/events/PORPROV-2026", json=EVENT).status_code == 201
    assert client.put("/v1/outlets/BOOTH-STADION", json=BOOTH).status_code == 201


def test_every_entity_round_trips_and_lands_on_its_compacted_topic(
    client: TestClient, kafka_bootstrap: str, registry: Registry
) -> None:
    seed(client)

    product = client.get("/v1/products/AMPLANG-250")
    assert product.json()["price_idr"] == 25000
    assert product.headers["ETag"] == '"1"'
    assert client.get("/v1/suppliers/SUP-SARI").json()["contacts"]["whatsapp"] == "+6281234567890"
    assert (
        client.get("/v1/events/PORPROV-2026").json()["venues"][0]["name"] == "Stadion Tanah Grogot"
    )
    booths = client.get("/v1/outlets", params={"channel": "event_booth"}).json()
    assert [o["outlet_id"] for o in booths["items"]] == ["BOOTH-STADION"]
    by_supplier = client.get("/v1/products", params={"supplier_id": "SUP-SARI", "limit": 1}).json()
    assert (by_supplier["total"], len(by_supplier["items"])) == (2, 1)

    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    for logical, key in [
        ("catalog.products", b"AMPLANG-250"),
        ("catalog.suppliers", b"SUP-SARI"),
        ("catalog.outlets", b"BOOTH-STADION"),
        ("catalog.calendar", b"PORPROV-2026"),
    ]:
        topic = registry.name(logical)
        assert key in [m.key for m in messages(kafka_bootstrap, topic)]
        config = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        assert config["topic"][topic]["cleanup.policy"]["value"] == "compact"
    admin.close()


def test_pack_size_delivery_days_capacity_and_sessions_round_trip_onto_the_topics(
    client: TestClient, kafka_bootstrap: str, registry: Registry
) -> None:
    seed(client)

    def on_topic(logical: str, key: bytes) -> Any:
        [latest] = [m for m in messages(kafka_bootstrap, registry.name(logical)) if m.key == key]
        return DEFAULT.parse(latest.value).data

    supplier = client.get("/v1/suppliers/SUP-SARI").json()
    event = client.get("/v1/events/PORPROV-2026").json()
    assert client.get("/v1/products/AMPLANG-250").json()["pack_size"] == 12
    assert (supplier["delivery_days"], supplier["weekly_capacity"]) == (["mon", "thu"], 300)
    assert event["expected_visitors"] == 60000
    assert event["sessions"][0]["kind"] == "ceremony"
    assert event["sessions"][0]["starts_at"] == "2026-11-20T19:00:00+08:00"

    assert on_topic("catalog.products", b"AMPLANG-250").in_packs(13) == 24
    consumed = on_topic("catalog.suppliers", b"SUP-SARI")
    assert consumed.weekly_capacity == 300
    assert consumed.delivers_on(datetime(2026, 11, 19).date())  # a Thursday
    assert not consumed.delivers_on(datetime(2026, 11, 20).date())
    calendar = on_topic("catalog.calendar", b"PORPROV-2026")
    assert [s.name for s in calendar.sessions_near(GeoPoint(lat=-1.9, lon=116.2), 1)] == [
        "Upacara Pembukaan"
    ]


def test_an_entity_written_without_the_forecasters_fields_gets_their_defaults(
    client: TestClient,
) -> None:
    plain_supplier = {
        k: v for k, v in SUPPLIER.items() if k not in ("delivery_days", "weekly_capacity")
    }
    assert client.put("/v1/suppliers/SUP-SARI", json=plain_supplier).status_code == 201
    plain_product = {k: v for k, v in PRODUCT.items() if k != "pack_size"}
    assert client.put("/v1/products/AMPLANG-250", json=plain_product).status_code == 201

    supplier = client.get("/v1/suppliers/SUP-SARI").json()

    assert supplier["delivery_days"] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert supplier["weekly_capacity"] is None
    assert client.get("/v1/products/AMPLANG-250").json()["pack_size"] == 1


STORE = {
    "name": "Indomaret Jl. Kusuma Bangsa",
    "channel": "indomaret",
    "address": "Tanah Grogot",
    "commission_percent": 15.0,
}


def test_a_commission_change_reaches_the_outlets_topic_and_a_broken_history_is_refused(
    settings: Settings, ops_key: str, kafka_bootstrap: str, registry: Registry
) -> None:
    clock = ManualClock(datetime(2026, 10, 1, 10, 0, tzinfo=WITA))
    same_day_twice = [
        {"effective_from": "2026-09-01", "percent": 17.5},
        {"effective_from": "2026-09-01", "percent": 12.5},
    ]
    outlets = registry.name("catalog.outlets")
    with TestClient(build_api(settings, clock)) as client:
        client.headers["X-API-Key"] = ops_key
        assert client.put("/v1/outlets/IDM-GROGOT-2", json=STORE).status_code == 201
        clock.advance(timedelta(days=15))
        changed = client.put("/v1/outlets/IDM-GROGOT-2", json={**STORE, "commission_percent": 12.5})
        before = written(kafka_bootstrap, outlets)
        refused = client.put(
            "/v1/outlets/IDM-GROGOT-2",
            json={**STORE, "commission_percent": 12.5, "commission_history": same_day_twice},
        )
        read = client.get("/v1/outlets/IDM-GROGOT-2").json()

    history = [
        {"effective_from": "2026-10-01", "percent": 15.0},
        {"effective_from": "2026-10-16", "percent": 12.5},
    ]
    assert changed.status_code == 200
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "commission_history.1.effective_from", "message": refused.json()["detail"]}
    ]
    assert written(kafka_bootstrap, outlets) == before
    assert read["commission_history"] == history
    [*_, latest] = [m for m in messages(kafka_bootstrap, outlets) if m.key == b"IDM-GROGOT-2"]
    outlet = DEFAULT.parse(latest.value).data
    assert outlet.version == 2
    assert outlet.model_dump(mode="json")["commission_history"] == history
    assert outlet.commission_on(date(2026, 10, 15)) == 15.0
    assert outlet.commission_on(date(2026, 10, 16)) == 12.5


def test_a_stale_if_match_is_refused_and_nothing_reaches_kafka(
    client: TestClient, kafka_bootstrap: str, registry: Registry
) -> None:
    seed(client)
    updated = client.put(
        "/v1/products/AMPLANG-250",
        json={**PRODUCT, "price_idr": 26000},
        headers={"If-Match": '"1"'},
    )
    assert updated.status_code == 200
    before = written(kafka_bootstrap, registry.name("catalog.products"))

    stale = client.put(
        "/v1/products/AMPLANG-250", json={**PRODUCT, "price_idr": 1}, headers={"If-Match": '"1"'}
    )

    assert stale.status_code == 412
    assert client.get("/v1/products/AMPLANG-250").json()["price_idr"] == 26000
    assert written(kafka_bootstrap, registry.name("catalog.products")) == before


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/products/NEW-1", {**PRODUCT, "supplier_id": "SUP-NOBODY"}, "supplier_id"),
        ("/v1/products/NEW-1", {**PRODUCT, "price_idr": -5}, "price_idr"),
        # Issue 15: 10^30 answered 500 ("Integer exceeds 64-bit range" at the encoder).
        ("/v1/products/NEW-1", {**PRODUCT, "price_idr": 10**30}, "price_idr"),
        ("/v1/products/NEW-1", {**PRODUCT, "price_idr": MAX_PRICE_IDR + 1}, "price_idr"),
        (
            "/v1/outlets/BOOTH-2",
            {**BOOTH, "assortment": [{"sku": "AMPLANG-250", "price_idr": 2**64}]},
            "assortment.0.price_idr",
        ),
        (
            "/v1/outlets/BOOTH-2",
            {k: v for k, v in BOOTH.items() if k != "active_window"},
            "active_window",
        ),
        (
            "/v1/outlets/BOOTH-2",
            {
                **BOOTH,
                "active_window": {
                    "starts_at": "2026-11-30T08:00:00+08:00",
                    "ends_at": "2026-11-20T08:00:00+08:00",
                },
            },
            "ends_at",
        ),
        (
            "/v1/suppliers/SUP-2",
            {**SUPPLIER, "contacts": {"whatsapp": "0812-345"}},
            "contacts.whatsapp",
        ),
        (
            "/v1/suppliers/SUP-2",
            {**SUPPLIER, "contacts": {"webhook_url": "ftp//x"}},
            "contacts.webhook_url",
        ),
        ("/v1/products/AMPLANG%20250", PRODUCT, "entity_id"),
        ("/v1/products/NEW-1", {**PRODUCT, "pack_size": 0}, "pack_size"),
        ("/v1/products/NEW-1", {**PRODUCT, "pack_size": 10**30}, "pack_size"),
        ("/v1/suppliers/SUP-2", {**SUPPLIER, "delivery_days": ["mon", "mon"]}, "delivery_days"),
        ("/v1/suppliers/SUP-2", {**SUPPLIER, "delivery_days": ["senin"]}, "delivery_days"),
        ("/v1/suppliers/SUP-2", {**SUPPLIER, "weekly_capacity": 0}, "weekly_capacity"),
        (
            "/v1/events/PORPROV-2",
            {**EVENT, "sessions": [{**OPENING, "venue": "Stadion Segiri"}]},
            "'Upacara Pembukaan' is at 'Stadion Segiri'",
        ),
        (
            "/v1/events/PORPROV-2",
            {
                **EVENT,
                "sessions": [{**OPENING, "ends_at": "2026-12-01T21:30:00+08:00"}],
            },
            "'Upacara Pembukaan' (2026-11-20T19:00:00+08:00 to 2026-12-01T21:30:00+08:00) is "
            "not inside the event",
        ),
        ("/v1/events/PORPROV-2", {**EVENT, "expected_visitors": -1}, "expected_visitors"),
    ],
)
def test_bad_input_gets_a_4xx_naming_the_field_and_nothing_is_written(
    client: TestClient,
    kafka_bootstrap: str,
    registry: Registry,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    seed(client)
    topics = [
        registry.name(t)
        for t in ("catalog.products", "catalog.outlets", "catalog.suppliers", "catalog.calendar")
    ]
    before = [written(kafka_bootstrap, t) for t in topics]

    answer = client.put(path, json=body)

    assert answer.status_code == 422
    assert field in answer.text
    assert [written(kafka_bootstrap, t) for t in topics] == before


def test_an_oversized_body_is_refused(client: TestClient) -> None:
    answer = client.put(
        "/v1/products/BIG",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )

    assert answer.status_code == 413


def test_writes_need_an_ops_key(client: TestClient, settings: Settings) -> None:
    seed(client)
    outlet_key = client.post(
        "/v1/keys", json={"role": "outlet", "subject": "BOOTH-STADION"}
    ).json()["key"]

    assert client.put("/v1/products/X", json=PRODUCT, headers={"X-API-Key": ""}).status_code == 401
    assert (
        client.put(
            "/v1/products/X", json=PRODUCT, headers={"X-API-Key": "lmb_nope_nope"}
        ).status_code
        == 401
    )
    assert (
        client.put("/v1/products/X", json=PRODUCT, headers={"X-API-Key": outlet_key}).status_code
        == 403
    )
    assert (
        client.get("/v1/products/AMPLANG-250", headers={"X-API-Key": outlet_key}).status_code == 200
    )


def test_an_if_match_no_version_could_have_is_refused_naming_it(client: TestClient) -> None:
    seed(client)

    # Issue 15 sweep: int() raised on 5,000 digits (a 500); 2^64 is past any version.
    for version in ("9" * 5000, str(2**64)):
        answer = client.put(
            "/v1/products/AMPLANG-250", json=PRODUCT, headers={"If-Match": f'"{version}"'}
        )
        assert answer.status_code == 422, answer.text
        assert [e["field"] for e in answer.json()["errors"]] == ["If-Match"]


OTHER_SUPPLIER = {
    **SUPPLIER,
    "name": "Keripik Pak Udin",
    "owner_name": "Udin Saputra",
    "contacts": {"whatsapp": "+6281299990000", "email": "udin@example.id"},
}


def test_a_supplier_key_reads_its_own_record_whole_and_only_the_names_of_others(
    client: TestClient,
) -> None:
    # Issue 15 (OWASP API3): any supplier key read every supplier's phone and email.
    seed(client)
    assert client.put("/v1/suppliers/SUP-UDIN", json=OTHER_SUPPLIER).status_code == 201
    sari = client.post("/v1/keys", json={"role": "supplier", "subject": "SUP-SARI"}).json()
    as_sari = {"X-API-Key": sari["key"]}

    own = client.get("/v1/suppliers/SUP-SARI", headers=as_sari).json()
    other = client.get("/v1/suppliers/SUP-UDIN", headers=as_sari).json()
    listed = client.get("/v1/suppliers", headers=as_sari).json()["items"]
    products = client.get("/v1/products", params={"supplier_id": "SUP-SARI"}, headers=as_sari)

    assert own["contacts"]["whatsapp"] == "+6281234567890"
    assert own["owner_name"] == "Sari Wulandari"
    assert other == {"supplier_id": "SUP-UDIN", "name": "Keripik Pak Udin", "retired": False}
    assert {s["supplier_id"]: s for s in listed}["SUP-UDIN"] == other
    assert "+6281299990000" not in client.get("/v1/suppliers", headers=as_sari).text
    assert [p["sku"] for p in products.json()["items"]] == ["AMPLANG-250", "AMPLANG-250-B"]


def test_an_outlet_key_sees_no_suppliers_contact_details(client: TestClient) -> None:
    seed(client)
    booth = client.post("/v1/keys", json={"role": "outlet", "subject": "BOOTH-STADION"}).json()
    as_booth = {"X-API-Key": booth["key"]}

    one = client.get("/v1/suppliers/SUP-SARI", headers=as_booth)
    listed = client.get("/v1/suppliers", headers=as_booth)

    assert one.json() == {"supplier_id": "SUP-SARI", "name": "Amplang Bu Sari", "retired": False}
    for answer in (one, listed):
        assert "+6281234567890" not in answer.text
        assert "sari@example.id" not in answer.text
        assert "Sari Wulandari" not in answer.text
    assert client.get("/v1/suppliers/SUP-SARI").json()["contacts"]["email"] == "sari@example.id"


def test_a_products_cost_is_published_and_read_only_by_ops_and_its_own_supplier(
    client: TestClient, kafka_bootstrap: str, registry: Registry
) -> None:
    seed(client)
    assert client.get("/v1/products/AMPLANG-250").json()["cost_idr"] is None
    assert client.put("/v1/suppliers/SUP-UDIN", json=OTHER_SUPPLIER).status_code == 201
    with_cost = {**PRODUCT, "cost_idr": 16000}
    assert client.put("/v1/products/AMPLANG-250", json=with_cost).status_code == 200
    refused = client.put("/v1/products/AMPLANG-250", json={**PRODUCT, "cost_idr": "murah"})
    keys = {
        (role, subject): client.post("/v1/keys", json={"role": role, "subject": subject}).json()
        for role, subject in [
            ("supplier", "SUP-SARI"),
            ("supplier", "SUP-UDIN"),
            ("outlet", "BOOTH-STADION"),
        ]
    }

    def seen_by(key: str | None) -> dict[str, Any]:
        as_key = {} if key is None else {"X-API-Key": key}
        one = client.get("/v1/products/AMPLANG-250", headers=as_key).json()
        listed = client.get("/v1/products", headers=as_key).json()["items"]
        assert {p["sku"]: p for p in listed}["AMPLANG-250"] == one
        return dict(one)

    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["cost_idr"]
    [*_, latest] = [
        m
        for m in messages(kafka_bootstrap, registry.name("catalog.products"))
        if m.key == b"AMPLANG-250"
    ]
    assert DEFAULT.parse(latest.value).data.cost_idr == 16000
    assert seen_by(None)["cost_idr"] == 16000
    assert seen_by(keys["supplier", "SUP-SARI"]["key"])["cost_idr"] == 16000
    for stranger in (("supplier", "SUP-UDIN"), ("outlet", "BOOTH-STADION")):
        shown = seen_by(keys[stranger]["key"])
        assert "cost_idr" not in shown, stranger
        assert shown["price_idr"] == 25000


def test_a_revoked_key_is_refused_within_seconds(client: TestClient, settings: Settings) -> None:
    issued = client.post("/v1/keys", json={"role": "ops", "label": "temp"}).json()
    assert client.get("/v1/products", headers={"X-API-Key": issued["key"]}).status_code == 200

    assert client.delete(f"/v1/keys/{issued['key_id']}").json()["revoked"] is True

    assert client.get("/v1/products", headers={"X-API-Key": issued["key"]}).status_code == 401
    with TestClient(build_api(settings)) as other_process:
        deadline = time.monotonic() + 10
        status = 0
        while time.monotonic() < deadline:
            status = other_process.get(
                "/v1/products", headers={"X-API-Key": issued["key"]}
            ).status_code
            if status == 401:
                break
            time.sleep(0.2)
        assert status == 401


def test_after_redis_is_flushed_the_read_model_is_rebuilt_identically(
    client: TestClient, redis_url: str
) -> None:
    seed(client)
    client.put("/v1/products/AMPLANG-250", json={**PRODUCT, "price_idr": 26000})
    client.delete("/v1/products/AMPLANG-250-B")
    model = client.app.state.read_model  # type: ignore[attr-defined]
    before = client.portal.call(model.dump)  # type: ignore[union-attr]

    redis.Redis.from_url(redis_url).flushall()

    deadline = time.monotonic() + 30
    after: dict[str, Any] = {}
    while time.monotonic() < deadline:
        after = client.portal.call(model.dump)  # type: ignore[union-attr]
        if after == before:
            break
        time.sleep(0.3)
    assert after == before
    assert client.get("/v1/products/AMPLANG-250").json()["price_idr"] == 26000


CSV = (
    "\ufeffsku;name;supplier_id;category;unit;price_idr\n"
    "KERUPUK-AMPLANG;Kerupuk Amplang;SUP-SARI;snack;pack;Rp 15.000\n"
    "KERUPUK-BAD;Kerupuk;SUP-SARI;snack;pack;lima ribu\n"
    "GULA-AREN;Gula Aren 500 g;SUP-NOBODY;gula;pack;30000\n"
    "KERIPIK-PISANG;Keripik Pisang;SUP-SARI;snack;pack;12000\n"
    # Issue 15: a number past its bound, and one on which int() raises, are row problems.
    "KERUPUK-MAHAL;Kerupuk Mahal;SUP-SARI;snack;pack;Rp 2.000.000.000.000\n"
    f"KERUPUK-RAKSASA;Kerupuk Raksasa;SUP-SARI;snack;pack;{'9' * 5000}\n"
).encode()


def test_a_dry_run_import_reports_and_writes_nothing(
    client: TestClient, kafka_bootstrap: str, registry: Registry
) -> None:
    seed(client)
    before = written(kafka_bootstrap, registry.name("catalog.products"))

    report = client.post(
        "/v1/import/products",
        params={"dry_run": "true"},
        content=CSV,
        headers={"Content-Type": "text/csv"},
    ).json()

    assert report["imported"] == ["KERUPUK-AMPLANG", "KERIPIK-PISANG"]
    assert [p["row"] for p in report["problems"]] == [3, 4, 6, 7]
    assert written(kafka_bootstrap, registry.name("catalog.products")) == before
    assert client.get("/v1/products/KERUPUK-AMPLANG").status_code == 404


def test_an_import_writes_exactly_the_good_rows_and_reports_every_bad_one(
    client: TestClient,
) -> None:
    seed(client)

    report = client.post(
        "/v1/import/products", content=CSV, headers={"Content-Type": "text/csv"}
    ).json()

    assert report["imported"] == ["KERUPUK-AMPLANG", "KERIPIK-PISANG"]
    assert [p["message"] for p in report["problems"]] == [
        "row 3: price_idr 'lima ribu' is not a number",
        "row 4: supplier_id: no active supplier 'SUP-NOBODY'",
        "row 6: price_idr 2000000000000: Input should be less than or equal to 1000000000000",
        "row 7: price_idr '99999999999999999999999999999… (5000 characters) is not a number",
    ]
    assert client.get("/v1/products/KERUPUK-AMPLANG").json()["price_idr"] == 15000
    assert client.get("/v1/products/KERUPUK-BAD").status_code == 404
    assert client.get("/v1/products/GULA-AREN").status_code == 404


def test_an_import_with_a_wrong_header_is_refused_whole(client: TestClient) -> None:
    answer = client.post(
        "/v1/import/products",
        content=b"nama;harga\nAmplang;5000\n",
        headers={"Content-Type": "text/csv"},
    )

    assert answer.status_code == 422
    assert "'sku'" in answer.json()["detail"]


def test_the_demo_catalog_loads_with_every_channel_open_booths_and_histories(
    client: TestClient,
) -> None:
    today = datetime.now(WITA)
    for collection, entity_id, body in demo.catalog(today.date()):
        assert client.put(f"/v1/{collection}/{entity_id}", json=body).status_code == 201

    outlets = client.get("/v1/outlets", params={"limit": 500}).json()["items"]
    open_booths = client.get(
        "/v1/outlets", params={"channel": "event_booth", "active_at": today.isoformat()}
    ).json()

    assert {o["channel"] for o in outlets} == {c.value for c in Channel}
    assert open_booths["total"] == 3
    assert client.get("/v1/suppliers").json()["total"] >= 10
    porprov = client.get("/v1/events/PORPROV-2026").json()
    assert {s["kind"] for s in porprov["sessions"]} == {"match", "ceremony"}
    madu = client.get("/v1/products/MADU-KELULUT-250").json()
    assert (madu["pack_size"], madu["cost_idr"]) == (6, demo.COSTS["MADU-KELULUT-250"])
    store = client.get("/v1/outlets/IDM-KUARO").json()
    assert store["commission_history"] == demo.commission_history(today.date())
