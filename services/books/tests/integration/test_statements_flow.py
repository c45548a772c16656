"""A month of consignment at one Indomaret store through the real broker and Redis: sales
and returns on `pos.sales`, a refused return on `inventory.alerts`, the books worker, and
the statement through the books API, checked to the rupiah against this test's own
computation from the raw topics; then issued and paid in two payments."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import pytest
import redis

from lumbung.catalog import demo
from lumbung.contracts import KeyRole, sale_event_id
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import pos
from lumbung.platform.clock import WITA
from lumbung.platform.testing import read_records
from services.books.tests.unit.test_handlers import SHOP, sale

pytestmark = pytest.mark.broker
SUPPLIER = "SUP-KERIPIK"
PISANG, SINGKONG, AMPLANG = "KERIPIK-PISANG-200", "KERIPIK-SINGKONG-200", "AMPLANG-IKAN-250"


def last_month() -> tuple[str, datetime]:
    """(`YYYY-MM`, its first day at midnight WITA) of the month before this one."""
    first = datetime.now(WITA).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (first - timedelta(days=1)).replace(day=1)
    return start.strftime("%Y-%m"), start


def rate_on(outlets: list[dict[str, Any]]) -> Any:
    """The shop's commission on a day, in tenths of a percent, from its newest record on
    catalog.outlets: the latest rate of its history in force by then."""
    shop = max(
        (e["data"] for e in outlets if e["data"]["outlet_id"] == SHOP), key=lambda d: d["version"]
    )
    history = sorted(shop["commission_history"], key=lambda r: r["effective_from"])

    def rate(day: str) -> int:
        found = [r["percent"] for r in history if r["effective_from"] <= day] or [
            history[0]["percent"]
        ]
        return round(found[-1] * 10)

    return rate


def expected_statement(
    sales: list[dict[str, Any]], alerts: list[dict[str, Any]], outlets: list[dict[str, Any]]
) -> dict[tuple[str, int, float], tuple[int, int, int, int, int]]:
    """(sku, price, rate) -> (sold, returned, gross, commission, net) of the supplier's
    goods at the shop last month, from the raw events: each event id once, refused
    returns left out, each unit at the rate of the day it sold (a returned one too),
    commission rounded half up (away from zero) in whole numbers."""
    period, _ = last_month()
    supplier_of = {sku: body["supplier_id"] for sku, body in demo.products()}
    refused = {
        e["data"]["return_id"] for e in alerts if e["event_type"] == "inventory.ReturnRefused"
    }
    rate = rate_on(outlets)

    def day_of(moment: str) -> str:
        return datetime.fromisoformat(moment).astimezone(WITA).date().isoformat()

    sold_on = {
        e["data"]["sale_id"]: day_of(e["data"]["sold_at"])
        for e in sales
        if e["event_type"] == "pos.SaleRecorded" and e["data"]["outlet_id"] == SHOP
    }
    seen: set[str] = set()
    units: dict[tuple[str, int, int], list[int]] = defaultdict(lambda: [0, 0])
    for event in sales:
        data = event["data"]
        if event["event_id"] in seen or data["outlet_id"] != SHOP:
            continue
        seen.add(event["event_id"])
        is_return = event["event_type"] == "pos.SaleReturned"
        if is_return and data["return_id"] in refused:
            continue
        day = day_of(data["returned_at" if is_return else "sold_at"])
        if not day.startswith(period):
            continue
        rated = sold_on.get(data["sale_id"], day)
        for line in data["lines"]:
            if supplier_of[line["sku"]] == SUPPLIER:
                key = (line["sku"], line["unit_price_idr"], rate(rated))
                units[key][is_return] += line["qty"]
    out = {}
    for (sku, price, tenths), (sold, returned) in units.items():
        gross = (sold - returned) * price
        sign = -1 if gross < 0 else 1
        commission = sign * ((abs(gross) * tenths * 2 + 1000) // 2000)
        out[(sku, price, tenths / 10)] = (sold, returned, gross, commission, gross - commission)
    return out


def figures_of(statement: dict[str, Any]) -> dict[tuple[Any, ...], tuple[int, ...]]:
    """A statement's lines in the shape of `expected_statement`."""
    return {
        (line["sku"], line["unit_price_idr"], line["commission_percent"]): (
            line["sold"],
            line["returned"],
            line["gross_idr"],
            line["commission_idr"],
            line["net_idr"],
        )
        for line in statement["lines"]
    }


