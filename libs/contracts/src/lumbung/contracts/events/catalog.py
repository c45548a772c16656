"""Catalog entities as they travel on the compacted catalog topics.

Each message carries the whole entity (its latest state wins under compaction), keyed by
the entity's id, with a `version` that grows with every accepted write. Retiring is a
soft delete: the entity stays readable, since old sales still name it.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from math import asin, cos, radians, sin, sqrt
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AwareDatetime,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from lumbung.contracts.bounds import (
    MAX_DAYS,
    MAX_PACK_SIZE,
    MAX_PERCENT,
    WIRE_MAX,
    Price,
    Units,
    Visitors,
)
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


class SalesSource(StrEnum):
    POS = "pos"
    """Each sale as it happens, through the ingest or the outlet client."""
    RETAILER_REPORT = "retailer_report"
    """A retailer's periodic report of what its own tills sold (issue 18)."""


class Weekday(StrEnum):
    MONDAY = "mon"
    TUESDAY = "tue"
    WEDNESDAY = "wed"
    THURSDAY = "thu"
    FRIDAY = "fri"
    SATURDAY = "sat"
    SUNDAY = "sun"

    @classmethod
    def of(cls, day: date) -> Weekday:
        return WEEK[day.weekday()]


WEEK = tuple(Weekday)
"""Monday first, as `date.weekday()` counts."""


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
    pack_size: int = Field(
        default=1,
        ge=1,
        le=MAX_PACK_SIZE,
        description="Units the supplier delivers in one pack; restocks are whole packs.",
    )

    cost_idr: Price | None = Field(
        default=None,
        description="What one unit costs the producer to make, in whole rupiah (issue 18): "
        "stock valued at cost, margins.",
    )

    def in_packs(self, units: int) -> int:
        """`units` rounded up to whole packs: what a restock of `units` asks for."""
        return -(-max(units, 0) // self.pack_size) * self.pack_size


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
    delivery_days: list[Weekday] = Field(
        default_factory=lambda: list(WEEK),
        min_length=1,
        max_length=len(WEEK),
        description="The weekdays the supplier delivers on, Monday first.",
    )
    weekly_capacity: Units | None = Field(
        default=None,
        description="The most units the supplier delivers in a week, to all outlets together; "
        "no limit when absent.",
    )
    takes_back_leftovers: bool = Field(
        default=False,
        description="The producer takes its goods back when a booth closes (issue 21), "
        "rather than have them go to the booth's home outlet.",
    )

    @field_validator("delivery_days")
    @classmethod
    def _each_day_once(cls, days: list[Weekday]) -> list[Weekday]:
        twice = sorted({d for d in days if days.count(d) > 1}, key=WEEK.index)
        if twice:
            listed = ", ".join(d.value for d in twice)
            raise ValueError(f"{listed} {'is' if len(twice) == 1 else 'are'} listed twice")
        # One spelling per set of days: "thu,mon" and "mon,thu" are the same supplier.
        return sorted(days, key=WEEK.index)

    def delivers_on(self, day: date) -> bool:
        """Whether the supplier delivers on `day`, a date as the outlet's calendar has it."""
        return Weekday.of(day) in self.delivery_days


class SupplierChanged(SupplierDetails, Revision):
    """The whole supplier (a UMKM producer) after a write, on `catalog.suppliers`."""

    supplier_id: Identifier


# -- outlets ----------------------------------------------------------------------------


EARTH_RADIUS_KM = 6371.0088
"""The mean radius: the haversine distance on it is within 0.5 % of the true one."""


class GeoPoint(Payload):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)

    def km_to(self, other: GeoPoint) -> float:
        """The great-circle (haversine) distance in kilometres."""
        dlat, dlon = radians(other.lat - self.lat), radians(other.lon - self.lon)
        h = (
            sin(dlat / 2) ** 2
            + cos(radians(self.lat)) * cos(radians(other.lat)) * sin(dlon / 2) ** 2
        )
        return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))


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


