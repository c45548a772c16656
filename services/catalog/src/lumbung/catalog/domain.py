"""The catalog's rules, in plain Python: what kinds of entity there are, how a write
becomes the next revision (an outlet's with its commission history), and which references
must exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from lumbung.contracts.events.catalog import (
    CONSIGNMENT_CHANNELS,
    CalendarEventChanged,
    CalendarEventDetails,
    CommissionRate,
    KeyRole,
    OutletChanged,
    OutletDetails,
    ProductChanged,
    ProductDetails,
    Revision,
    SupplierChanged,
    SupplierDetails,
)
from lumbung.contracts.events.common import Payload


@dataclass(frozen=True)
class Kind:
    name: str
    plural: str
    topic: str
    id_field: str
    details: type[Payload]
    changed: type[Revision]

    def id_of(self, entity: Revision) -> str:
        return str(getattr(entity, self.id_field))


PRODUCT = Kind("product", "products", "catalog.products", "sku", ProductDetails, ProductChanged)
SUPPLIER = Kind(
    "supplier", "suppliers", "catalog.suppliers", "supplier_id", SupplierDetails, SupplierChanged
)
OUTLET = Kind("outlet", "outlets", "catalog.outlets", "outlet_id", OutletDetails, OutletChanged)
CALENDAR = Kind(
    "calendar event",
    "events",
    "catalog.calendar",
    "calendar_id",
    CalendarEventDetails,
    CalendarEventChanged,
)
KINDS = (PRODUCT, SUPPLIER, OUTLET, CALENDAR)


class CatalogError(Exception):
    """Base of the catalog's refusals; each maps to one HTTP status in the API."""


class NotFound(CatalogError):
    def __init__(self, kind: Kind, entity_id: str) -> None:
        super().__init__(f"no {kind.name} {entity_id!r}")


class StaleVersion(CatalogError):
    def __init__(self, kind: Kind, entity_id: str, expected: int, actual: int) -> None:
        self.actual = actual
        super().__init__(
            f"{kind.name} {entity_id!r} is at version {actual}, not {expected}: "
            "read it again and retry"
        )


class InvalidField(CatalogError):
    """A write refused for one of its fields, named in `field` (`commission_history.1.percent`)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


class BadReference(InvalidField):
    """A field that names an entity the catalog does not hold (or no longer offers)."""


def next_revision(
    kind: Kind,
    entity_id: str,
    details: Payload,
    current: Revision | None,
    if_match: int | None,
    now: datetime,
    *,
    retired: bool = False,
) -> Revision:
    """The entity after this write, or StaleVersion when the writer saw an older one.

    A write stores `details` as `as_stored` settles them (InvalidField when they do not
    hold together); a retirement stores the entity as it was.
    """
    stored = details if retired else as_stored(details, current, now)
    actual = current.version if current is not None else 0
    if if_match is not None and if_match != actual:
        raise StaleVersion(kind, entity_id, if_match, actual)
    fields: dict[str, Any] = stored.model_dump()
    fields.update(
        {kind.id_field: entity_id, "version": actual + 1, "retired": retired, "changed_at": now}
    )
    return kind.changed.model_validate(fields)


def as_stored(details: Payload, current: Revision | None, now: datetime) -> Payload:
    """What a write stores: an outlet's with its commission history settled; any other
    entity as written."""
    if isinstance(details, OutletDetails):
        return with_commission_history(
            details, current if isinstance(current, OutletChanged) else None, now
        )
    return details


HISTORY = "commission_history"


def with_commission_history(
    written: OutletDetails, current: OutletChanged | None, now: datetime
) -> OutletDetails:
    """The outlet with the history to store.

    A history the write carries is ops correcting it: stored as given, once it holds
    together. Otherwise the stored one is kept, and a new `commission_percent` takes
    effect today in the outlet's time zone. A write that sends back the stored history
    unchanged (a client that read the outlet and changed its rate) has not touched it.
    """
    today = now.astimezone(ZoneInfo(written.timezone)).date()
    stored = current.commission_history if current is not None else []
    given = written.commission_history
    if HISTORY in written.model_fields_set and given and given != stored:
        _check_history(written, today)
        return written
    if written.channel not in CONSIGNMENT_CHANNELS or written.commission_percent is None:
        history: list[CommissionRate] = []
    else:
        was = current.commission_percent if current is not None else None
        history = list(stored)
        if not history and current is not None and was is not None:
            # Stored before outlets had a history: its rate was in force at its last write.
            since = current.changed_at.astimezone(ZoneInfo(current.timezone)).date()
            history = [CommissionRate(effective_from=since, percent=was)]
        if written.commission_percent != was:
            history = _rate_from(history, today, written.commission_percent)
    return written.model_copy(update={HISTORY: history})


def _rate_from(history: list[CommissionRate], day: date, percent: float) -> list[CommissionRate]:
    """`history` with `percent` in force from `day`: a change later the same day replaces
    that day's, and one back to the rate before it leaves no entry of its own."""
    kept = [rate for rate in history if rate.effective_from < day]
    if kept and kept[-1].percent == percent:
        return kept
    return [*kept, CommissionRate(effective_from=day, percent=percent)]


