"""The inventory worker's streams with no broker and no Redis: records of real contract
events go through `kernel.Batch`, as one batch of the worker's transaction does."""

from __future__ import annotations

import copy
import itertools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from lumbung.contracts import Registry, encode, make_event
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import orders, pos, restock
from lumbung.contracts.events.common import Payload
from lumbung.contracts.registry import DLQ_SUFFIX
from lumbung.inventory.domain import Stock
from lumbung.inventory.entrypoints.worker import ROUTE_ORDERS, stock_stream
from lumbung.inventory.handlers import (
    DECISION_HORIZON,
    flag_overdue_restocks,
    forget_old_decisions,
    outlet_of,
    stock_of,
)
from lumbung.platform.dlq import DeadLetter
from lumbung.platform.kernel import ID_PREFIX, Batch, IdMemory, Stream

WITA = ZoneInfo("Asia/Makassar")
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=WITA)
REGISTRY = Registry()
BOOTH, IKN = "BOOTH-STADION", "IKN-01"
SUPPLIERS = {"AMPLANG": "SUP-BORNEO", "MADU": "SUP-HUTAN"}


class FakeCatalog:
    """The catalog as the worker sees it: the SKUs it knows and who supplies each."""

    def knows_sku(self, sku: str) -> bool:
        return sku in SUPPLIERS

    def supplier_of(self, sku: str) -> str | None:
        return SUPPLIERS.get(sku)

    def outlet(self, outlet_id: str) -> None:
        return None  # no prices to check sales against (see test_returns for those)


@dataclass(frozen=True)
class Sent:
    """A record a batch sends: logical topic, key, value, and a dead letter's reason."""

    topic: str
    key: str
    value: bytes
    error: str | None

    @property
    def type(self) -> str:
        return str(orjson.loads(self.value)["event_type"])

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = orjson.loads(self.value)["data"]
        return data


class Shelf:
    """One task of a worker stream: its state and remembered ids, one batch per send."""

    def __init__(self, stream: Stream | None = None) -> None:
        self.stream = stream or stock_stream(FakeCatalog())
        self.state: dict[str, Any] = {}
        self.ids = IdMemory(self.stream.ids_per_key, self.stream.id_horizon)
        self.now = NOW
        self._offsets = itertools.count()

    def send(
        self,
        topic: str,
        payload: Payload,
        *,
        key: str | None = None,
        event_id: uuid.UUID | None = None,
    ) -> list[Sent]:
        """`payload` in its envelope, keyed as the worker expects unless `key` says otherwise."""
        raw = envelope(payload, event_id, self.now)
        return self.send_raw(topic, key or outlet_of(payload), raw)

    def send_raw(self, topic: str, key: str | bytes, value: bytes) -> list[Sent]:
        record = SimpleNamespace(
            topic=REGISTRY.name(topic),
            partition=0,
            offset=next(self._offsets),
            key=key.encode() if isinstance(key, str) else key,
            value=value,
        )
        batch = self.batch()
        batch.add(topic, record)
        batch.finish()
        return [
            Sent(
                t,
                k.decode(errors="replace"),
                v,
                DeadLetter.from_headers(k, v, h).error if t.endswith(DLQ_SUFFIX) else None,
            )
            for t, k, v, h in batch.out
        ]

    def batch(self) -> Batch:
        return Batch(self.stream, REGISTRY, self.state, self.ids, self.now)

    def stock(self, outlet: str, sku: str) -> Stock:
        return stock_of(self.state, outlet)[sku]

    def count(self, **counted: int) -> None:
        self.send(
            "inventory.commands",
            inv.StockCounted(
                count_id=f"C-{uuid.uuid4().hex[:8]}",
                outlet_id=BOOTH,
                kind=inv.CountKind.OPENING,
                lines=[inv.CountedLine(sku=sku, counted=n) for sku, n in counted.items()],
                counted_at=self.now,
            ),
        )

    def sell(self, event_id: uuid.UUID | None = None, **sold: int) -> list[Sent]:
        return self.send("pos.sales", sale(**sold), event_id=event_id)

    def levels(self, sku: str, reorder_point: int, par_level: int) -> None:
        self.send(
            "inventory.commands",
            inv.StockLevelsSet(
                outlet_id=BOOTH, sku=sku, reorder_point=reorder_point, par_level=par_level
            ),
        )

    def order(self, order_id: str, attempt: int = 1, **lines: int) -> list[Sent]:
        return self.send("inventory.orders-by-outlet", placed(order_id, attempt, **lines))