def issue_key(env: dict[str, str], registry: Any, api: Any, role: KeyRole, subject: str) -> str:
    """A key of `role` for `subject`, issued through the catalog's own key store."""
    from lumbung.catalog.bootstrap import issue_key_directly
    from lumbung.catalog.settings import Settings

    settings = Settings(
        kafka_bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
        redis_url=env["REDIS_URL"],
        topic_prefix=registry.prefix,
    )
    key = asyncio.run(issue_key_directly(settings, role, subject, "books test"))
    deadline = time.monotonic() + 30  # until the books API's key view has it
    while api.get("/v1/whoami", headers={"X-API-Key": key}).status_code != 200:
        assert time.monotonic() < deadline, "the books API never learnt the new key"
        time.sleep(0.2)
    return key


def ready(api: Any, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while api.get("/readyz").status_code != 200:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.3)
    return True


def statement_when(api: Any, number: str, done: Any, seconds: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        answer = api.get(f"/v1/statements/{number}")
        assert answer.status_code == 200, answer.text
        if done(answer.json()) or time.monotonic() > deadline:
            return dict(answer.json())
        time.sleep(0.3)


def test_a_month_at_an_indomaret_store_is_stated_to_the_rupiah_issued_and_paid(
    books_api: Any,
    workers: Any,
    events: Any,
    on_topic: Any,
    redis_url: str,
    registry: Any,
    demo_catalog: dict[str, str],
    worker_env: dict[str, str],
    kafka_bootstrap: str,
) -> None:
    period, start = last_month()
    number = f"ST-{period}-{SUPPLIER}-{SHOP}"
    # No worker has built the books yet: a write would go by figures not all there.
    at = datetime.now(WITA).isoformat()
    too_soon = {"payment_id": "PAY-0", "amount_idr": 1_000, "paid_at": at}
    for early in (
        books_api.post(f"/v1/statements/{number}/issue", params={"force": "true"}),
        books_api.post(f"/v1/statements/{number}/payments", json=too_soon),
    ):
        assert early.status_code == 503, early.text
        assert (early.headers["Retry-After"], early.json()["errors"][0]["field"]) == ("2", "number")
    workers("books")
    supplier_key = issue_key(worker_env, registry, books_api, KeyRole.SUPPLIER, SUPPLIER)
    third, twentieth = start + timedelta(days=2, hours=10), start + timedelta(days=19, hours=15)
    sales = [
        sale("S-1", third, (PISANG, 12, 15_000), (AMPLANG, 4, 25_000)),
        sale("S-2", third + timedelta(hours=2), (SINGKONG, 5, 14_000)),
        sale("S-3", twentieth, (PISANG, 7, 14_500), (SINGKONG, 3, 14_000)),  # a promo price
    ]
    for s in sales:
        raw = events.envelope(s, event_id=sale_event_id(SHOP, s.sale_id))
        events.send("pos.sales", SHOP, raw)
    # The till sends S-1 again: the same event id, counted once.
    again = events.envelope(sales[0], event_id=sale_event_id(SHOP, "S-1"))
    events.send("pos.sales", SHOP, again)
    partial = pos.SaleReturned(
        return_id="R-1",
        sale_id="S-1",
        outlet_id=SHOP,
        returned_at=twentieth + timedelta(hours=1),
        lines=[pos.SaleLine(sku=PISANG, qty=2, unit_price_idr=15_000)],
        refund_idr=29_000,
    )
    too_many = partial.model_copy(
        update={"return_id": "R-2", "lines": [partial.lines[0].model_copy(update={"qty": 50})]}
    )
    events.send("pos.sales", SHOP, events.envelope(partial))
    refusal = inv.ReturnRefused(
        return_id="R-2",
        sale_id="S-1",
        outlet_id=SHOP,
        kind="return",
        reason=inv.ReturnRefusal.MORE_THAN_SOLD,
        message=f"{PISANG}: 50 back, but the sale has 10 left to return",
    )
    # The refusal before its return: the books never count R-2 either way.
    events.send("inventory.alerts", SHOP, events.envelope(refusal))
    events.send("pos.sales", SHOP, events.envelope(too_many))
    # A sale of this month: not on last month's statement.
    events.send(
        "pos.sales", SHOP, events.envelope(sale("S-4", datetime.now(WITA), (PISANG, 1, 15_000)))
    )
    events.flush()

    expected = expected_statement(
        on_topic("pos.sales", wait_for=7),
        on_topic("inventory.alerts", wait_for=1),
        on_topic("catalog.outlets"),
    )
    net = sum(line[4] for line in expected.values())

    def as_expected(st: dict[str, Any]) -> bool:
        return figures_of(st) == expected

    statement = statement_when(books_api, number, as_expected)
    # Writes wait for a whole read model (503 while the worker still builds it): as a
    # client told Retry-After would.
    assert ready(books_api), books_api.get("/readyz").json()
    assert as_expected(statement), (statement["lines"], expected)
    # The demo's stores take 17.5 % until the 16th of last month, 15 % from then on.
    assert {line["commission_percent"] for line in statement["lines"]} == {17.5, 15.0}
    assert (statement["state"], statement["net_idr"], statement["refunds_idr"]) == (
        "open",
        net,
        29_000,
    )
    assert statement["supplier_name"] == "Keripik Pisang Kuaro"
    listed = books_api.get("/v1/statements", params={"period": period, "outlet_id": SHOP})
    assert {s["supplier_id"] for s in listed.json()["statements"]} == {SUPPLIER, "SUP-SARI"}
    # A supplier's key reads its own statements only; an outlet's key none.
    own = {"X-API-Key": supplier_key}
    mine = books_api.get("/v1/statements", params={"period": period}, headers=own)
    assert [s["number"] for s in mine.json()["statements"]] == [number]
    other = books_api.get(f"/v1/statements/ST-{period}-SUP-SARI-{SHOP}", headers=own)
    assert other.status_code == 403
    shop_key = {"X-API-Key": demo_catalog["IKN-01"]}
    assert books_api.get(f"/v1/statements/{number}", headers=shop_key).status_code == 403

    page = books_api.get(f"/v1/statements/{number}", params={"format": "html"})
    assert page.status_code == 200
    assert "Nota Konsinyasi" in page.text
    assert "Keripik Pisang Kuaro" in page.text
    sheet = books_api.get(f"/v1/statements/{number}", params={"format": "csv"})
    total = [row for row in sheet.text.splitlines() if ",TOTAL," in row]
    assert total == [
        f"{number},{period},{SUPPLIER},{SHOP},open,TOTAL,,,{statement['sold']},{statement['returned']},{statement['gross_idr']},{statement['commission_idr']},{net},0,"
    ]

    this_month = datetime.now(WITA).strftime("%Y-%m")
    early = books_api.post(f"/v1/statements/ST-{this_month}-{SUPPLIER}-{SHOP}/issue")
    assert early.status_code == 409, early.text
    assert early.json()["errors"][0]["field"] == "period"

    issued = books_api.post(f"/v1/statements/{number}/issue")
    assert issued.status_code == 201, issued.text
    assert (issued.json()["state"], issued.json()["net_idr"]) == ("issued", net)
    assert books_api.post(f"/v1/statements/{number}/issue").status_code == 200

    first = {
        "payment_id": "PAY-1",
        "amount_idr": net // 2,
        "paid_at": datetime.now(WITA).isoformat(),
        "method": "transfer",
        "note": "termin 1",
    }
    paid = books_api.post(f"/v1/statements/{number}/payments", json=first)
    assert paid.status_code == 201, paid.text
    assert (paid.json()["state"], paid.json()["outstanding_idr"]) == ("part_paid", net - net // 2)
    assert books_api.post(f"/v1/statements/{number}/payments", json=first).status_code == 200
    reused = books_api.post(f"/v1/statements/{number}/payments", json={**first, "note": "x"})
    assert (reused.status_code, reused.json()["errors"][0]["field"]) == (409, "payment_id")
    over = {**first, "payment_id": "PAY-2", "amount_idr": net}
    assert books_api.post(f"/v1/statements/{number}/payments", json=over).status_code == 409
    rest = {**first, "payment_id": "PAY-2", "amount_idr": net - net // 2, "note": "lunas"}
    done = books_api.post(f"/v1/statements/{number}/payments", json=rest)
    assert done.status_code == 201, done.text
    assert (done.json()["state"], done.json()["paid_idr"], done.json()["outstanding_idr"]) == (
        "paid",
        net,
        0,
    )

    written = on_topic("books.events", wait_for=3)
    assert [e["event_type"] for e in written].count("books.StatementIssued") == 1
    assert sorted(
        e["data"]["payment_id"] for e in written if e["event_type"] == "books.PaymentRecorded"
    ) == ["PAY-1", "PAY-2"]  # nothing of the writes refused with 503 or 409
    keys = {r.key for r in read_records(kafka_bootstrap, registry.name("books.events"))}
    assert keys == {SUPPLIER.encode()}  # a supplier's statements and payments in order

    # Redis loses the books: the worker rebuilds them from Kafka alone.
    wiped = redis.Redis.from_url(redis_url)
    wiped.delete(*wiped.keys(f"{registry.prefix}:books:*"))
    again = statement_when(books_api, number, lambda st: st["state"] == "paid")
    assert {k: again[k] for k in ("state", "lines", "net_idr", "paid_idr")} == {
        k: done.json()[k] for k in ("state", "lines", "net_idr", "paid_idr")
    }
