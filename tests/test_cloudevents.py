"""Every event the services write carries the CloudEvents Kafka binding in binary mode
(libs/contracts/src/lumbung/contracts/cloudevents.py). Every API but the dashboard and
every worker run as their own processes on the real broker and Redis, and are driven
through their APIs (and one outlet gateway) until every event type of the registry has
been written; then the CloudEvents SDK reads each record on every event topic, and what it
reads must be the envelope in the record's value."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary_event

from lumbung.contracts import Registry
from lumbung.contracts.registry import DLQ_SUFFIX
from lumbung.inventory.outlet import GatewaySender, OutletClient, Spool
from lumbung.platform.clock import WITA
from lumbung.platform.testing import read_records
from tests.support.fixtures import ApiProcess
from tests.support.receivers import Receiver, wait_until

pytestmark = pytest.mark.broker
APIS = ("catalog", "inventory", "orders", "notifications", "books")
OUTLET, DESTINATION = "IKN-01", "RA-KM47"
RESTOCKED = {"KERIPIK-PISANG-200": "SUP-KERIPIK", "KOPI-LIBERIKA-200": "SUP-KOPI"}
"""SKUs sold below their reorder point, by their supplier in the demo catalog: the first
supplier accepts the restock request and delivers a third of it, the rest only after its
due time (overdue); the second declines it."""
ACCEPTED_SKU, DECLINED_SKU = RESTOCKED
SKU = "AMPLANG-IKAN-250"
BOOTH, BOOTH_SKU = "BOOTH-CE", "MADU-KELULUT-250"
"""Sold, returned, adjusted, moved to another outlet and ordered."""
ANSWER_TIMEOUT_S = 10
"""How long an order waits for inventory before the orders worker asks again."""
WHATSAPP = "/wa"
SHIFTED = timedelta(hours=6, minutes=10)
"""How far the workers' clock is moved at last (past the pickup time of an order)."""
FORECAST_OUTLET, FORECAST_SKU = "CE-KIOSK", "GULA-AREN-500"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """The ops webhook answers; the WhatsApp gateway is down, so every WhatsApp message
    fails (NotificationFailed) while the webhook's is delivered (NotificationDelivered)."""
    server = Receiver()
    server.down.add(WHATSAPP)
    yield server
    server.close()


@pytest.fixture
def apis(
    worker_env: dict[str, str],
    receiver: Receiver,
    tmp_path: Path,
    demo_catalog: dict[str, str],
    ops_key: str,
) -> Iterator[dict[str, httpx.Client]]:
    """The APIs as processes, each with a client holding the ops key. The settings go into
    the workers' environment too, for the workers the test starts."""
    worker_env.update(
        {
            "LUMBUNG_ORDERS_ANSWER_TIMEOUT_S": str(ANSWER_TIMEOUT_S),
            "LUMBUNG_NOTIFICATIONS_WHATSAPP_GATEWAY_URL": f"{receiver.url}{WHATSAPP}",
            "LUMBUNG_NOTIFICATIONS_OPS_WEBHOOK_URL": f"{receiver.url}/ops",
            "LUMBUNG_NOTIFICATIONS_OPS_WHATSAPP": "+6281250019999",
            "LUMBUNG_NOTIFICATIONS_ATTEMPTS": "2",
            "LUMBUNG_NOTIFICATIONS_BACKOFF_S": "0.2",
            "LUMBUNG_NOTIFICATIONS_BACKOFF_MAX_S": "1",
            "LUMBUNG_NOTIFICATIONS_DIGEST_WINDOW_S": "1",
            "LUMBUNG_INVENTORY_FORECAST_EVERY_S": "1",
        }
    )
    processes = [ApiProcess(name, worker_env, tmp_path / f"{name}-api.log") for name in APIS]
    by_name = {api.service: api for api in processes}  # books records reports via inventory
    by_name["books"].env["LUMBUNG_BOOKS_INVENTORY_URL"] = by_name["inventory"].url
    clients: dict[str, httpx.Client] = {}
    try:
        # Started together, not one after the other: each takes seconds to get ready.
        with ThreadPoolExecutor(len(processes)) as pool:
            list(pool.map(ApiProcess.start, processes))
        for api in processes:
            clients[api.service] = httpx.Client(
                base_url=api.url, headers={"X-API-Key": ops_key}, timeout=30
            )
        yield clients
    finally:
        for client in clients.values():
            client.close()
        for api in processes:
            api.stop()


