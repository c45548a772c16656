from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from lumbung.contracts.bounds import Price, Units
from lumbung.contracts.events.common import Identifier, Payload, Sku


class SaleLine(Payload):
    """One product line of a sale."""

    sku: Sku = Field(description="The product's SKU as the catalog knows it.")
    qty: Units = Field(description="Units sold; always more than zero.")
    unit_price_idr: Price = Field(description="Price of one unit in whole rupiah.")


class SaleRecorded(Payload):
    """A sale that happened at an outlet's point of sale: a fact, never rejected."""

    sale_id: Identifier = Field(description="The outlet's own id of the sale, unique per outlet.")
    outlet_id: Identifier = Field(description="The outlet where the sale happened.")
    lines: list[SaleLine] = Field(min_length=1, max_length=500)
    sold_at: AwareDatetime = Field(description="When the sale happened, with its UTC offset.")
    receipt_no: str | None = Field(default=None, max_length=64)
    device_id: str | None = Field(default=None, max_length=64)


class ReturnKind(StrEnum):
    RETURN = "return"
    VOID = "void"


class ReturnDisposition(StrEnum):
    """Where returned goods go."""

    RESTOCK = "restock"
    """Back on the shelf: available to sell again."""
    DAMAGED = "damaged"
    """Back, but not fit to sell: booked in and written off as damaged at once."""


class SaleReturned(Payload):
    """Units of a sale came back (a customer return) or a sale was voided at the POS.

    A return names its sale and brings back at most what that sale sold, less what was
    already returned; a void cancels the whole sale, within the void window counted from
    the sale's `sold_at` to `returned_at`. The inventory worker refuses anything else with
    `inventory.ReturnRefused` and changes no stock."""

    return_id: Identifier = Field(description="The outlet's own id of this return or void.")
    sale_id: Identifier = Field(description="The sale it reverses.")
    outlet_id: Identifier
    kind: ReturnKind = ReturnKind.RETURN
    lines: list[SaleLine] = Field(min_length=1, max_length=500)
    returned_at: AwareDatetime
    refund_idr: Price | None = Field(
        default=None,
        description="What the customer got back, in whole rupiah; the lines' qty times "
        "unit_price_idr when absent.",
    )
    disposition: ReturnDisposition = Field(
        default=ReturnDisposition.RESTOCK,
        description="`restock`: back into available stock; `damaged`: written off.",
    )

    def refund(self) -> int:
        return (
            self.refund_idr
            if self.refund_idr is not None
            else sum(line.qty * line.unit_price_idr for line in self.lines)
        )
