from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from lumbung.contracts.bounds import (
    Count,
    Units,
    UnitsDelta,
    WireCount,
    WireInt,
    WirePositive,
)
from lumbung.contracts.events.common import Identifier, Payload, Sku


class StockChanged(Payload):
    """The new stock of one product at one outlet after a change."""

    outlet_id: Identifier
    sku: Sku
    on_hand: WireInt = Field(
        description="Units physically at the outlet; negative marks a discrepancy."
    )
    reserved: WireCount = Field(description="Units held for orders.")
    available: WireInt = Field(description="on_hand minus reserved.")
    delta: WireInt = Field(description="Change of on_hand that this event records.")
    reason: str = Field(min_length=1, max_length=64, description="What changed it, e.g. sale.")
    version: WireCount = Field(
        description="Grows with every change of this (outlet, SKU); read models keep the newest."
    )


# -- commands on `inventory.commands`, keyed by the outlet whose stock they change ------


class CountKind(StrEnum):
    OPENING = "opening"
    FULL = "full"
    SPOT = "spot"


class CountedLine(Payload):
    sku: Sku
    counted: Count


class StockCounted(Payload):
    """A physical count: on hand becomes the counted number; the difference is recorded."""

    count_id: Identifier
    outlet_id: Identifier
    kind: CountKind = CountKind.SPOT
    lines: list[CountedLine] = Field(min_length=1, max_length=5000)
    counted_at: AwareDatetime


class AdjustmentReason(StrEnum):
    DAMAGED = "damaged"
    EXPIRED = "expired"
    LOST = "lost"
    FOUND = "found"
    OTHER = "other"


class StockAdjusted(Payload):
    """A correction of on hand with its reason (damaged, expired, lost, found)."""

    adjustment_id: Identifier
    outlet_id: Identifier
    sku: Sku
    delta: UnitsDelta = Field(description="Units added (found) or removed (damaged, lost…); not 0.")
    reason: AdjustmentReason
    note: str = Field(default="", max_length=300)


class TransferLine(Payload):
    sku: Sku
    qty: Units


class TransferRequested(Payload):
    """Move stock between outlets; keyed by the source, which dispatches it."""

    transfer_id: Identifier
    from_outlet_id: Identifier
    to_outlet_id: Identifier
    lines: list[TransferLine] = Field(min_length=1, max_length=500)


class TransferArrived(Payload):
    """Written by the source's worker, keyed by the destination, which receives it."""

    transfer_id: Identifier
    from_outlet_id: Identifier
    to_outlet_id: Identifier
    lines: list[TransferLine] = Field(min_length=1, max_length=500)


class RestockReceived(Payload):
    """Goods delivered to an outlet: the quantity actually received."""

    receipt_id: Identifier
    outlet_id: Identifier
    sku: Sku
    qty: Units
    restock_id: Identifier | None = Field(default=None, description="The request it answers.")


class StockLevelsSet(Payload):
    """Set when to ask for a restock (reorder point) and how far to fill (par level)."""

    outlet_id: Identifier
    sku: Sku
    reorder_point: Count
    par_level: Count


# -- answers to orders on `inventory.reservations`, keyed by order_id ---------------------


class ReservedLine(Payload):
    sku: Sku
    qty: WirePositive


class StockReserved(Payload):
    """Every line of the order is held at its pickup outlet."""

    order_id: Identifier
    outlet_id: Identifier
    lines: list[ReservedLine]


class Shortfall(Payload):
    sku: Sku
    requested: WirePositive
    available: WireInt
    missing: WirePositive


class ReservationRejected(Payload):
    """Not every line could be held; nothing is held. Lists what was short."""

    order_id: Identifier
    outlet_id: Identifier
    shortfall: list[Shortfall]


# -- alerts on `inventory.alerts`, keyed by outlet_id ------------------------------------


class AlertKind(StrEnum):
    LOW_STOCK = "low_stock"
    OUT_OF_STOCK = "out_of_stock"
    BACK_IN_STOCK = "back_in_stock"
    NEGATIVE_STOCK = "negative_stock"
    UNKNOWN_SKU = "unknown_sku"


class StockAlertRaised(Payload):
    """Something about one product at one outlet that a person should know."""

    alert: AlertKind
    outlet_id: Identifier
    sku: Sku
    on_hand: WireInt
    available: WireInt
    reorder_point: WireCount = 0
    message: str = Field(default="", max_length=300)
