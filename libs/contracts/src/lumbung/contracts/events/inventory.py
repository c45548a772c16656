from __future__ import annotations

from pydantic import Field

from lumbung.contracts.events.common import Identifier, NonNegativeInt, Payload, Sku


class StockChanged(Payload):
    """The new stock of one product at one outlet after a change."""

    outlet_id: Identifier
    sku: Sku
    on_hand: int = Field(
        description="Units physically at the outlet; negative marks a discrepancy."
    )
    reserved: NonNegativeInt = Field(description="Units held for orders.")
    available: int = Field(description="on_hand minus reserved.")
    delta: int = Field(description="Change of on_hand that this event records.")
    reason: str = Field(min_length=1, max_length=64, description="What changed it, e.g. sale.")
    version: NonNegativeInt = Field(
        description="Grows with every change of this (outlet, SKU); read models keep the newest."
    )