def envelope(payload: Payload, event_id: uuid.UUID | None = None, at: datetime = NOW) -> bytes:
    return encode(
        make_event(
            payload,
            event_id=event_id or uuid.uuid4(),
            occurred_at=at,
            producer="test",
            correlation_id=str(uuid.uuid4()),
        )
    )


def sale(**sold: int) -> pos.SaleRecorded:
    return pos.SaleRecorded(
        sale_id=f"S-{uuid.uuid4().hex[:8]}",
        outlet_id=BOOTH,
        lines=[pos.SaleLine(sku=sku, qty=n, unit_price_idr=15_000) for sku, n in sold.items()],
        sold_at=NOW,
    )


def placed(order_id: str, attempt: int = 1, **lines: int) -> orders.OrderPlaced:
    return orders.OrderPlaced(
        order_id=order_id,
        outlet_id=BOOTH,
        lines=[orders.OrderLine(sku=sku, qty=n) for sku, n in lines.items()],
        pickup_at=NOW + timedelta(days=1),
        attempt=attempt,
    )


def on(topic: str, sent: list[Sent]) -> list[Sent]:
    return [s for s in sent if s.topic == topic]


def ledger(sent: list[Sent]) -> list[tuple[str, int, int, int, str]]:
    """The stock ledger lines sent: (sku, on hand, reserved, delta, reason)."""
    return [
        (d["sku"], d["on_hand"], d["reserved"], d["delta"], d["reason"])
        for d in (s.data for s in on("inventory.stock", sent))
    ]


def alerts(sent: list[Sent]) -> list[tuple[str, str, int]]:
    return [
        (d["alert"], d["sku"], d["on_hand"]) for d in (s.data for s in on("inventory.alerts", sent))
    ]


# -- sales ---------------------------------------------------------------------------------


def test_a_sale_lowers_on_hand_and_writes_one_ledger_line_per_sale_line() -> None:
    shelf = Shelf()
    shelf.count(AMPLANG=10, MADU=5)

    sent = shelf.sell(AMPLANG=3, MADU=1)

    assert (shelf.stock(BOOTH, "AMPLANG").on_hand, shelf.stock(BOOTH, "MADU").on_hand) == (7, 4)
    assert [(s.topic, s.key, s.type) for s in sent] == [
        ("inventory.stock", BOOTH, "inventory.StockChanged"),
    ] * 2
    assert ledger(sent) == [("AMPLANG", 7, 0, -3, "sale"), ("MADU", 4, 0, -1, "sale")]


def test_a_resent_sale_changes_nothing_and_sends_nothing() -> None:
    shelf = Shelf()
    shelf.count(AMPLANG=10)
    sale_id = uuid.uuid4()
    shelf.sell(event_id=sale_id, AMPLANG=3)
    before = copy.deepcopy(shelf.state)

    again = shelf.sell(event_id=sale_id, AMPLANG=3)

    assert again == []
    assert shelf.state == before
    assert shelf.stock(BOOTH, "AMPLANG").on_hand == 7


def test_a_sale_of_an_unknown_sku_is_applied_and_raises_an_unknown_sku_alert() -> None:
    shelf = Shelf()

    sent = shelf.sell(KERIPIK=2)

    assert shelf.stock(BOOTH, "KERIPIK").on_hand == -2
    assert alerts(sent) == [("unknown_sku", "KERIPIK", 0), ("negative_stock", "KERIPIK", -2)]
    assert {s.key for s in on("inventory.alerts", sent)} == {BOOTH}


def test_a_sale_below_zero_is_applied_and_raises_a_negative_stock_alert() -> None:
    shelf = Shelf()
    shelf.count(AMPLANG=1)

    sent = shelf.sell(AMPLANG=3)

    assert shelf.stock(BOOTH, "AMPLANG").on_hand == -2
    assert ledger(sent) == [("AMPLANG", -2, 0, -3, "sale")]
    assert alerts(sent) == [("negative_stock", "AMPLANG", -2)]


