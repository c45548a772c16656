"""Restock requests and ops alerts through the real broker and worker processes to a real
local HTTP receiver (webhooks, WhatsApp gateway) and SMTP server; answers back through
the supplier API and the links in the messages."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest

from lumbung.contracts.bounds import MAX_UNITS
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import pos
from lumbung.notifications.messages import around
from lumbung.notifications.signing import DELIVERY_HEADER, SIGNATURE_HEADER, verify
from tests.support.receivers import wait_until

from .conftest import LATER, OPS_EMAIL, secret_of, supplier_key

pytestmark = pytest.mark.broker
OUTLET = "IKN-01"
KERIPIK, KOPI = "KERIPIK-PISANG-200", "KOPI-LIBERIKA-200"


def delivered(on_topic: Any, n: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = on_topic(
        "notifications.deliveries", "notifications.NotificationDelivered", wait_for=n
    )
    return found


def test_a_stock_drop_reaches_the_supplier_once_on_every_channel_in_their_language(
    events: Any,
    workers: Any,
    notify_env: dict[str, str],
    suppliers: Any,
    receiver: Any,
    smtp: Any,
    read_model: Any,
    on_topic: Any,
) -> None:
    keripik = suppliers.point("SUP-KERIPIK")  # writes Bahasa Indonesia
    kopi = suppliers.point("SUP-KOPI")  # writes English
    workers("inventory")
    workers("notifications")
    opening = inv.StockCounted(
        count_id="OPEN",
        outlet_id=OUTLET,
        kind=inv.CountKind.OPENING,
        counted_at=events.clock,
        lines=[inv.CountedLine(sku=KERIPIK, counted=20), inv.CountedLine(sku=KOPI, counted=20)],
    )
    events.send("inventory.commands", OUTLET, events.envelope(opening))
    for sku in (KERIPIK, KOPI):
        levels = inv.StockLevelsSet(outlet_id=OUTLET, sku=sku, reorder_point=10, par_level=40)
        events.send("inventory.commands", OUTLET, events.envelope(levels))
    events.flush()
    assert read_model.wait_for(
        lambda: (
            {s: v["version"] for s, v in read_model.outlet(OUTLET).items()} == {KERIPIK: 2, KOPI: 2}
        )
    )
    for n, sku in enumerate((KERIPIK, KOPI)):
        sale = pos.SaleRecorded(
            sale_id=f"S-{n}",
            outlet_id=OUTLET,
            sold_at=events.clock,
            lines=[pos.SaleLine(sku=sku, qty=12, unit_price_idr=15_000)],
        )
        events.send(
            "pos.sales", OUTLET, events.envelope(sale, events.sale_event_id(OUTLET, f"S-{n}"))
        )
    events.flush()

    assert len(delivered(on_topic, 6)) == 6, "webhook, email and WhatsApp for each supplier"
    assert wait_until(lambda: len(receiver.to(keripik)) == 1 and len(receiver.to(kopi)) == 1)

    # The webhook: signed with the supplier's secret, in the supplier's language.
    hook = receiver.to(keripik)[0]
    assert verify(
        secret_of("SUP-KERIPIK"),
        hook.headers[SIGNATURE_HEADER],
        hook.body,
        datetime.now().astimezone(),
    )
    assert not verify(
        "another-secret", hook.headers[SIGNATURE_HEADER], hook.body, datetime.now().astimezone()
    )
    body = orjson.loads(hook.body)
    assert body["subject"].startswith("Perlu restok: Keripik Pisang Manis 200 g")
    assert [r["qty"] for r in body["data"]["requests"]] == [32]  # up to par: 40 - 8
    assert orjson.loads(receiver.to(kopi)[0].body)["subject"].startswith("Restock needed:")

    # WhatsApp through the gateway, and email, once each, carrying the delivery id.
    gateway = receiver.to("/wa")
    assert sorted(orjson.loads(r.body)["to"] for r in gateway) == [
        "+6281250011005",
        "+6281250011006",
    ]
    texts = {orjson.loads(r.body)["to"]: orjson.loads(r.body)["text"] for r in gateway}
    assert "membutuhkan 32 pack Keripik Pisang Manis 200 g" in texts["+6281250011006"]
    assert "needs 32 pack of Kopi Liberika Bubuk 200 g" in texts["+6281250011005"]
    mails = smtp.mailbox.to("keripik@umkm-paser.id")
    assert len(mails) == 1
    assert mails[0]["Subject"].startswith("Perlu restok")
    ids = {hook.headers[DELIVERY_HEADER], mails[0]["Message-ID"].strip("<>").split("@")[0]}
    ids |= {orjson.loads(r.body)["reference"] for r in gateway if "011006" in r.body.decode()}
    assert len(ids) == 3, "one delivery id per channel"
    assert {d["data"]["delivery_id"] for d in delivered(on_topic, 6)} >= ids


def test_the_same_alert_delivered_twice_by_kafka_is_one_message(
    events: Any,
    workers: Any,
    notify_env: dict[str, str],
    suppliers: Any,
    receiver: Any,
    smtp: Any,
    on_topic: Any,
) -> None:
    path = suppliers.point("SUP-SARI")
    _, raw = suppliers.request(OUTLET, "AMPLANG-IKAN-250", "SUP-SARI")
    events.send("restock.events", OUTLET, raw)  # the very same event, at the next offset
    alert = inv.StockAlertRaised(
        alert=inv.AlertKind.NEGATIVE_STOCK,
        outlet_id="RA-KM47",
        sku="MADU-KELULUT-250",
        on_hand=-2,
        available=-2,
    )
    raw_alert = events.envelope(alert)
    events.send("inventory.alerts", "RA-KM47", raw_alert)
    events.send("inventory.alerts", "RA-KM47", raw_alert)
    events.flush()
    workers("notifications")

    assert len(delivered(on_topic, 5)) >= 5  # supplier: 3 channels; ops: webhook and email
    assert wait_until(
        lambda: len(receiver.to("/ops")) >= 1 and len(smtp.mailbox.to(OPS_EMAIL)) >= 1
    )
    # Give a second copy every chance to arrive.
    events.send("restock.events", OUTLET, raw)
    events.flush()
    wait_until(lambda: False, seconds=6)
    assert len(receiver.to(path)) == 1
    assert len(receiver.to("/ops")) == 1
    assert len(smtp.mailbox.to(OPS_EMAIL)) == 1
    assert (
        "Selisih stok: Madu Kelulut 250 ml" in orjson.loads(receiver.to("/ops")[0].body)["subject"]
    )
    assert len(delivered(on_topic, 0)) == 5


def test_twenty_requests_within_the_window_become_one_digest(
    events: Any,
    workers: Any,
    notify_env: dict[str, str],
    suppliers: Any,
    receiver: Any,
    smtp: Any,
    on_topic: Any,
) -> None:
    path = suppliers.point("SUP-SARI")
    outlets = ["IKN-01", "RA-KM47", "BOOTH-STADION", "IDM-TANAH-GROGOT", "IKN-02"]
    skus = ["AMPLANG-IKAN-250", "AMPLANG-UDANG-250", "AMPLANG-MINI-100", "AMPLANG-IKAN-250"]
    workers("notifications")
    restock_ids = [
        suppliers.request(outlets[n % 5], skus[n // 5], "SUP-SARI", qty=10 + n)[0]
        for n in range(20)
    ]
    events.flush()

    assert len(delivered(on_topic, 3)) == 3
    hooks = receiver.to(path)
    assert len(hooks) == 1
    body = orjson.loads(hooks[0].body)
    assert body["data"]["kind"] == "digest"
    assert sorted(r["restock_id"] for r in body["data"]["requests"]) == sorted(restock_ids)
    assert body["subject"] == "20 permintaan restok"
    assert body["text"].count("terima: http://testserver/v1/links/") == 20
    assert len(smtp.mailbox.to("sari@umkm-paser.id")) == 1
    wait_until(lambda: False, seconds=4)
    assert len(receiver.to(path)) == 1


def test_a_supplier_answers_through_the_api_and_inventory_shows_it(
    events: Any,
    suppliers: Any,
    notifications_api: Any,
    inventory_api: Any,
    kafka_bootstrap: str,
    redis_url: str,
    registry: Any,
    on_topic: Any,
) -> None:
    mine, _ = suppliers.request(OUTLET, KERIPIK, "SUP-KERIPIK", qty=30)
    theirs, _ = suppliers.request(OUTLET, KOPI, "SUP-KOPI", qty=12)
    events.flush()
    keripik = {"X-API-Key": supplier_key(kafka_bootstrap, redis_url, registry, "SUP-KERIPIK")}
    kopi = {"X-API-Key": supplier_key(kafka_bootstrap, redis_url, registry, "SUP-KOPI")}
    assert wait_until(
        lambda: (
            [r["restock_id"] for r in notifications_api.get("/v1/restocks", headers=keripik).json()]
            == [mine]
        )
    ), "a supplier lists its own requests, and only those"
    assert notifications_api.get(f"/v1/restocks/{theirs}", headers=keripik).status_code == 403
    answer = {"qty": 30, "expected_at": (events.clock + LATER).isoformat()}
    refused = notifications_api.post(f"/v1/restocks/{mine}/accept", json=answer, headers=kopi)
    assert refused.status_code == 403, refused.text

    accepted = notifications_api.post(f"/v1/restocks/{mine}/accept", json=answer, headers=keripik)
    assert accepted.status_code == 202, accepted.text
    acks = on_topic("restock.acks", "restock.RestockAccepted", wait_for=1)
    assert [
        (a["data"]["restock_id"], a["data"]["qty"], a["data"]["supplier_id"]) for a in acks
    ] == [(mine, 30, "SUP-KERIPIK")]
    again = notifications_api.post(f"/v1/restocks/{mine}/accept", json=answer, headers=keripik)
    assert again.status_code == 409

    def shown() -> dict[str, Any]:
        listed = inventory_api.get(f"/v1/outlets/{OUTLET}/restocks").json()["restocks"]
        return {r["restock_id"]: r for r in listed}

    assert wait_until(lambda: shown().get(mine, {}).get("status") == "accepted")
    assert shown()[mine]["accepted_qty"] == 30
    assert shown()[theirs]["status"] == "open"


@pytest.mark.parametrize("qty", [10**30, 2**63, MAX_UNITS + 1])
def test_a_restock_answer_beyond_the_bound_is_refused_naming_qty_and_nothing_is_written(
    events: Any,
    suppliers: Any,
    notifications_api: Any,
    kafka_bootstrap: str,
    redis_url: str,
    registry: Any,
    on_topic: Any,
    qty: int,
) -> None:
    # Issue 15: 10^30 answered 500 (orjson cannot write it), and 2^63 was accepted: a
    # RestockAccepted for 9.2 x 10^18 units landed on restock.acks.
    mine, _ = suppliers.request(OUTLET, KERIPIK, "SUP-KERIPIK", qty=30)
    events.flush()
    keripik = {"X-API-Key": supplier_key(kafka_bootstrap, redis_url, registry, "SUP-KERIPIK")}
    assert wait_until(
        lambda: notifications_api.get(f"/v1/restocks/{mine}", headers=keripik).status_code == 200
    )
    answer = {"qty": qty, "expected_at": (events.clock + LATER).isoformat()}

    refused = notifications_api.post(f"/v1/restocks/{mine}/accept", json=answer, headers=keripik)

    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["qty"]
    assert on_topic("restock.acks", wait_for=0) == []
    fine = notifications_api.post(
        f"/v1/restocks/{mine}/accept", json={**answer, "qty": MAX_UNITS}, headers=keripik
    )
    assert fine.status_code == 202, fine.text


def test_the_accept_link_in_a_whatsapp_message_works_once(
    events: Any,
    workers: Any,
    notify_env: dict[str, str],
    suppliers: Any,
    receiver: Any,
    notifications_api: Any,
    shift_clock: Any,
    on_topic: Any,
) -> None:
    suppliers.point("SUP-KELULUT")
    workers("notifications")
    first, _ = suppliers.request(OUTLET, "MADU-KELULUT-250", "SUP-KELULUT", qty=6)
    events.flush()
    assert wait_until(lambda: len(receiver.to("/wa")) == 1)
    text = orjson.loads(receiver.to("/wa")[0].body)["text"]
    accept = re.search(r"Terima: http://testserver(\S+)", text)
    decline = re.search(r"Tolak: http://testserver(\S+)", text)
    assert accept
    assert decline

    page = notifications_api.get(accept.group(1))
    assert page.status_code == 200
    assert "Madu Kelulut 250 ml" in page.text, "a GET shows the request, and only shows it"
    tampered = accept.group(1)[:-3] + ("abc" if not accept.group(1).endswith("abc") else "abd")
    assert notifications_api.post(tampered).status_code == 400
    # Issue 15: 10^30 answered 500 (orjson), and so did a form that is not UTF-8.
    for qty in (b"1" + b"0" * 30, b"9" * 5000, b"\xff"):
        too_many = notifications_api.post(accept.group(1), content=b"qty=" + qty)
        assert too_many.status_code == 422, too_many.text
    used = notifications_api.post(accept.group(1), content=b"qty=6")
    assert used.status_code == 200, used.text
    acks = on_topic("restock.acks", "restock.RestockAccepted", wait_for=1)
    assert [(a["data"]["restock_id"], a["data"]["qty"]) for a in acks] == [(first, 6)]
    assert notifications_api.post(accept.group(1)).status_code == 409, "single use"
    assert notifications_api.post(decline.group(1)).status_code == 409, "answered already"

    # A link past its expiry (3 days from the request) is refused.
    _second, _ = suppliers.request(OUTLET, "MADU-KELULUT-500", "SUP-KELULUT", qty=4)
    events.flush()
    assert wait_until(lambda: len(receiver.to("/wa")) == 2)
    later = orjson.loads(receiver.to("/wa")[1].body)["text"]
    link = re.search(r"Terima: http://testserver(\S+)", later)
    assert link
    shift_clock(4 * 24 * 3600)
    assert notifications_api.post(link.group(1)).status_code == 410
    shift_clock(0)
    assert len(on_topic("restock.acks", wait_for=0)) == 1


def test_ops_hear_of_booth_stock_outs_and_failed_orders_but_not_kiosk_stock_outs(
    events: Any, workers: Any, notify_env: dict[str, str], receiver: Any, demo_catalog: Any
) -> None:
    from lumbung.contracts.events import orders

    workers("notifications")
    for outlet in ("BOOTH-STADION", OUTLET):
        alert = inv.StockAlertRaised(
            alert=inv.AlertKind.OUT_OF_STOCK,
            outlet_id=outlet,
            sku="AMPLANG-IKAN-250",
            on_hand=0,
            available=0,
        )
        events.send("inventory.alerts", outlet, events.envelope(alert))
    failed = orders.OrderFailed(
        order_id="ORD-0123456789abcdef0123", outlet_id=OUTLET, reason="inventory did not answer"
    )
    events.send("orders.events", failed.order_id, events.envelope(failed))
    events.flush()

    assert wait_until(lambda: len(receiver.to("/ops")) == 2)
    wait_until(lambda: False, seconds=3)
    subjects = sorted(orjson.loads(r.body)["subject"] for r in receiver.to("/ops"))
    assert subjects == [
        "Pesanan gagal: ORD-0123456789abcdef0123 di Kios UMKM Paser di IKN",
        "Stok habis: Amplang Ikan Pipih 250 g di Booth Porprov Stadion Sadurengas",
    ]


def test_predicted_stockouts_reach_the_supplier_in_their_language_and_ops_and_a_clearing_nobody(
    events: Any,
    workers: Any,
    notify_env: dict[str, str],
    suppliers: Any,
    receiver: Any,
    on_topic: Any,
) -> None:
    path = suppliers.point("SUP-KOPI")  # writes English
    workers("notifications")
    runs_out = events.clock + timedelta(hours=30)
    for n, outlet in enumerate(("BOOTH-STADION", OUTLET)):
        prediction = inv.StockoutPredicted(
            prediction_id=f"P-{outlet}-{KOPI}",
            outlet_id=outlet,
            sku=KOPI,
            supplier_id="SUP-KOPI",
            available=9 + n,
            expected_at=runs_out,
            units_per_hour=1.5,
            lead_time_hours=72,
            reason="selling 1.5 an hour",
        )
        events.send("inventory.alerts", outlet, events.envelope(prediction))
    cleared = inv.StockoutCleared(
        prediction_id=f"P-{OUTLET}-{KOPI}",
        outlet_id=OUTLET,
        sku=KOPI,
        cleared_by=inv.ClearedBy.RESTOCK,
        available=40,
    )
    events.send("inventory.alerts", OUTLET, events.envelope(cleared))
    events.flush()

    assert wait_until(lambda: len(receiver.to(path)) == 1 and len(receiver.to("/ops")) == 1)
    body = orjson.loads(receiver.to(path)[0].body)
    assert body["subject"] == "2 products running out soon"
    assert body["data"]["kind"] == "digest"
    assert sorted(p["outlet_id"] for p in body["data"]["stockouts"]) == ["BOOTH-STADION", OUTLET]
    when = around(runs_out, "en")
    assert (
        "Booth Porprov Stadion Sadurengas has 9 pack of Kopi Liberika Bubuk 200 g left, "
        f"selling about 1.5 an hour: runs out around {when}." in body["text"]
    )
    assert "Your delivery takes 72 hours" in body["text"]
    wa = [orjson.loads(r.body) for r in receiver.to("/wa")]
    assert [m["to"] for m in wa] == ["+6281250011005"]
    assert wa[0]["text"] == f"{body['subject']}\n{body['text']}"  # the gateway: both
    ops = orjson.loads(receiver.to("/ops")[0].body)
    assert ops["subject"] == "2 produk segera habis"
    assert ops["data"]["alert"] == "stockout_predicted"
    assert f"habis sekitar {around(runs_out)}" in ops["text"]
    assert "Pemasok (Kopi Liberika Batu Sopang) butuh 72 jam untuk mengirim." in ops["text"]
    wait_until(lambda: False, seconds=4)  # the clearing: no message to anyone
    assert (len(receiver.to(path)), len(receiver.to("/ops")), len(receiver.to("/wa"))) == (1, 1, 1)