def succeeded(answer: httpx.Response) -> Any:
    assert answer.is_success, f"{answer.request.method} {answer.request.url}: {answer.text}"
    return answer.json()


def place_order(orders: httpx.Client, qty: int, pickup_in: timedelta = timedelta(hours=4)) -> str:
    """Place an order for `qty` of SKU at OUTLET, without waiting for inventory's answer."""
    body = {
        "customer_name": "KBIH Al-Ikhlas Paser",
        "customer_phone": "+6281250011005",
        "kind": "souvenir_bulk",
        "outlet_id": OUTLET,
        "pickup_at": (datetime.now(WITA) + pickup_in).isoformat(),
        "lines": [{"sku": SKU, "qty": qty}],
    }
    headers = {"Idempotency-Key": f"ce-{uuid.uuid4()}"}
    return str(succeeded(orders.post("/v1/orders", json=body, headers=headers))["order_id"])


def order_shows(orders: httpx.Client, order_id: str, **wanted: Any) -> Callable[[], bool]:
    """A check that the order, as the orders API shows it, has the `wanted` fields (no
    order yet while the orders worker has not read it)."""

    def check() -> bool:
        shown = orders.get(f"/v1/orders/{order_id}")
        return shown.status_code == 200 and wanted.items() <= shown.json().items()

    return check


def read_as_cloudevent(record: Any) -> str:
    """Read `record` with the CloudEvents SDK and check every attribute against the
    envelope in its value; returns the event type."""
    envelope = orjson.loads(record.value)
    event = from_binary_event(
        KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value)
    )
    read = {
        "specversion": event.get_specversion(),
        "id": event.get_id(),
        "type": event.get_type(),
        "source": event.get_source(),
        "subject": event.get_subject(),
        "time": event.get_time(),
        "dataschema": event.get_dataschema(),
        "datacontenttype": event.get_datacontenttype(),
        "correlationid": event.get_extension("correlationid"),
        "causationid": event.get_extension("causationid"),
    }
    event_type = envelope["event_type"]
    assert read == {
        "specversion": "1.0",
        "id": envelope["event_id"],
        "type": event_type,
        "source": f"urn:lumbung:{envelope['producer']}",
        "subject": record.key.decode(),
        "time": datetime.fromisoformat(envelope["occurred_at"]),
        "dataschema": f"lumbung:{event_type}/v{envelope['schema_version']}",
        "datacontenttype": "application/json",
        "correlationid": envelope["correlation_id"],
        "causationid": envelope.get("causation_id"),
    }, f"{record.topic}:{record.partition}@{record.offset}"
    assert event.get_data() == envelope, "the value stays the whole envelope"
    return str(event_type)


def issue_and_pay_a_statement(books: httpx.Client) -> None:
    """The kiosk's statement for the supplier of SKU, issued before its month has ended
    (books.StatementIssued), and paid in full (books.PaymentRecorded)."""
    supplier = {"supplier_id": "SUP-SARI", "outlet_id": OUTLET}

    def owed() -> list[dict[str, Any]]:
        found = succeeded(books.get("/v1/statements", params=supplier))["statements"]
        return [s for s in found if s["net_idr"] > 0]

    ready = wait_until(lambda: books.get("/readyz").status_code == 200 and bool(owed()))
    assert ready, "the books worker states the kiosk's sales"
    number = owed()[0]["number"]
    issued = succeeded(books.post(f"/v1/statements/{number}/issue", params={"force": "true"}))
    payment = {
        "payment_id": "PAY-1",
        "amount_idr": issued["net_idr"],
        "paid_at": datetime.now(WITA).isoformat(),
        "method": "cash",
    }
    paid = succeeded(books.post(f"/v1/statements/{number}/payments", json=payment))
    assert paid["state"] == "paid"


