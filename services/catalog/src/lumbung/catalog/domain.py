"""The catalog's rules, in plain Python: what kinds of entity there are, how a write
becomes the next revision, and which references must exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lumbung.contracts.events.catalog import (
    CalendarEventChanged,
    CalendarEventDetails,
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


class BadReference(CatalogError):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


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
    """The entity after this write, or StaleVersion when the writer saw an older one."""
    actual = current.version if current is not None else 0
    if if_match is not None and if_match != actual:
        raise StaleVersion(kind, entity_id, if_match, actual)
    fields: dict[str, Any] = details.model_dump()
    fields.update(
        {kind.id_field: entity_id, "version": actual + 1, "retired": retired, "changed_at": now}
    )
    return kind.changed.model_validate(fields)


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
