"""Consignment money on `books.events` (issue 18), keyed by supplier_id: the statements
the forum issues to its producers, and the payments recorded against them.

A statement covers one supplier at one outlet for one period (a calendar month,
`YYYY-MM`, in the outlet's time zone). Its number is derived from those three, so issuing
it again is the same event. Amounts are whole rupiah; a line's commission is rounded to
whole rupiah half up.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from lumbung.contracts.bounds import MAX_PERCENT, MAX_PRICE_IDR, Price, WireCount, WireInt
from lumbung.contracts.events.common import Identifier, Payload, Sku

Period = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
"""A calendar month, `YYYY-MM`."""
StatementNumber = Annotated[
    str, StringConstraints(min_length=1, max_length=160, pattern=r"^ST-[A-Za-z0-9._-]+$")
]


class StatementLine(Payload):
    """Units of one SKU at one price and one commission rate, and what they come to."""

    sku: Sku
    unit_price_idr: Price = Field(description="The price the units were sold at.")
    commission_percent: float = Field(
        ge=0, le=MAX_PERCENT, description="The outlet's rate in force on the days they sold."
    )
    sold: WireCount = Field(description="Units sold.")
    returned: WireCount = Field(description="Units that came back (returns and voids).")
    gross_idr: WireInt = Field(description="(sold - returned) x unit_price_idr.")
    commission_idr: WireInt = Field(
        description="gross_idr x commission_percent / 100, to whole rupiah half up."
    )
    net_idr: WireInt = Field(description="gross_idr - commission_idr: owed to the supplier.")


class StatementIssued(Payload):
    """A consignment statement issued to its supplier: the figures as they stood then."""

    number: StatementNumber
    period: Period
    supplier_id: Identifier
    outlet_id: Identifier
    lines: list[StatementLine] = Field(default_factory=list, max_length=5000)
    sold: WireCount
    returned: WireCount
    gross_idr: WireInt
    commission_idr: WireInt
    net_idr: WireInt = Field(description="Net payable to the supplier: the lines' sum.")
    refunds_idr: WireCount = Field(
        description="What the outlet refunded its customers for the returns (shown only)."
    )


class PaymentMethod(StrEnum):
    TRANSFER = "transfer"
    CASH = "cash"
    QRIS = "qris"
    OTHER = "other"


class PaymentRecorded(Payload):
    """A payment to a supplier against an issued statement."""

    payment_id: Identifier = Field(description="The payer's own id of this payment.")
    number: StatementNumber
    period: Period
    supplier_id: Identifier
    outlet_id: Identifier
    amount_idr: Annotated[int, Field(gt=0), Field(le=MAX_PRICE_IDR)] = Field(
        description="Whole rupiah paid."
    )
    paid_at: AwareDatetime
    method: PaymentMethod = PaymentMethod.TRANSFER
    note: str = Field(default="", max_length=300)
