"""What a cancel or fulfil answers, against a stand-in for the worker's fold: the state
the order became, a 409 when another move came first, or pending while it has not
settled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lumbung.orders.domain import Order, State
from lumbung.orders.service import OrderError, OrdersService
from services.orders.tests.unit.test_order_life_cycle import ID, NOW, reserved


class Fold:
    """The read model as the worker's fold leaves it, and the publisher that feeds it:
    `on_publish(order, payload)` is what the fold makes of each event written."""

    def __init__(self, order: Order, on_publish: Callable[[Order, Any], None]) -> None:
        self.order, self.on_publish = order, on_publish

    async def get(self, order_id: str) -> dict[str, Any] | None:
        return self.order.to_dict() if order_id == self.order.order_id else None

    async def publish(self, logical: str, key: str, event: Any) -> None:
        self.on_publish(self.order, event.data)


def service(fold: Fold) -> OrdersService:
    return OrdersService(fold, None, fold, lambda: NOW)  # type: ignore[arg-type]


async def test_a_move_the_fold_applies_answers_the_order_it_became() -> None:
    fold = Fold(reserved(), lambda order, data: order.apply(data, NOW))

    order, settled = await service(fold).move(ID, State.FULFILLED, wait_s=1)

    assert settled
    assert order["state"] == "fulfilled"


async def test_a_move_another_came_before_answers_409_naming_what_the_order_became() -> None:
    def cancelled_first(order: Order, _: Any) -> None:
        order.state = State.CANCELLED  # the other clerk's cancel was folded first

    fold = Fold(reserved(), cancelled_first)

    with pytest.raises(OrderError) as refused:
        await service(fold).move(ID, State.FULFILLED, wait_s=1)

    assert refused.value.status == 409
    assert "is cancelled" in str(refused.value)


async def test_a_move_the_fold_has_not_reached_is_pending() -> None:
    fold = Fold(reserved(), lambda order, data: None)

    order, settled = await service(fold).move(ID, State.CANCELLED, wait_s=0.2)

    assert not settled
    assert (order["state"], order["pending"]) == ("reserved", "cancelled")