@pytest.mark.parametrize(
    ("kind", "qty", "reason"), [("return", 2, "sale_return"), ("void", 3, "sale_void")]
)
def test_a_return_or_void_puts_the_units_back_on_hand(kind: str, qty: int, reason: str) -> None:
    shelf = Shelf()
    shelf.count(AMPLANG=10)
    the_sale = sale(AMPLANG=3)
    shelf.send("pos.sales", the_sale)

    sent = shelf.send(
        "pos.sales",
        pos.SaleReturned(
            return_id="R-1",
            sale_id=the_sale.sale_id,
            outlet_id=BOOTH,
            kind=pos.ReturnKind(kind),
            lines=[pos.SaleLine(sku="AMPLANG", qty=qty, unit_price_idr=15_000)],
            returned_at=NOW,
        ),
    )

    assert ledger(sent) == [("AMPLANG", 7 + qty, 0, qty, reason)]


# -- orders ------------------------------------------------------------------------------


def test_a_multi_line_order_is_reserved_all_or_nothing() -> None:
    shelf = Shelf()
    shelf.count(AMPLANG=5, MADU=1)

    short = shelf.order("O-1", AMPLANG=2, MADU=2)

    assert [(s.key, s.type) for s in short] == [("O-1", "inventory.ReservationRejected")]
    assert short[0].data["shortfall"] == [
        {"sku": "MADU", "requested": 2, "available": 1, "missing": 1}
    ]
    assert (shelf.stock(BOOTH, "AMPLANG").reserved, shelf.stock(BOOTH, "MADU").reserved) == (0, 0)

    enough = shelf.order("O-2", AMPLANG=2, MADU=1)

    [answer] = on("inventory.reservations", enough)
    assert (answer.key, answer.type) == ("O-2", "inventory.StockReserved")
    assert (shelf.stock(BOOTH, "AMPLANG").reserved, shelf.stock(BOOTH, "MADU").reserved) == (2, 1)
    assert ledger(enough) == [("AMPLANG", 5, 2, 0, "reserved"), ("MADU", 1, 1, 0, "reserved")]


def test_a_repeated_order_gets_the_same_reservation_and_holds_nothing_more() -> None:
    shelf = Shelf()
    shelf.count(AMPLANG=5)
    shelf.order("O-1", AMPLANG=2)

    again = shelf.order("O-1", attempt=2, AMPLANG=2)

    assert [(s.topic, s.key, s.type) for s in again] == [
        ("inventory.reservations", "O-1", "inventory.StockReserved")
    ]
    assert shelf.stock(BOOTH, "AMPLANG").reserved == 2


def test_a_repeated_order_is_rejected_again_even_after_stock_came_in() -> None:
    shelf = Shelf()
    shelf.count(AMPLANG=1)
    shelf.order("O-1", AMPLANG=3)
    shelf.count(AMPLANG=10)

    again = shelf.order("O-1", attempt=2, AMPLANG=3)

    assert [(s.key, s.type) for s in again] == [("O-1", "inventory.ReservationRejected")]
    assert again[0].data["shortfall"] == []
    assert shelf.stock(BOOTH, "AMPLANG").reserved == 0


@pytest.mark.parametrize(
    ("ending", "reason"),
    [
        (orders.OrderCancelled(order_id="O-1", outlet_id=BOOTH), "order_cancelled"),
        (orders.OrderExpired(order_id="O-1", outlet_id=BOOTH), "order_expired"),
        (orders.OrderFailed(order_id="O-1", outlet_id=BOOTH, reason="payment"), "order_failed"),
    ],
)
def test_an_order_that_ends_unfulfilled_frees_its_hold(ending: Payload, reason: str) -> None:
    shelf = Shelf()
    shelf.count(AMPLANG=5)
    shelf.order("O-1", AMPLANG=2)

    sent = shelf.send("inventory.orders-by-outlet", ending)

    assert ledger(sent) == [("AMPLANG", 5, 0, 0, reason)]
    assert shelf.stock(BOOTH, "AMPLANG").available == 5
    assert shelf.send("inventory.orders-by-outlet", ending) == []


def test_a_fulfilled_order_takes_on_hand_and_reserved_down() -> None:
    shelf = Shelf()
    shelf.count(AMPLANG=5)
    shelf.order("O-1", AMPLANG=2)

    sent = shelf.send(
        "inventory.orders-by-outlet", orders.OrderFulfilled(order_id="O-1", outlet_id=BOOTH)
    )

    assert ledger(sent) == [("AMPLANG", 3, 0, -2, "order_fulfilled")]


# -- commands ----------------------------------------------------------------------------