def import_a_report(books: httpx.Client) -> None:
    """A retailer's profile saved (books.ReportProfileSaved) and one report of the
    kiosk's last month imported (books.ReportImported), its sale through the ingest."""
    profile = {
        "columns": {"store": "Toko", "plu": "PLU", "date": "Tanggal", "qty": "Qty", "amount": "Rp"},
        "stores": {"K1": OUTLET},
        "plus": {"1001": SKU},
    }
    succeeded(books.put("/v1/report-profiles/mitra", json=profile))
    first = datetime.now(WITA).replace(day=1)
    day = (first - timedelta(days=1)).replace(day=15)
    report = f"Toko,PLU,Tanggal,Qty,Rp\nK1,1001,{day:%d/%m/%Y},2,50000\n".encode()
    url = f"/v1/reports/mitra/K1/{day:%Y-%m}"
    done = succeeded(books.post(url, content=report, params={"dry_run": "false"}))
    assert done["outcome"] == "imported", done


def close_a_booth(catalog: httpx.Client, inventory: httpx.Client) -> None:
    """A booth of its own whose window closed an hour ago, with honey on its books that is
    good only through tomorrow (inventory.ExpiryAlert, `soon`): its closing count is asked
    for (inventory.CloseOutDue), sent (inventory.BoothClosed), and the booth's report
    written (inventory.BoothClosedOut), its leftovers going home to the kiosk."""
    now = datetime.now(WITA)
    booth = {
        "name": "Booth CloudEvents",
        "channel": "event_booth",
        "address": "Stadion Uji",
        "active_window": {
            "starts_at": (now - timedelta(days=1)).isoformat(),
            "ends_at": (now - timedelta(hours=1)).isoformat(),
        },
        "home_outlet_id": OUTLET,
        "assortment": [{"sku": BOOTH_SKU}],
    }
    succeeded(catalog.put(f"/v1/outlets/{BOOTH}", json=booth))
    path = f"/v1/outlets/{BOOTH}"

    def known() -> bool:
        return inventory.get(f"{path}/stock").status_code == 200

    assert wait_until(known), "the booth reaches inventory"
    tomorrow = (now + timedelta(days=1)).date().isoformat()
    count = {
        "count_id": "OPEN",
        "kind": "opening",
        "lines": [{"sku": BOOTH_SKU, "counted": 6, "batch_code": "MK-1", "best_before": tomorrow}],
    }
    succeeded(inventory.post(f"{path}/counts", json=count))

    def asked() -> bool:
        return succeeded(inventory.get(f"{path}/close-out"))["asked"] is not None

    assert wait_until(asked), "the closing count is asked for"
    closing = {"close_id": "CLOSE-CE", "lines": [{"sku": BOOTH_SKU, "counted": 5}]}
    succeeded(inventory.post(f"{path}/close-out", json=closing))

    def reported() -> bool:
        return succeeded(inventory.get(f"{path}/close-out"))["report"] is not None

    assert wait_until(reported), "the close-out report is written"