class CommissionRate(Payload):
    """A consignment commission in force from a day on (in the outlet's time zone)."""

    effective_from: date
    percent: float = Field(ge=0, le=MAX_PERCENT)


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
    commission_history: list[CommissionRate] = Field(
        default_factory=list,
        max_length=500,
        description="Earlier and current commission rates by the day they took effect, "
        "oldest first (issue 18); a sale pays the rate in force on its day. The catalog "
        "appends a rate when `commission_percent` changes.",
    )
    calendar_id: Identifier | None = None
    assortment: list[AssortmentItem] = Field(default_factory=list, max_length=2000)
    home_outlet_id: Identifier | None = Field(
        default=None,
        description="Where an event booth's leftovers go when its window closes (issue 21).",
    )
    sales_source: SalesSource = Field(
        default=SalesSource.POS,
        description="How its sales reach Lumbung: `pos` (live, as they happen) or "
        "`retailer_report` (a retailer's periodic report); only live sales are forecast.",
    )

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

    def commission_on(self, day: date) -> float | None:
        """The commission in force on `day`: the latest rate of the history that took
        effect by then (the oldest one for a day before them all), or `commission_percent`
        when there is no history."""
        history = sorted(self.commission_history, key=lambda r: r.effective_from)
        if not history:
            return self.commission_percent
        rate = history[0].percent
        for entry in history:
            if entry.effective_from <= day:
                rate = entry.percent
        return rate


class OutletChanged(OutletDetails, Revision):
    """The whole outlet after a write, on `catalog.outlets`, keyed by outlet id."""

    outlet_id: Identifier


# -- calendar ---------------------------------------------------------------------------


class Venue(Payload):
    name: Name
    location: GeoPoint | None = None


class SessionKind(StrEnum):
    MATCH = "match"
    CEREMONY = "ceremony"
    OTHER = "other"


class Session(TimeWindow):
    """One part of a calendar event at one of its venues: a match, a ceremony."""

    name: Name
    venue: Name = Field(description="The name of one of the event's venues.")
    kind: SessionKind = SessionKind.OTHER
    expected_visitors: Visitors | None = None


class CalendarEventDetails(TimeWindow):
    name: Name
    venues: list[Venue] = Field(default_factory=list, max_length=100)
    expected_visitors: Visitors | None = Field(
        default=None, description="Visitors expected over the whole event."
    )
    sessions: list[Session] = Field(
        default_factory=list,
        max_length=500,
        description="Matches, ceremonies, …; each at one of the venues, inside the event.",
    )

    @field_validator("sessions")
    @classmethod
    def _sessions_at_venues_inside_the_event(
        cls, sessions: list[Session], info: ValidationInfo
    ) -> list[Session]:
        # The fields declared before `sessions`, where they were valid.
        venues = {venue.name for venue in info.data.get("venues", [])}
        starts_at, ends_at = info.data.get("starts_at"), info.data.get("ends_at")
        for session in sessions:
            if "venues" in info.data and session.venue not in venues:
                raise ValueError(
                    f"session {session.name!r} is at {session.venue!r}, "
                    "which is not one of the event's venues"
                )
            inside = (
                starts_at is None
                or ends_at is None
                or (starts_at <= session.starts_at and session.ends_at <= ends_at)
            )
            if not inside:
                raise ValueError(
                    f"session {session.name!r} ({session.starts_at.isoformat()} to "
                    f"{session.ends_at.isoformat()}) is not inside the event"
                )
        return sessions

    def sessions_near(self, location: GeoPoint, within_km: float) -> list[Session]:
        """The sessions at venues within `within_km` of `location`, earliest first. A venue
        without a location is never near."""
        near = {
            venue.name
            for venue in self.venues
            if venue.location is not None and venue.location.km_to(location) <= within_km
        }
        return sorted((s for s in self.sessions if s.venue in near), key=lambda s: s.starts_at)


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
