"""Restock requests (inventory → suppliers, `restock.events`) and suppliers' answers
(notifications → inventory, `restock.acks`), keyed by the receiving outlet."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from lumbung.contracts.bounds import Units, WireCount, WireInt, WirePositive
from lumbung.contracts.events.common import Identifier, Payload, Sku


class RestockRequested(Payload):
    """A request to the product's supplier: available stock reached the reorder point
    (par level minus available), or a stockout was predicted within the supplier's lead
    time (sized by the forecast, `reason` says how)."""

    restock_id: Identifier
    outlet_id: Identifier
    sku: Sku
    supplier_id: Identifier | None = Field(default=None, description="From the catalog.")
    suggested_qty: WirePositive = Field(description="Enough to bring available to par level.")
    available: WireInt
    reorder_point: WireCount
    par_level: WireCount
    reason: str = Field(
        default="",
        max_length=300,
        description="Why this quantity, in words (a forecast's request says what it covers).",
    )


class RestockSuggested(Payload):
    """A restock the forecast sized, held for ops to check before it goes to the supplier
    at `send_at` (or sooner, when ops send it): `RestockRequested` follows, with the
    quantity ops left or set."""

    restock_id: Identifier
    outlet_id: Identifier
    sku: Sku
    supplier_id: Identifier | None = None
    suggested_qty: WirePositive
    available: WireInt
    reason: str = Field(default="", max_length=300)
    send_at: AwareDatetime = Field(description="When it goes out unless ops send it first.")


class RestockClosed(Payload):
    """A restock request is closed by the receipt of the goods."""

    restock_id: Identifier
    outlet_id: Identifier
    sku: Sku
    received_qty: WireCount


class RestockOverdue(Payload):
    """An accepted restock whose arrival time passed with goods still on order: ops should
    call the supplier. Once per request and due time."""

    restock_id: Identifier
    outlet_id: Identifier
    sku: Sku
    on_order: WirePositive = Field(description="Units accepted and not received yet.")
    expected_at: AwareDatetime = Field(description="When the supplier said they would arrive.")


class RestockAccepted(Payload):
    """The supplier will deliver `qty` by `expected_at`."""

    restock_id: Identifier
    outlet_id: Identifier
    sku: Sku
    supplier_id: Identifier
    qty: Units
    expected_at: AwareDatetime


class RestockDeclined(Payload):
    """The supplier cannot deliver."""

    restock_id: Identifier
    outlet_id: Identifier
    sku: Sku
    supplier_id: Identifier
    reason: str = Field(default="", max_length=300)
