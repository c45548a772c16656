from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, Field

from lumbung.contracts.bounds import (
    MAX_UNITS,
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


class Batched(Payload):
    """A batch code and best-before date units may carry (issue 21): P-IRT snacks, honey
    and coffee have them. Sales take stock first-expired-first-out, and units past their
    best-before date are not available until written off."""

    batch_code: Identifier | None = Field(default=None, description="The producer's lot.")
    best_before: date | None = Field(
        default=None, description="Good through this day; expired from the next."
    )


class CountedLine(Batched):
    """A SKU counted; with a batch, the units of that batch (a SKU may be listed once per
    batch, and its count is then the lines' sum)."""

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


class TransferLine(Batched):
    sku: Sku
    qty: Units


class TransferRequested(Payload):
    """Move stock between outlets; keyed by the source, which dispatches it."""

    transfer_id: Identifier
    from_outlet_id: Identifier
    to_outlet_id: Identifier
    lines: list[TransferLine] = Field(min_length=1, max_length=500)


class TransferArrived(Payload):
    """What reached the destination, as it counted it, keyed by the destination (issue 21;
    before it, the source's worker wrote it at once with the units sent). A line left out
    arrived with none. The difference from what was dispatched is booked as lost or found."""

    transfer_id: Identifier
    from_outlet_id: Identifier
    to_outlet_id: Identifier
    lines: list[TransferLine] = Field(min_length=1, max_length=500)
    received_at: AwareDatetime | None = Field(
        default=None, description="When the destination counted it (issue 21)."
    )


class TransferDispatched(Payload):
    """The source sent the units: they are in transit to the destination, which expects
    them by `expected_at`, until it counts what arrived (`TransferArrived`). Written by the
    source's worker, keyed by the destination."""

    transfer_id: Identifier
    from_outlet_id: Identifier
    to_outlet_id: Identifier
    lines: list[TransferLine] = Field(min_length=1, max_length=500)
    dispatched_at: AwareDatetime
    expected_at: AwareDatetime = Field(
        description="From the outlets' distance at the travel speed setting, plus handling."
    )


class RestockReceived(Payload):
    """Goods delivered to an outlet: the quantity actually received."""

    receipt_id: Identifier
    outlet_id: Identifier
    sku: Sku
    qty: Units
    restock_id: Identifier | None = Field(default=None, description="The request it answers.")
    batch_code: Identifier | None = Field(default=None, description="The producer's lot.")
    best_before: date | None = Field(
        default=None, description="Good through this day; expired from the next (issue 21)."
    )


class RestockQuantitySet(Payload):
    """Ops set the quantity of a restock the forecast suggested, before it goes out (and
    may send it at once)."""

    outlet_id: Identifier
    sku: Sku
    restock_id: Identifier
    qty: Units
    send_now: bool = False


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


# -- foresight on `inventory.alerts` (issue 17), keyed by outlet_id -----------------------


class StockoutPredicted(Payload):
    """At the pace it sells, a product will run out at an outlet before its supplier could
    bring more: once per episode, until `StockoutCleared` (or the stockout itself)."""

    prediction_id: Identifier = Field(description="The episode; its clearing names it.")
    outlet_id: Identifier
    sku: Sku
    supplier_id: Identifier | None = None
    available: WireInt
    on_order: WireCount = Field(default=0, description="Units accepted and not received yet.")
    expected_at: AwareDatetime = Field(description="When it runs out, as forecast.")
    units_per_hour: float = Field(ge=0, le=MAX_UNITS, description="The pace it sells at now.")
    lead_time_hours: WireCount = Field(description="What the supplier needs to deliver.")
    reason: str = Field(max_length=300, description="The forecast in words.")


class ClearedBy(StrEnum):
    RESTOCK = "restock"
    """More came in: a receipt, a transfer, a count."""
    ON_ORDER = "on_order"
    """Enough is on order and due before it would run out."""
    SLOWER_SALES = "slower_sales"
    UNKNOWN_PACE = "unknown_pace"
    """The outlet went silent, or its window closed: nothing to forecast from."""


class StockoutCleared(Payload):
    """A predicted stockout no longer expected within the supplier's lead time."""

    prediction_id: Identifier
    outlet_id: Identifier
    sku: Sku
    cleared_by: ClearedBy
    available: WireInt
    expected_at: AwareDatetime | None = Field(
        default=None, description="When it runs out now, if within the forecast's reach."
    )


# -- consignment money on `inventory.alerts` (issue 18), keyed by outlet_id --------------


class ReturnRefusal(StrEnum):
    SALE_UNKNOWN = "sale_unknown"
    """The worker remembers no such sale at the outlet (never sold, or past the horizon)."""
    MORE_THAN_SOLD = "more_than_sold"
    """More units than the sale sold, less what was already returned."""
    VOID_TOO_LATE = "void_too_late"
    """A void later than the void window after the sale's `sold_at`."""
    VOID_NOT_WHOLE = "void_not_whole"
    """A void must cancel everything the sale has left; use a return for part of it."""


class ReturnRefused(Payload):
    """A return or void the worker did not apply: no stock changed, no money moves."""

    return_id: Identifier
    sale_id: Identifier
    outlet_id: Identifier
    kind: str = Field(max_length=16, description="`return` or `void`.")
    reason: ReturnRefusal
    message: str = Field(max_length=300)


class PriceFlagged(Payload):
    """A sale line sold at a price that differs from the outlet's by more than the
    tolerance: the sale stands (it is a fact), and ops are told."""

    outlet_id: Identifier
    sale_id: Identifier
    sku: Sku
    qty: WireCount
    unit_price_idr: WireCount = Field(description="The price the sale carried.")
    outlet_price_idr: WireCount = Field(description="The outlet's price in the catalog.")
    difference_percent: float = Field(ge=-100, le=MAX_UNITS)
    tolerance_percent: float = Field(ge=0, le=100)
    sold_at: AwareDatetime


class TransferOverdue(Payload):
    """A transfer not received by its expected time: ops should call the destination."""

    transfer_id: Identifier
    from_outlet_id: Identifier
    to_outlet_id: Identifier
    lines: list[TransferLine] = Field(min_length=1, max_length=500)
    expected_at: AwareDatetime


class SendBackReason(StrEnum):
    UNSOLD = "unsold"
    EXPIRED = "expired"
    DAMAGED = "damaged"
    OTHER = "other"


class GoodsSentBack(Payload):
    """Consigned goods an outlet sends back to their producer (unsold, expired, damaged):
    they leave the outlet's stock, and the producer's statement shows them as sent back,
    never as sold. Keyed by the outlet."""

    sendback_id: Identifier
    outlet_id: Identifier
    lines: list[TransferLine] = Field(min_length=1, max_length=500)
    reason: SendBackReason = SendBackReason.UNSOLD
    sent_at: AwareDatetime
    note: str = Field(default="", max_length=300)


class ExpiryKind(StrEnum):
    SOON = "soon"
    """Its best-before date is within the alert's days: sell it first, or move it."""
    EXPIRED = "expired"
    """Past its best-before date: no longer available; write it off (an adjustment,
    reason `expired`) once it is off the shelf."""


class ExpiryAlert(Payload):
    """A batch of a product at an outlet nears or passes its best-before date (issue 21),
    once per batch and kind. On `inventory.alerts`, keyed by the outlet."""

    kind: ExpiryKind
    outlet_id: Identifier
    sku: Sku
    batch_code: Identifier | None = None
    best_before: date
    qty: WireCount = Field(description="Units of the batch at the outlet.")
    message: str = Field(default="", max_length=300)


# -- booth close-out (issue 21) ----------------------------------------------------------


class BoothClosed(Payload):
    """A booth's closing count, once its window has closed (a command on
    `inventory.commands`, keyed by the booth): on hand becomes what was counted, the
    difference booked as a count, and the leftovers go home: back to the producers who
    asked for their goods back (`SupplierDetails.takes_back_leftovers`, as
    `GoodsSentBack`), the rest as one transfer to the booth's home outlet
    (`OutletDetails.home_outlet_id`). A SKU left out of the count is taken as booked."""

    close_id: Identifier
    outlet_id: Identifier
    lines: list[CountedLine] = Field(default_factory=list, max_length=5000)
    closed_at: AwareDatetime


class CloseOutDue(Payload):
    """A booth's window has closed with stock on its books: Lumbung asks for its closing
    count (`BoothClosed`), once per window. On `inventory.alerts`."""

    outlet_id: Identifier
    window_ends_at: AwareDatetime
    skus: WireCount = Field(description="SKUs with units on the booth's books.")
    units: WireInt = Field(description="Units on the booth's books, all SKUs together.")
    message: str = Field(default="", max_length=300)


class LeftoversTo(StrEnum):
    HOME = "home"
    """A transfer to the booth's home outlet."""
    PRODUCER = "producer"
    """Back to the producer, who asked for its goods back."""
    STAYS = "stays"
    """Nowhere to go: the booth names no home outlet."""
    NONE = "none"
    """Nothing left over."""


class CloseOutLine(Payload):
    sku: Sku
    sold: WireInt = Field(description="Units sold since the booth opened, less returns.")
    revenue_idr: WireInt = Field(description="What those sales brought, in rupiah.")
    left_over: WireCount = Field(description="Units left after the closing count.")
    difference: WireInt = Field(description="Counted less booked: short is negative.")
    stockout_minutes: WireCount = Field(description="Minutes it was out while the booth sold.")
    leftovers_to: LeftoversTo
    destination_id: Identifier | None = Field(
        default=None, description="The home outlet or the supplier the leftovers go to."
    )


class BoothClosedOut(Payload):
    """The close-out report of a booth (issue 21): per product what it sold, what was
    left and where it goes, and how long it was out. On `inventory.alerts`, keyed by the
    booth."""

    close_id: Identifier
    outlet_id: Identifier
    closed_at: AwareDatetime
    window_starts_at: AwareDatetime | None = None
    window_ends_at: AwareDatetime | None = None
    lines: list[CloseOutLine] = Field(default_factory=list, max_length=5000)
    revenue_idr: WireInt = Field(description="All the lines' revenue together.")
    transfer_id: Identifier | None = Field(
        default=None, description="The transfer taking the leftovers home, if any."
    )


def outlet_key(data: Payload) -> str:
    """The outlet an event about an outlet's stock is keyed by (`pos.sales`,
    `inventory.commands`, `inventory.alerts`): a transfer's source until it is dispatched,
    its destination from then on; every other event's own `outlet_id`."""
    match data:
        case TransferRequested():
            return str(data.from_outlet_id)
        case TransferArrived() | TransferDispatched() | TransferOverdue():
            return str(data.to_outlet_id)
        case _:
            return str(data.outlet_id)  # type: ignore[attr-defined]