def predict_and_clear_a_stockout(
    catalog: httpx.Client,
    inventory: httpx.Client,
    now: datetime,
    kafka_bootstrap: str,
    registry: Registry,
) -> None:
    """A kiosk of its own, in the time zone where the workers' `now` is noon (a kiosk is
    assumed to trade 07:00-22:00 local time, and this test runs at any hour): 35 sold in
    the last three hours, 5 left, the supplier two days away: a stockout is predicted
    (inventory.StockoutPredicted, and a restock sized by the forecast, which ops change and
    send); 5,000 received clear it (inventory.StockoutCleared)."""
    offset = (12 - now.astimezone(UTC).hour + 12) % 24 - 12  # hours ahead of UTC: -12..11
    outlet = {
        "name": "Kios CloudEvents",
        "channel": "ikn_kiosk",
        "address": "Jl. Uji",
        "timezone": f"Etc/GMT{-offset:+d}",
        "assortment": [{"sku": FORECAST_SKU}],
    }
    succeeded(catalog.put(f"/v1/outlets/{FORECAST_OUTLET}", json=outlet))
    issued = {"role": "outlet", "subject": FORECAST_OUTLET}
    key = {"X-API-Key": succeeded(catalog.post("/v1/keys", json=issued))["key"]}
    path = f"/v1/outlets/{FORECAST_OUTLET}"

    def known() -> bool:
        return inventory.get(f"{path}/stock", headers=key).status_code == 200

    assert wait_until(known), "the new outlet and its key reach inventory"
    count = {
        "count_id": "OPEN",
        "kind": "opening",
        "lines": [{"sku": FORECAST_SKU, "counted": 40}],
    }
    succeeded(inventory.post(f"{path}/counts", json=count, headers=key))

    def counted() -> bool:
        stock = succeeded(inventory.get(f"{path}/stock", headers=key))["stock"]
        return FORECAST_SKU in stock

    assert wait_until(counted)
    sales = [
        {
            "sale_id": f"F-{n}",
            "sold_at": (now - timedelta(hours=hours)).isoformat(),
            "lines": [{"sku": FORECAST_SKU, "qty": qty, "unit_price_idr": 28_000}],
        }
        # the last one just now: an outlet that stopped selling an hour ago is silent
        for n, (hours, qty) in enumerate(((3, 10), (2, 10), (1, 10), (0.1, 5)))
    ]
    succeeded(inventory.post(f"{path}/sales", json={"sales": sales}, headers=key))
    alerts = registry.name("inventory.alerts")

    def said(event_type: str) -> bool:
        return any(
            orjson.loads(r.value)["event_type"] == event_type and r.key == FORECAST_OUTLET.encode()
            for r in read_records(kafka_bootstrap, alerts)
        )

    assert wait_until(lambda: said("inventory.StockoutPredicted")), "the stockout is foreseen"
    # The forecast's restock waits for ops (restock.RestockSuggested); ops set its quantity
    # and send it (inventory.RestockQuantitySet, then restock.RestockRequested).
    held: list[dict[str, Any]] = []

    def suggested() -> bool:
        listed = succeeded(inventory.get(f"{path}/restocks"))["restocks"]
        held[:] = [r for r in listed if r["status"] == "suggested"]
        return bool(held)

    assert wait_until(suggested), "the suggestion shows"
    change = {"qty": 120, "send_now": True}
    succeeded(inventory.put(f"{path}/restocks/{held[0]['restock_id']}", json=change))

    def sent() -> bool:
        listed = succeeded(inventory.get(f"{path}/restocks"))["restocks"]
        return [(r["status"], r["suggested_qty"]) for r in listed] == [("open", 120)]

    assert wait_until(sent), "the supplier is asked for what ops set"
    again = inventory.put(f"{path}/restocks/{held[0]['restock_id']}", json=change)
    assert again.status_code == 409, again.text
    receipt = {"receipt_id": "F-GR", "sku": FORECAST_SKU, "qty": 5000}
    succeeded(inventory.post(f"{path}/receipts", json=receipt, headers=key))
    assert wait_until(lambda: said("inventory.StockoutCleared")), "the receipt clears it"


