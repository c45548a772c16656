"""Order events on `orders.events`, keyed by order_id. The orders service writes them;
inventory reserves, releases and commits stock from them."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from lumbung.contracts.events.common import Identifier, Payload, PositiveInt, Sku


class OrderKind(StrEnum):
    SOUVENIR_BULK = "souvenir_bulk"
    PREORDER = "preorder"
    ONLINE = "online"


class OrderLine(Payload):
    sku: Sku
    qty: PositiveInt


class OrderPlaced(Payload):
    """A customer's order, to be reserved all-or-nothing at its pickup outlet."""

    order_id: Identifier
    outlet_id: Identifier = Field(description="The pickup outlet.")
    kind: OrderKind = OrderKind.ONLINE
    lines: list[OrderLine] = Field(min_length=1, max_length=200)
    pickup_at: AwareDatetime


class OrderCancelled(Payload):
    """The order is cancelled; inventory releases what it held."""

    order_id: Identifier
    outlet_id: Identifier
    reason: str = Field(default="", max_length=300)


class OrderExpired(Payload):
    """The order was not picked up in time; inventory releases what it held."""

    order_id: Identifier
    outlet_id: Identifier


class OrderFulfilled(Payload):
    """The order was picked up in full; the held units leave the outlet."""

    order_id: Identifier
    outlet_id: Identifier
