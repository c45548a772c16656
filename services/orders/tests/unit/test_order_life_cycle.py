"""The order state machine, without Kafka or HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import orders
from lumbung.orders.domain import NotAllowed, Order, State
from lumbung.platform.clock import WITA

NOW = datetime(2026, 10, 12, 9, 0, tzinfo=WITA)
ID, OUTLET = "ORD-1", "BOOTH-STADION"


def placed() -> Order:
    return Order.placed(
        orders.OrderPlaced(
            order_id=ID,
            outlet_id=OUTLET,
            kind=orders.OrderKind.SOUVENIR_BULK,
            lines=[orders.OrderLine(sku="AMPLANG-250", qty=40)],
            pickup_at=NOW + timedelta(hours=5),
            customer_name="KBIH Paser",
            customer_phone="+6281250011005",
            request_hash="abc",
        ),
        NOW,
    )


def reserved() -> Order:
    order = placed()
    lines = [orders.OrderLine(sku="AMPLANG-250", qty=40)]
    assert order.apply(orders.OrderReserved(order_id=ID, outlet_id=OUTLET, lines=lines), NOW)
    return order


def test_placed_then_reserved_then_fulfilled_keeps_its_history() -> None:
    order = reserved()
    assert order.apply(orders.OrderFulfilled(order_id=ID, outlet_id=OUTLET), NOW)
    assert order.state is State.FULFILLED
    assert order.final
    assert [h["state"] for h in order.history] == ["placed", "reserved", "fulfilled"]


def test_a_rejection_keeps_the_shortfall() -> None:
    order = placed()
    shortfall = [inv.Shortfall(sku="AMPLANG-250", requested=40, available=12, missing=28)]
    assert order.apply(
        orders.OrderRejected(order_id=ID, outlet_id=OUTLET, shortfall=shortfall), NOW
    )
    assert order.state is State.REJECTED
    assert order.shortfall == [
        {"sku": "AMPLANG-250", "requested": 40, "available": 12, "missing": 28}
    ]


@pytest.mark.parametrize(
    ("make", "wanted"),
    [
        (placed, State.FULFILLED),
        (placed, State.EXPIRED),
        (reserved, State.REJECTED),
    ],
)
def test_transitions_the_state_does_not_allow_are_refused(make: object, wanted: State) -> None:
    order = make()  # type: ignore[operator]
    with pytest.raises(NotAllowed, match=f"cannot become {wanted.value}"):
        order.check(wanted)


def test_nothing_leaves_a_final_state_and_late_events_change_nothing() -> None:
    order = reserved()
    assert order.apply(orders.OrderFulfilled(order_id=ID, outlet_id=OUTLET), NOW)
    for late in (
        orders.OrderCancelled(order_id=ID, outlet_id=OUTLET, reason="changed mind"),
        orders.OrderExpired(order_id=ID, outlet_id=OUTLET),
    ):
        assert not order.apply(late, NOW)
    with pytest.raises(NotAllowed):
        order.check(State.CANCELLED)
    assert order.state is State.FULFILLED


def test_an_order_survives_storage() -> None:
    order = reserved()
    assert Order.from_dict(order.to_dict()) == order


def test_a_give_up_that_lands_after_the_reservation_fails_the_order() -> None:
    # The worker gave up waiting while inventory's answer was on its way; inventory
    # releases the hold on OrderFailed, so the order must not stay reserved.
    order = reserved()
    failed = orders.OrderFailed(order_id=ID, outlet_id=OUTLET, reason="no answer")

    assert order.apply(failed, NOW)
    assert order.state is State.FAILED
    assert [h["state"] for h in order.history] == ["placed", "reserved", "failed"]