def test_every_event_type_the_services_write_reads_back_as_a_cloudevent_of_its_envelope(
    apis: dict[str, httpx.Client],
    workers: Any,
    demo_catalog: dict[str, str],
    shift_clock: Callable[[float], None],
    consumed: Callable[..., bool],
    kafka_bootstrap: str,
    registry: Registry,
    tmp_path: Path,
) -> None:
    catalog, inventory, orders, notifications, books = (apis[name] for name in APIS)
    outlet = {"X-API-Key": demo_catalog[OUTLET]}
    # The catalog and the keys come from demo_catalog, ops_key and the key of the supplier
    # who declines (auth.ApiKeyChanged and every catalog.*Changed).
    issued = {"role": "supplier", "subject": RESTOCKED[DECLINED_SKU]}
    decliner = {"X-API-Key": succeeded(catalog.post("/v1/keys", json=issued))["key"]}

    # An order nobody answers while inventory is not running yet: each step of the
    # workers' clock past the answer timeout has the orders worker ask again, and after the
    # last attempt fail the order (orders.OrderFailed; ops hear of it by webhook and by
    # WhatsApp: notifications.NotificationDelivered and NotificationFailed).
    workers("orders")
    workers("notifications")
    unanswered = place_order(orders, 1)
    steps: tuple[dict[str, Any], ...] = ({"attempts": 2}, {"attempts": 3}, {"state": "failed"})
    for step, wanted in enumerate(steps, start=1):
        shift_clock(step * (ANSWER_TIMEOUT_S + 1))
        assert wait_until(order_shows(orders, unanswered, **wanted)), wanted
    workers("inventory")
    workers("books")

    # Opening stock and reorder levels, applied before anything is sold.
    opening = {ACCEPTED_SKU: 20, DECLINED_SKU: 20, SKU: 50}
    count = {
        "count_id": "OPEN",
        "kind": "opening",
        "lines": [{"sku": sku, "counted": n} for sku, n in opening.items()],
    }
    succeeded(inventory.post(f"/v1/outlets/{OUTLET}/counts", json=count, headers=outlet))
    for sku in RESTOCKED:
        levels = {"reorder_point": 10, "par_level": 40}
        succeeded(inventory.put(f"/v1/outlets/{OUTLET}/levels/{sku}", json=levels))

    def versions() -> dict[str, int]:
        stock = succeeded(inventory.get(f"/v1/outlets/{OUTLET}/stock"))["stock"]
        return {sku: stock[sku]["version"] for sku in RESTOCKED if sku in stock}

    assert wait_until(lambda: versions() == dict.fromkeys(RESTOCKED, 2)), versions()

    # Sales through the ingest API: both restocked SKUs below their reorder point
    # (restock.RestockRequested, inventory.StockAlertRaised); one more sale through an
    # outlet gateway straight onto pos.sales; a return, an adjustment and a transfer
    # (TransferDispatched to the destination, which counts it: TransferArrived), and one
    # never counted (TransferOverdue once the workers' clock passes its time, below).
    now = datetime.now(WITA).isoformat()
    sold = [("S-1", ACCEPTED_SKU, 11), ("S-2", DECLINED_SKU, 12), ("S-3", SKU, 2)]
    sales = [
        {
            "sale_id": sale_id,
            "sold_at": now,
            "lines": [{"sku": s, "qty": q, "unit_price_idr": 15_000}],
        }
        for sale_id, s, q in sold
    ]
    succeeded(inventory.post(f"/v1/outlets/{OUTLET}/sales", json={"sales": sales}, headers=outlet))
    gateway = OutletClient(
        OUTLET, Spool(tmp_path / "gateway.sqlite"), GatewaySender(kafka_bootstrap, registry)
    )
    try:
        gateway.record([(SKU, 1, 25_000)], datetime.now(WITA), "G-1")
        assert gateway.flush() == 1
    finally:
        gateway.close()
    back = {
        "return_id": "R-1",
        "sale_id": "S-3",
        "lines": [{"sku": SKU, "qty": 1, "unit_price_idr": 15_000}],
        "returned_at": now,
    }
    succeeded(inventory.post(f"/v1/outlets/{OUTLET}/returns", json=back, headers=outlet))
    # A sale far off the outlet's price (inventory.PriceFlagged), and a return of a sale
    # nobody made, which only the worker can refuse (inventory.ReturnRefused).
    dear = {
        "sale_id": "S-4",
        "sold_at": now,
        "lines": [{"sku": SKU, "qty": 1, "unit_price_idr": 999_000}],
    }
    succeeded(inventory.post(f"/v1/outlets/{OUTLET}/sales", json=dear, headers=outlet))
    stray = {**back, "return_id": "R-2", "sale_id": "S-NOBODY"}
    succeeded(inventory.post(f"/v1/outlets/{OUTLET}/returns", json=stray, headers=outlet))
    adjustment = {"adjustment_id": "A-1", "sku": SKU, "delta": -1, "reason": "damaged"}
    succeeded(inventory.post(f"/v1/outlets/{OUTLET}/adjustments", json=adjustment, headers=outlet))
    sent_back = {"sendback_id": "RB-1", "lines": [{"sku": SKU, "qty": 1}], "reason": "expired"}
    succeeded(inventory.post(f"/v1/outlets/{OUTLET}/send-backs", json=sent_back, headers=outlet))
    transfer = {
        "transfer_id": "T-1",
        "from_outlet_id": OUTLET,
        "to_outlet_id": DESTINATION,
        "lines": [{"sku": SKU, "qty": 3}],
    }
    succeeded(inventory.post("/v1/transfers", json=transfer, headers=outlet))
    counted = {"from_outlet_id": OUTLET, "lines": [{"sku": SKU, "qty": 3}]}
    succeeded(inventory.post(f"/v1/outlets/{DESTINATION}/transfers/T-1/arrival", json=counted))
    lost = {**transfer, "transfer_id": "T-2"}
    succeeded(inventory.post("/v1/transfers", json=lost, headers=outlet))

    # The suppliers answer through the notifications API (ops for one, the other with its
    # own key); the accepted goods arrive
    # (inventory.RestockReceived, restock.RestockClosed).
    requested: dict[str, str] = {}

    def requests_listed() -> bool:
        for sku, supplier in RESTOCKED.items():
            listed = succeeded(notifications.get("/v1/restocks", params={"supplier_id": supplier}))
            requested.update({r["sku"]: r["restock_id"] for r in listed if r["sku"] == sku})
        return requested.keys() == RESTOCKED.keys()

    assert wait_until(requests_listed), requested
    expected_at = (datetime.now(WITA) + timedelta(hours=2)).isoformat()
    accept = {"qty": 30, "expected_at": expected_at}
    succeeded(notifications.post(f"/v1/restocks/{requested[ACCEPTED_SKU]}/accept", json=accept))
    decline = {"reason": "musim hujan"}
    succeeded(
        notifications.post(
            f"/v1/restocks/{requested[DECLINED_SKU]}/decline", json=decline, headers=decliner
        )
    )

    def receive(receipt_id: str, qty: int) -> None:
        receipt = {
            "receipt_id": receipt_id,
            "sku": ACCEPTED_SKU,
            "qty": qty,
            "restock_id": requested[ACCEPTED_SKU],
        }
        succeeded(inventory.post(f"/v1/outlets/{OUTLET}/receipts", json=receipt, headers=outlet))

    # The acceptance and the receipts travel on different topics: it lands first, so
    # the first delivery (a third) leaves the rest on order.
    assert consumed("restock.acks"), "the inventory worker applies the acceptance"
    receive("GR-1", 10)

    # Orders reserved (then fulfilled, cancelled, or left to expire) and one rejected.
    fulfilled, cancelled, expiring = (place_order(orders, 2) for _ in range(3))
    rejected = place_order(orders, 500)
    for order_id, state in (
        (fulfilled, "reserved"),
        (cancelled, "reserved"),
        (expiring, "reserved"),
        (rejected, "rejected"),
    ):
        assert wait_until(order_shows(orders, order_id, state=state)), (order_id, state)
    succeeded(orders.post(f"/v1/orders/{fulfilled}/fulfil"))
    succeeded(orders.post(f"/v1/orders/{cancelled}/cancel", json={"reason": "jadwal berubah"}))
    # Past the pickup time (4 h ahead) and its 2 h grace.
    # The accepted restock's time has passed too, with 20 still on order
    # (restock.RestockOverdue); then the rest arrives (restock.RestockClosed).
    shift_clock(SHIFTED.total_seconds())
    assert wait_until(order_shows(orders, expiring, state="expired"))
    restocks = registry.name("restock.events")
    assert wait_until(
        lambda: any(
            orjson.loads(r.value)["event_type"] == "restock.RestockOverdue"
            for r in read_records(kafka_bootstrap, restocks)
        )
    ), "ops hear of the restock that did not come"
    receive("GR-2", 20)
    worker_now = datetime.now(WITA) + SHIFTED
    predict_and_clear_a_stockout(catalog, inventory, worker_now, kafka_bootstrap, registry)
    issue_and_pay_a_statement(books)
    import_a_report(books)
    close_a_booth(catalog, inventory)

    event_topics = [
        registry.name(topic.name)
        for topic in registry.topics
        if not topic.name.endswith(DLQ_SUFFIX)
    ]
    every_type = {spec.event_type for spec in registry.events}
    records: list[Any] = []

    def every_type_written() -> bool:
        records[:] = [r for topic in event_topics for r in read_records(kafka_bootstrap, topic)]
        return {orjson.loads(r.value)["event_type"] for r in records} == every_type

    # The last events (a delivery's outcome, the restock closed) may still be on their way.
    wait_until(every_type_written, seconds=60)
    assert {read_as_cloudevent(record) for record in records} == every_type
