"""Order events on `orders.events`, keyed by order_id: every transition of every order.
The orders service writes them; inventory reserves on `OrderPlaced`, releases on
`OrderCancelled`, `OrderExpired` and `OrderFailed`, commits on `OrderFulfilled`, and
ignores `OrderReserved` / `OrderRejected` (the orders service's record of inventory's
answer)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from lumbung.contracts.bounds import Units, WirePositive
from lumbung.contracts.events.common import Identifier, Payload, Sku
from lumbung.contracts.events.inventory import Shortfall

PHONE_PATTERN = r"^\+?[0-9]{8,15}$"
"""Digits only, 8 to 15 of them, an optional leading +: e.g. +6281250011005."""


class OrderKind(StrEnum):
    SOUVENIR_BULK = "souvenir_bulk"
    PREORDER = "preorder"
    ONLINE = "online"


class OrderLine(Payload):
    sku: Sku
    qty: Units


class OrderPlaced(Payload):
    """A customer's order, to be reserved all-or-nothing at its pickup outlet."""

    order_id: Identifier
    outlet_id: Identifier = Field(description="The pickup outlet.")
    kind: OrderKind = OrderKind.ONLINE
    lines: list[OrderLine] = Field(min_length=1, max_length=200)
    pickup_at: AwareDatetime
    customer_name: str = Field(default="", max_length=120)
    customer_phone: str = Field(default="", max_length=16)
    note: str = Field(default="", max_length=500)
    request_hash: str = Field(
        default="", max_length=64, description="Fingerprint of the request that placed it."
    )
    attempt: WirePositive = Field(
        default=1, description="Asked again when inventory has not answered; same order."
    )


class OrderReserved(Payload):
    """Inventory holds every line at the pickup outlet."""

    order_id: Identifier
    outlet_id: Identifier
    lines: list[OrderLine]


class OrderRejected(Payload):
    """Inventory could not hold every line; nothing is held."""

    order_id: Identifier
    outlet_id: Identifier
    shortfall: list[Shortfall]


class OrderCancelled(Payload):
    """The order is cancelled; inventory releases what it held."""

    order_id: Identifier
    outlet_id: Identifier
    reason: str = Field(default="", max_length=300)


class OrderExpired(Payload):
    """The order was not picked up in time; inventory releases what it held."""

    order_id: Identifier
    outlet_id: Identifier


class OrderFailed(Payload):
    """No answer from inventory in time; inventory releases anything it held."""

    order_id: Identifier
    outlet_id: Identifier
    reason: str = Field(max_length=300)


class OrderFulfilled(Payload):
    """The order was picked up in full; the held units leave the outlet."""

    order_id: Identifier
    outlet_id: Identifier