def _check_history(outlet: OutletDetails, today: date) -> None:
    history = outlet.commission_history
    if outlet.channel not in CONSIGNMENT_CHANNELS:
        raise InvalidField(
            HISTORY,
            f"{HISTORY}: an outlet of channel {outlet.channel.value} takes no commission, so "
            "it has no commission history; only consignment outlets (indomaret) do",
        )
    for i, (before, after) in enumerate(pairwise(history), 1):
        if after.effective_from <= before.effective_from:
            raise InvalidField(
                f"{HISTORY}.{i}.effective_from",
                f"{HISTORY}.{i}.effective_from: {after.effective_from} is not after "
                f"{before.effective_from}; the rates go oldest first, at most one a day",
            )
    last = len(history) - 1
    if history[last].effective_from > today:
        raise InvalidField(
            f"{HISTORY}.{last}.effective_from",
            f"{HISTORY}.{last}.effective_from: {history[last].effective_from} is after today "
            f"({today} in {outlet.timezone}); a rate is written on the day it takes effect",
        )
    if history[last].percent != outlet.commission_percent:
        raise InvalidField(
            f"{HISTORY}.{last}.percent",
            f"{HISTORY}.{last}.percent: the last rate is {history[last].percent:g} %, but "
            f"commission_percent is {outlet.commission_percent:g} %; they must agree "
            f"(leave {HISTORY} out to have the new rate start today)",
        )


def details_of(kind: Kind, entity: Revision) -> Payload:
    return kind.details.model_validate(entity.model_dump())


PUBLIC_SUPPLIER_FIELDS = ("supplier_id", "name", "retired")
"""What anyone with a key may read of a supplier. The owner's name and the contacts are
personal data (OWASP API3): whole only to ops and to the supplier itself."""

PRIVATE_PRODUCT_FIELDS = ("cost_idr",)
"""What only ops and the product's own supplier read of a product: what it costs to make
is the producer's business, not the business of the store that sells it."""


def shown_to(kind: Kind, entity: Revision, role: KeyRole, subject: str) -> dict[str, Any]:
    """The entity as a caller with `role` acting for `subject` may read it."""
    whole = entity.model_dump(mode="json")
    if role is KeyRole.OPS or kind not in (SUPPLIER, PRODUCT):
        return whole
    owner = whole["supplier_id"]
    if role is KeyRole.SUPPLIER and subject == owner:
        return whole
    if kind is PRODUCT:
        return {name: v for name, v in whole.items() if name not in PRIVATE_PRODUCT_FIELDS}
    return {name: whole[name] for name in PUBLIC_SUPPLIER_FIELDS}
