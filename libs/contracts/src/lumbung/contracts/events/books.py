"""Consignment money on `books.events` (issue 18), keyed by supplier_id: the statements
the forum issues to its producers, and the payments recorded against them; and on
`books.reports` (compacted), the retailers' report profiles and the reports imported.

A statement covers one supplier at one outlet for one period (a calendar month,
`YYYY-MM`, in the outlet's time zone). Its number is derived from those three, so issuing
it again is the same event. Amounts are whole rupiah; a line's commission is rounded to
whole rupiah half up.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from lumbung.contracts.bounds import (
    MAX_PERCENT,
    MAX_PRICE_IDR,
    Price,
    Units,
    WireCount,
    WireInt,
)
from lumbung.contracts.events.common import Identifier, Payload, Sku

Period = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
"""A calendar month, `YYYY-MM`."""
StatementNumber = Annotated[
    str, StringConstraints(min_length=1, max_length=160, pattern=r"^ST-[A-Za-z0-9._-]+$")
]


Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


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


class SentBackLine(Payload):
    """Units of one SKU the outlet sent back to the supplier in the period, for one reason:
    not sold, so no money; shown so the supplier can check what came home."""

    sku: Sku
    qty: WireCount
    reason: Code = Field(description="unsold, expired, damaged or other.")


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
    sent_back: list[SentBackLine] = Field(
        default_factory=list,
        max_length=5000,
        description="Goods the outlet sent back to the supplier in the period (not sold).",
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


# -- retailer sales reports on `books.reports` (compacted: the newest per key) -------------

MAX_REPORT_LINES = 5000
"""(day, SKU) lines one import may add: a month of 160 products at one store."""


class ReportColumns(Payload):
    """The header of the column in the retailer's file that holds each of Lumbung's fields
    (matched without regard to case): `barcode` or `plu`, or both, find the product."""

    store: Code
    date: Code
    qty: Code
    amount: Code
    plu: Code | None = None
    barcode: Code | None = None

    def named(self) -> dict[str, str]:
        """Lumbung's field -> its header, for the fields the file has."""
        return {name: header for name, header in self.model_dump().items() if header}


class ReportProfileSaved(Payload):
    """How one retailer's periodic sales report reads: which column holds what, and the
    retailer's store codes and PLUs in Lumbung's outlets and SKUs. Keyed
    `profile|<retailer>`; saving it again replaces it."""

    retailer: Code = Field(description="The retailer's id, e.g. `indomaret`.")
    columns: ReportColumns
    date_format: Code = Field(default="%d/%m/%Y", description="strptime format of `date`.")
    stores: dict[Code, Identifier] = Field(
        default_factory=dict,
        max_length=5000,
        description="The retailer's store code -> Lumbung's outlet id.",
    )
    plus: dict[Code, Sku] = Field(
        default_factory=dict, max_length=20000, description="The retailer's PLU -> Lumbung's SKU."
    )

    @model_validator(mode="after")
    def _columns_make_sense(self) -> ReportProfileSaved:
        named = self.columns.named()
        if "barcode" not in named and "plu" not in named:
            raise ValueError("columns: 'barcode' or 'plu' is needed to find the product")
        headers = [h.lower() for h in named.values()]
        if len(set(headers)) != len(headers):
            raise ValueError("columns: two fields read the same column")
        return self


class ReportLine(Payload):
    """What a report says of one product on one day at one store (its rows summed)."""

    day: date
    sku: Sku
    qty: Units
    amount_idr: Price


class ReportImported(Payload):
    """A retailer's report imported: its lines became sales on `pos.sales` (one sale per
    day, `RPT-…`, device `report:<retailer>`). Keyed `report|<report_id>`: importing the
    same report again writes nothing, a changed one is refused."""

    report_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="<retailer>|<store>|<period>: what identifies a report."
    )
    retailer: Code
    store: Code
    outlet_id: Identifier
    period_start: date
    period_end: date = Field(description="The period's last day, included.")
    digest: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="Fingerprint of the lines: the same lines, the same digest."
    )
    filename: str = Field(default="", max_length=200)
    lines: list[ReportLine] = Field(default_factory=list, max_length=MAX_REPORT_LINES)
    sale_ids: list[Identifier] = Field(default_factory=list, max_length=MAX_REPORT_LINES)
    rows_ok: WireCount = 0
    rows_flagged: WireCount = Field(
        default=0, description="Applied with a warning (more than the store held)."
    )
    rows_refused: WireCount = 0