def test_a_count_sets_on_hand_to_the_number_counted() -> None:
    shelf = Shelf()
    shelf.count(AMPLANG=10)
    shelf.sell(AMPLANG=3)

    sent = shelf.send(
        "inventory.commands",
        inv.StockCounted(
            count_id="C-2",
            outlet_id=BOOTH,
            lines=[inv.CountedLine(sku="AMPLANG", counted=5)],
            counted_at=NOW,
        ),
    )

    assert shelf.stock(BOOTH, "AMPLANG").on_hand == 5
    assert ledger(sent) == [("AMPLANG", 5, 0, -2, "count")]


def test_an_adjustment_moves_on_hand_and_names_its_reason() -> None:
    shelf = Shelf()
    shelf.count(AMPLANG=10)

    sent = shelf.send(
        "inventory.commands",
        inv.StockAdjusted(
            adjustment_id="A-1",
            outlet_id=BOOTH,
            sku="AMPLANG",
            delta=-2,
            reason=inv.AdjustmentReason.DAMAGED,
        ),
    )

    assert ledger(sent) == [("AMPLANG", 8, 0, -2, "adjustment:damaged")]


def test_goods_sent_back_to_their_producer_leave_on_hand_with_their_reason() -> None:
    shelf = Shelf()
    shelf.count(AMPLANG=10)

    sent = shelf.send(
        "inventory.commands",
        inv.GoodsSentBack(
            sendback_id="RB-1",
            outlet_id=BOOTH,
            lines=[inv.TransferLine(sku="AMPLANG", qty=4)],
            reason=inv.SendBackReason.EXPIRED,
            sent_at=datetime(2026, 8, 3, 10, tzinfo=ZoneInfo("Asia/Makassar")),
        ),
    )

    assert ledger(sent) == [("AMPLANG", 6, 0, -4, "sent_back:expired")]


# -- restock -----------------------------------------------------------------------------


def test_crossing_the_reorder_point_asks_the_supplier_once_while_the_request_is_open() -> None:
    shelf = Shelf()
    shelf.count(AMPLANG=10)
    shelf.levels("AMPLANG", reorder_point=3, par_level=20)

    first = shelf.sell(AMPLANG=7)
    second = shelf.sell(AMPLANG=1)

    [request] = on("restock.events", first)
    assert (request.key, request.type) == (BOOTH, "restock.RestockRequested")
    assert (request.data["sku"], request.data["supplier_id"], request.data["suggested_qty"]) == (
        "AMPLANG",
        "SUP-BORNEO",
        17,
    )
    assert on("restock.events", second) == []


def test_a_restock_receipt_raises_on_hand_and_closes_the_open_request() -> None:
    shelf = Shelf()
    shelf.count(AMPLANG=10)
    shelf.levels("AMPLANG", reorder_point=3, par_level=20)
    [request] = on("restock.events", shelf.sell(AMPLANG=8))
    restock_id = request.data["restock_id"]

    sent = shelf.send(
        "inventory.commands",
        inv.RestockReceived(
            receipt_id="G-1", outlet_id=BOOTH, sku="AMPLANG", qty=18, restock_id=restock_id
        ),
    )

    assert shelf.stock(BOOTH, "AMPLANG").on_hand == 20
    [closed] = on("restock.events", sent)
    assert (closed.key, closed.type) == (BOOTH, "restock.RestockClosed")
    assert (closed.data["restock_id"], closed.data["received_qty"]) == (restock_id, 18)
    next_drop = shelf.sell(AMPLANG=18)
    assert [s.type for s in on("restock.events", next_drop)] == ["restock.RestockRequested"]


def test_an_accepted_restock_stays_open_and_a_declined_one_lets_the_next_drop_ask_again() -> None:
    shelf = Shelf()
    shelf.count(AMPLANG=10)
    shelf.levels("AMPLANG", reorder_point=3, par_level=20)
    [request] = on("restock.events", shelf.sell(AMPLANG=8))
    answer = {
        "restock_id": request.data["restock_id"],
        "outlet_id": BOOTH,
        "sku": "AMPLANG",
        "supplier_id": "SUP-BORNEO",
    }

    accepted = shelf.send(
        "restock.acks",
        restock.RestockAccepted(**answer, qty=18, expected_at=NOW + timedelta(days=2)),
    )
    still_open = shelf.sell(AMPLANG=1)
    declined = shelf.send("restock.acks", restock.RestockDeclined(**answer, reason="habis"))
    asked_again = shelf.sell(AMPLANG=1)

    assert (accepted, on("restock.events", still_open), declined) == ([], [], [])
    assert [s.type for s in on("restock.events", asked_again)] == ["restock.RestockRequested"]


