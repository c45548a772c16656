"""Lumbung's event contracts: envelope, payload models, topic registry, JSON Schemas."""

from lumbung.contracts.envelope import ContractError, Envelope, encode, loads
from lumbung.contracts.events.catalog import (
    ApiKeyChanged,
    CalendarEventChanged,
    Channel,
    KeyRole,
    OutletChanged,
    ProductChanged,
    SupplierChanged,
)
from lumbung.contracts.events.inventory import StockChanged
from lumbung.contracts.events.pos import SaleLine, SaleRecorded
from lumbung.contracts.ids import (
    command_event_id,
    derived_event_id,
    derived_event_text,
    new_event_id,
    sale_event_id,
)
from lumbung.contracts.registry import (
    DEFAULT,
    EVENTS,
    OUTLET_PARTITIONS,
    TOPICS,
    Cleanup,
    EventSpec,
    Registry,
    Service,
    TopicSpec,
    event_json,
    make_event,
)

__all__ = [
    "DEFAULT",
    "EVENTS",
    "OUTLET_PARTITIONS",
    "TOPICS",
    "ApiKeyChanged",
    "CalendarEventChanged",
    "Channel",
    "Cleanup",
    "ContractError",
    "Envelope",
    "EventSpec",
    "KeyRole",
    "OutletChanged",
    "ProductChanged",
    "Registry",
    "SaleLine",
    "SaleRecorded",
    "Service",
    "StockChanged",
    "SupplierChanged",
    "TopicSpec",
    "command_event_id",
    "derived_event_id",
    "derived_event_text",
    "encode",
    "event_json",
    "loads",
    "make_event",
    "new_event_id",
    "sale_event_id",
]
