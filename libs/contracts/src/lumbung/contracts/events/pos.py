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


class SaleReturned(Payload):
    """Units of a sale came back (a customer return) or a sale was voided at the POS."""

    return_id: Identifier = Field(description="The outlet's own id of this return or void.")
    sale_id: Identifier = Field(description="The sale it reverses.")
    outlet_id: Identifier
    kind: ReturnKind = ReturnKind.RETURN
    lines: list[SaleLine] = Field(min_length=1, max_length=500)
    returned_at: AwareDatetime