def accepted_restock(shelf: Shelf, qty: int, due: datetime) -> str:
    """AMPLANG at the booth sold below its reorder point, and its supplier's acceptance of
    the request that followed; returns the request's id."""
    shelf.count(AMPLANG=10)
    shelf.levels("AMPLANG", reorder_point=3, par_level=20)
    [request] = on("restock.events", shelf.sell(AMPLANG=8))
    restock_id = str(request.data["restock_id"])
    accepted = restock.RestockAccepted(
        restock_id=restock_id,
        outlet_id=BOOTH,
        sku="AMPLANG",
        supplier_id="SUP-BORNEO",
        qty=qty,
        expected_at=due,
    )
    shelf.send("restock.acks", accepted)
    return restock_id


def receive(shelf: Shelf, restock_id: str, receipt_id: str, qty: int) -> list[Sent]:
    receipt = inv.RestockReceived(
        receipt_id=receipt_id, outlet_id=BOOTH, sku="AMPLANG", qty=qty, restock_id=restock_id
    )
    return shelf.send("inventory.commands", receipt)


def test_a_partial_delivery_of_an_accepted_restock_leaves_the_rest_on_order() -> None:
    shelf = Shelf()
    due = NOW + timedelta(days=1)
    restock_id = accepted_restock(shelf, 18, due)
    part = receive(shelf, restock_id, "G-1", 10)

    stock = shelf.stock(BOOTH, "AMPLANG")
    assert (stock.on_hand, stock.on_order, stock.due_at) == (12, 8, due.isoformat())
    assert on("restock.events", part) == [], "the request stays open"

    rest = receive(shelf, restock_id, "G-2", 8)

    [closed] = on("restock.events", rest)
    assert (closed.type, closed.data["received_qty"]) == ("restock.RestockClosed", 18)
    assert shelf.stock(BOOTH, "AMPLANG").on_order == 0


def test_an_accepted_restock_not_delivered_by_its_due_time_is_flagged_to_ops_once() -> None:
    shelf = Shelf()
    due = NOW + timedelta(days=1)
    restock_id = accepted_restock(shelf, 18, due)
    receive(shelf, restock_id, "G-1", 5)

    def tick(at: datetime) -> list[tuple[str, str, bytes]]:
        batch = shelf.batch()
        batch.take(flag_overdue_restocks(shelf.state, at))
        shelf.state.update({k: v for k, v in batch.deltas.items() if v is not None})
        return [(t, k.decode(), v) for t, k, v, _ in batch.out]

    assert tick(due - timedelta(minutes=1)) == [], "not due yet"
    [(topic, key, value)] = tick(due + timedelta(minutes=1))
    assert (topic, key) == (REGISTRY.name("restock.events"), BOOTH)
    event = orjson.loads(value)
    assert event["event_type"] == "restock.RestockOverdue"
    assert (event["data"]["restock_id"], event["data"]["on_order"]) == (restock_id, 13)
    assert tick(due + timedelta(hours=2)) == [], "once per request and due time"
    assert shelf.stock(BOOTH, "AMPLANG").overdue


# -- what the kernel refuses -------------------------------------------------------------


def test_an_event_keyed_by_another_outlet_is_dead_lettered_and_changes_nothing() -> None:
    shelf = Shelf()
    shelf.count(AMPLANG=10)
    before, event_id = copy.deepcopy(shelf.state), uuid.uuid4()

    sent = shelf.send("pos.sales", sale(AMPLANG=3), key=IKN, event_id=event_id)

    assert [(s.topic, s.key) for s in sent] == [("inventory.dlq", IKN)]
    assert "keyed" in (sent[0].error or "")
    assert shelf.state == before
    assert ledger(shelf.send("pos.sales", sale(AMPLANG=3), event_id=event_id)) == [
        ("AMPLANG", 7, 0, -3, "sale")
    ]


def test_a_record_keyed_with_bytes_that_are_not_text_is_dead_lettered() -> None:
    shelf = Shelf()

    sent = shelf.send_raw("pos.sales", b"\xff" + BOOTH.encode(), envelope(sale(AMPLANG=3)))

    assert [s.topic for s in sent] == ["inventory.dlq"]
    assert shelf.state == {}


