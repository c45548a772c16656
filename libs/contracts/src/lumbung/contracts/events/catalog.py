"""Catalog entities as they travel on the compacted catalog topics.

Each message carries the whole entity (its latest state wins under compaction), keyed by
the entity's id, with a `version` that grows with every accepted write. Retiring is a
soft delete: the entity stays readable, since old sales still name it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, Field, StringConstraints, field_validator, model_validator

from lumbung.contracts.bounds import MAX_DAYS, MAX_PERCENT, WIRE_MAX, Price
from lumbung.contracts.events.common import Identifier, Payload, Sku

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{7,14}$")]
Email = Annotated[
    str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
]
WebUrl = Annotated[str, StringConstraints(max_length=2000, pattern=r"^https?://[^\s/?#]+[^\s]*$")]


class Channel(StrEnum):
    IKN_KIOSK = "ikn_kiosk"
    REST_AREA = "rest_area"
    INDOMARET = "indomaret"
    EVENT_BOOTH = "event_booth"
    ONLINE = "online"
    SOUVENIR_CENTER = "souvenir_center"


CONSIGNMENT_CHANNELS = frozenset({Channel.INDOMARET})


class Language(StrEnum):
    INDONESIAN = "id"
    ENGLISH = "en"


class Revision(Payload):
    """What every catalog entity carries besides its own fields."""

    version: int = Field(ge=1, le=WIRE_MAX, description="Grows by one with every accepted write.")
    retired: bool = Field(default=False, description="Soft-deleted: kept, but not offered.")
    changed_at: AwareDatetime


# -- products ---------------------------------------------------------------------------


class ProductDetails(Payload):
    name: Name
    supplier_id: Identifier
    category: Name
    unit: Annotated[str, StringConstraints(min_length=1, max_length=20)] = Field(
        description="pcs, pack, botol, kg, …"
    )
    price_idr: Price = Field(description="Price in whole rupiah.")
    barcode: Annotated[str, StringConstraints(pattern=r"^[0-9]{8,14}$")] | None = None
    halal_cert_no: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    pirt_no: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = Field(
        default=None, description="P-IRT home-industry food licence number."
    )
    active: bool = True


class ProductChanged(ProductDetails, Revision):
    """The whole product after a write, on `catalog.products`, keyed by SKU."""

    sku: Sku


# -- suppliers --------------------------------------------------------------------------


class ContactChannels(Payload):
    whatsapp: E164 | None = Field(default=None, description="WhatsApp number in E.164.")
    email: Email | None = None
    webhook_url: WebUrl | None = None


class SupplierDetails(Payload):
    name: Name
    owner_name: Name
    contacts: ContactChannels = ContactChannels()
    language: Language = Language.INDONESIAN
    restock_lead_time_days: int = Field(default=2, ge=0, le=MAX_DAYS)


class SupplierChanged(SupplierDetails, Revision):
    """The whole supplier (a UMKM producer) after a write, on `catalog.suppliers`."""

    supplier_id: Identifier


# -- outlets ----------------------------------------------------------------------------


class GeoPoint(Payload):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class TimeWindow(Payload):
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self

    def contains(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at


class AssortmentItem(Payload):
    sku: Sku
    price_idr: Price | None = Field(
        default=None, description="The outlet's own price; the product's price when absent."
    )


class OutletDetails(Payload):
    name: Name
    channel: Channel
    address: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    location: GeoPoint | None = None
    timezone: str = "Asia/Makassar"
    active_window: TimeWindow | None = Field(
        default=None, description="When the outlet sells; required for event booths."
    )
    commission_percent: float | None = Field(
        default=None,
        ge=0,
        le=MAX_PERCENT,
        description="Consignment commission; consignment channels.",
    )
    calendar_id: Identifier | None = None
    assortment: list[AssortmentItem] = Field(default_factory=list, max_length=2000)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _channel_rules(self) -> Self:
        if self.channel is Channel.EVENT_BOOTH and self.active_window is None:
            raise ValueError("an event booth needs an active_window")
        if self.channel in CONSIGNMENT_CHANNELS and self.commission_percent is None:
            raise ValueError(f"a {self.channel.value} outlet needs commission_percent")
        if self.channel not in CONSIGNMENT_CHANNELS and self.commission_percent is not None:
            raise ValueError("commission_percent applies only to consignment channels")
        skus = [item.sku for item in self.assortment]
        if len(skus) != len(set(skus)):
            raise ValueError("the assortment names a SKU twice")
        return self

    def open_at(self, moment: datetime) -> bool:
        return self.active_window is None or self.active_window.contains(moment)


class OutletChanged(OutletDetails, Revision):
    """The whole outlet after a write, on `catalog.outlets`, keyed by outlet id."""

    outlet_id: Identifier


# -- calendar ---------------------------------------------------------------------------


class Venue(Payload):
    name: Name
    location: GeoPoint | None = None


class CalendarEventDetails(TimeWindow):
    name: Name
    venues: list[Venue] = Field(default_factory=list, max_length=100)


class CalendarEventChanged(CalendarEventDetails, Revision):
    """The whole calendar event (e.g. Porprov Kaltim 2026), on `catalog.calendar`."""

    calendar_id: Identifier


# -- API keys ---------------------------------------------------------------------------


class KeyRole(StrEnum):
    OPS = "ops"
    OUTLET = "outlet"
    SUPPLIER = "supplier"


class ApiKeyChanged(Revision):
    """An API key's record on `auth.keys`, keyed by key id. Only the secret's hash."""

    key_id: Identifier
    role: KeyRole
    subject: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="The outlet or supplier the key acts for; `*` for ops."
    )
    secret_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    label: Annotated[str, StringConstraints(max_length=120)] = ""