NOT_EVENTS = {
    "not JSON": b"AMPLANG,3",
    "a JSON list": b"[1, 2]",
    "no value": b"",
    "an unknown event type": orjson.dumps({"event_type": "pos.SaleLost", "schema_version": 1}),
    "a sale without lines": orjson.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "event_type": "pos.SaleRecorded",
            "schema_version": 2,
            "occurred_at": NOW.isoformat(),
            "producer": "test",
            "correlation_id": "test",
            "data": {"sale_id": "S-1", "outlet_id": BOOTH, "lines": [], "sold_at": NOW.isoformat()},
        }
    ),
}


@pytest.mark.parametrize("value", NOT_EVENTS.values(), ids=NOT_EVENTS.keys())
def test_bytes_that_are_not_an_event_are_dead_lettered_with_the_bytes_kept(value: bytes) -> None:
    shelf = Shelf()

    sent = shelf.send_raw("pos.sales", BOOTH, value)

    assert [(s.topic, s.key, s.value) for s in sent] == [("inventory.dlq", BOOTH, value)]
    assert sent[0].error
    assert shelf.state == {}


def test_an_event_the_worker_does_not_apply_is_dead_lettered() -> None:
    shelf = Shelf()

    sent = shelf.send(
        "inventory.commands",
        inv.StockReserved(
            order_id="O-1", outlet_id=BOOTH, lines=[inv.ReservedLine(sku="AMPLANG", qty=1)]
        ),
    )

    assert [s.topic for s in sent] == ["inventory.dlq"]
    assert "does not apply inventory.StockReserved" in (sent[0].error or "")


# -- route-orders ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        placed("O-1", AMPLANG=2),
        orders.OrderCancelled(order_id="O-1", outlet_id=BOOTH),
        orders.OrderFulfilled(order_id="O-1", outlet_id=BOOTH),
    ],
    ids=lambda p: type(p).__name__,
)
def test_an_order_event_is_forwarded_unchanged_keyed_by_its_pickup_outlet(payload: Payload) -> None:
    route = Shelf(ROUTE_ORDERS)
    raw = envelope(payload)

    sent = route.send_raw("orders.events", "O-1", raw)

    assert [(s.topic, s.key) for s in sent] == [("inventory.orders-by-outlet", BOOTH)]
    assert orjson.loads(sent[0].value) == orjson.loads(raw)


def test_inventorys_own_answer_recorded_by_orders_is_not_forwarded() -> None:
    route = Shelf(ROUTE_ORDERS)

    sent = route.send(
        "orders.events",
        orders.OrderReserved(
            order_id="O-1", outlet_id=BOOTH, lines=[orders.OrderLine(sku="AMPLANG", qty=2)]
        ),
        key="O-1",
    )

    assert sent == []


# -- what the task remembers -------------------------------------------------------------


def test_ids_older_than_the_horizon_are_forgotten_and_tombstoned() -> None:
    shelf = Shelf()
    shelf.count(AMPLANG=10)
    old, recent = uuid.uuid4(), uuid.uuid4()
    shelf.sell(event_id=old, AMPLANG=1)
    shelf.now = NOW + shelf.stream.id_horizon + timedelta(hours=1)
    shelf.sell(event_id=recent, AMPLANG=1)

    batch = shelf.batch()
    batch.forget_old_ids()

    assert [value for key, value in batch.deltas.items() if key.startswith(ID_PREFIX)] == [
        None,
        None,
    ]  # the opening count's chunk and the old sale's
    assert not shelf.ids.seen(old.bytes)
    assert shelf.ids.seen(recent.bytes)
    assert shelf.sell(event_id=recent, AMPLANG=1) == []


def test_answers_to_orders_are_forgotten_after_the_decision_horizon() -> None:
    shelf = Shelf()
    shelf.count(AMPLANG=5)
    shelf.order("O-1", AMPLANG=2)
    batch = shelf.batch()

    batch.take(forget_old_decisions(shelf.state, NOW + DECISION_HORIZON + timedelta(hours=1)))

    assert list(batch.deltas.items()) == [(f"d|{BOOTH}|O-1", None)]
    assert shelf.stock(BOOTH, "AMPLANG").reserved == 2
