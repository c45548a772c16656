"""The topic and event registry: the only place that names a topic.

Every topic has one writing service, a key, a partition count and a cleanup policy. Every
event type names its payload model, its schema version and the topic it travels on.
Tests sharing one broker pass a `prefix` so each gets its own topics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

import orjson
from pydantic import ValidationError

from lumbung.contracts.bounds import canonical, released_without_bounds
from lumbung.contracts.envelope import ContractError, Envelope, _Header, loads
from lumbung.contracts.events import books, inventory, notifications, orders, pos, restock
from lumbung.contracts.events.catalog import (
    ApiKeyChanged,
    CalendarEventChanged,
    OutletChanged,
    ProductChanged,
    SupplierChanged,
)
from lumbung.contracts.events.common import Payload
from lumbung.contracts.events.inventory import StockChanged
from lumbung.contracts.events.pos import SaleRecorded

# Every topic that meets in the inventory worker (inputs and repartitions) has this many
# partitions, so one worker owns all of an outlet's changes.
OUTLET_PARTITIONS = 6
FOREVER = -1
DAY_MS = 24 * 60 * 60 * 1000


class Service(StrEnum):
    CATALOG = "catalog"
    INVENTORY = "inventory"
    ORDERS = "orders"
    NOTIFICATIONS = "notifications"
    DASHBOARD = "dashboard"
    BOOKS = "books"


class Cleanup(StrEnum):
    DELETE = "delete"
    COMPACT = "compact"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    key: str
    partitions: int
    cleanup: Cleanup
    writer: Service
    retention_ms: int = FOREVER
    description: str = ""

    def config(self) -> dict[str, str]:
        conf = {"cleanup.policy": self.cleanup.value}
        if self.cleanup is Cleanup.DELETE:
            conf["retention.ms"] = str(self.retention_ms)
        return conf


@dataclass(frozen=True)
class EventSpec:
    event_type: str
    schema_version: int
    payload: type[Payload]
    topic: str
    released: bool = True
    """A released version's committed JSON Schema is frozen: changes may only add."""

    def envelope_model(self) -> type[Envelope[Any]]:
        model = _ENVELOPES.get(self.payload)
        if model is None:
            model = _ENVELOPES[self.payload] = Envelope[self.payload]  # type: ignore[name-defined]
        return model


_ENVELOPES: dict[type[Payload], type[Envelope[Any]]] = {}
"""The envelope model of each payload model (pydantic's own look-up of a parametrised
generic costs microseconds a record on a worker's hot path)."""


def _fact(name: str, key: str, writer: Service, description: str) -> TopicSpec:
    return TopicSpec(name, key, OUTLET_PARTITIONS, Cleanup.DELETE, writer, FOREVER, description)


def _entity(name: str, description: str) -> TopicSpec:
    return TopicSpec(name, "entity id", 1, Cleanup.COMPACT, Service.CATALOG, FOREVER, description)


DLQ_SUFFIX = ".dlq"
"""A service's dead-letter topic is `<service>.dlq`: what it holds is the bad input as it
came, not an event of its own (no CloudEvents headers of its own either)."""


def _dlq(service: Service) -> TopicSpec:
    return TopicSpec(
        f"{service.value}{DLQ_SUFFIX}",
        "original key",
        1,
        Cleanup.DELETE,
        service,
        30 * DAY_MS,
        f"Messages the {service.value} service could not parse, with the error in headers.",
    )


TOPICS: tuple[TopicSpec, ...] = (
    _entity("catalog.products", "Products by SKU."),
    _entity("catalog.suppliers", "Suppliers (UMKM producers) by supplier id."),
    _entity("catalog.outlets", "Outlets by outlet id, with their assortment."),
    _entity("catalog.calendar", "Calendar events (e.g. Porprov) by calendar id."),
    _entity("auth.keys", "API keys by key id; only hashes are stored."),
    _fact("pos.sales", "outlet_id", Service.INVENTORY, "Sales recorded at points of sale."),
    _fact(
        "inventory.commands",
        "outlet_id",
        Service.INVENTORY,
        "Counts, adjustments, transfers, receipts and settings for an outlet's stock.",
    ),
    _fact("orders.events", "order_id", Service.ORDERS, "Every transition of every order."),
    TopicSpec(
        "inventory.orders-by-outlet",
        "outlet_id",
        OUTLET_PARTITIONS,
        Cleanup.DELETE,
        Service.INVENTORY,
        7 * DAY_MS,
        "orders.events repartitioned by pickup outlet, so they meet that outlet's stock.",
    ),
    _fact(
        "inventory.stock",
        "outlet_id",
        Service.INVENTORY,
        "StockChanged after every change: the stock ledger, with each change's cause.",
    ),
    _fact(
        "inventory.reservations",
        "order_id",
        Service.INVENTORY,
        "Inventory's answer to each order: reserved or rejected.",
    ),
    TopicSpec(
        "inventory.alerts",
        "outlet_id",
        OUTLET_PARTITIONS,
        Cleanup.DELETE,
        Service.INVENTORY,
        30 * DAY_MS,
        "Low, out, back in and negative stock; predicted stockouts and their clearing.",
    ),
    _fact("restock.events", "outlet_id", Service.INVENTORY, "Restock requests and their closing."),
    _fact(
        "restock.acks",
        "outlet_id",
        Service.NOTIFICATIONS,
        "Suppliers' answers to restock requests.",
    ),
    _fact(
        "notifications.deliveries",
        "recipient",
        Service.NOTIFICATIONS,
        "The delivery log: every message delivered or failed.",
    ),
    TopicSpec(
        "notifications.outbox",
        "recipient",
        OUTLET_PARTITIONS,
        Cleanup.DELETE,
        Service.NOTIFICATIONS,
        7 * DAY_MS,
        "Events that call for a message, repartitioned by recipient (supplier:<id> or ops), "
        "so one worker owns each recipient's digest and delivery record.",
    ),
    _fact(
        "books.events",
        "supplier_id",
        Service.BOOKS,
        "Consignment statements issued to suppliers and the payments recorded against them.",
    ),
    TopicSpec(
        "books.reports",
        "profile|<retailer> or report|<retailer>|<store>|<period>",
        1,
        Cleanup.COMPACT,
        Service.BOOKS,
        FOREVER,
        "Retailers' sales report profiles and the reports imported (the newest per key).",
    ),
    _dlq(Service.INVENTORY),
    _dlq(Service.ORDERS),
    _dlq(Service.NOTIFICATIONS),
    _dlq(Service.BOOKS),
)


def _bounded(event_type: str, payload: type[Payload], topic: str) -> tuple[EventSpec, ...]:
    """Version 1 as released (read beside version 2), and version 2 with every number
    bounded (lumbung.contracts.bounds, issue 15), which producers write from now on."""
    return (
        EventSpec(event_type, 1, released_without_bounds(payload), topic),
        EventSpec(event_type, 2, payload, topic),
    )


EVENTS: tuple[EventSpec, ...] = (
    *_bounded("pos.SaleRecorded", SaleRecorded, "pos.sales"),
    *_bounded("inventory.StockChanged", StockChanged, "inventory.stock"),
    *_bounded("catalog.ProductChanged", ProductChanged, "catalog.products"),
    *_bounded("catalog.SupplierChanged", SupplierChanged, "catalog.suppliers"),
    *_bounded("catalog.OutletChanged", OutletChanged, "catalog.outlets"),
    *_bounded("catalog.CalendarEventChanged", CalendarEventChanged, "catalog.calendar"),
    *_bounded("auth.ApiKeyChanged", ApiKeyChanged, "auth.keys"),
    # Released with the inventory service: frozen, changes may only add.
    *_bounded("pos.SaleReturned", pos.SaleReturned, "pos.sales"),
    *_bounded("inventory.StockCounted", inventory.StockCounted, "inventory.commands"),
    *_bounded("inventory.StockAdjusted", inventory.StockAdjusted, "inventory.commands"),
    *_bounded("inventory.TransferRequested", inventory.TransferRequested, "inventory.commands"),
    *_bounded("inventory.TransferArrived", inventory.TransferArrived, "inventory.commands"),
    *_bounded("inventory.RestockReceived", inventory.RestockReceived, "inventory.commands"),
    *_bounded("inventory.StockLevelsSet", inventory.StockLevelsSet, "inventory.commands"),
    *_bounded("inventory.StockReserved", inventory.StockReserved, "inventory.reservations"),
    *_bounded(
        "inventory.ReservationRejected", inventory.ReservationRejected, "inventory.reservations"
    ),
    *_bounded("inventory.StockAlertRaised", inventory.StockAlertRaised, "inventory.alerts"),
    *_bounded("restock.RestockRequested", restock.RestockRequested, "restock.events"),
    *_bounded("restock.RestockClosed", restock.RestockClosed, "restock.events"),
    # Issue 17: on-order stock.
    EventSpec("restock.RestockOverdue", 1, restock.RestockOverdue, "restock.events"),
    EventSpec("inventory.StockoutPredicted", 1, inventory.StockoutPredicted, "inventory.alerts"),
    EventSpec("inventory.StockoutCleared", 1, inventory.StockoutCleared, "inventory.alerts"),
    EventSpec("restock.RestockSuggested", 1, restock.RestockSuggested, "restock.events"),
    EventSpec(
        "inventory.RestockQuantitySet", 1, inventory.RestockQuantitySet, "inventory.commands"
    ),
    # Issue 18: consignment money.
    EventSpec("inventory.ReturnRefused", 1, inventory.ReturnRefused, "inventory.alerts"),
    EventSpec("inventory.PriceFlagged", 1, inventory.PriceFlagged, "inventory.alerts"),
    EventSpec("inventory.GoodsSentBack", 1, inventory.GoodsSentBack, "inventory.commands"),
    # Issue 21: stock that moves.
    EventSpec(
        "inventory.TransferDispatched", 1, inventory.TransferDispatched, "inventory.commands"
    ),
    EventSpec("inventory.TransferOverdue", 1, inventory.TransferOverdue, "inventory.alerts"),
    EventSpec("inventory.BoothClosed", 1, inventory.BoothClosed, "inventory.commands"),
    EventSpec("inventory.CloseOutDue", 1, inventory.CloseOutDue, "inventory.alerts"),
    EventSpec("inventory.BoothClosedOut", 1, inventory.BoothClosedOut, "inventory.alerts"),
    EventSpec("inventory.ExpiryAlert", 1, inventory.ExpiryAlert, "inventory.alerts"),
    *_bounded("restock.RestockAccepted", restock.RestockAccepted, "restock.acks"),
    EventSpec("restock.RestockDeclined", 1, restock.RestockDeclined, "restock.acks"),
    # Released with the orders service.
    *_bounded("orders.OrderPlaced", orders.OrderPlaced, "orders.events"),
    EventSpec("orders.OrderCancelled", 1, orders.OrderCancelled, "orders.events"),
    EventSpec("orders.OrderExpired", 1, orders.OrderExpired, "orders.events"),
    EventSpec("orders.OrderFulfilled", 1, orders.OrderFulfilled, "orders.events"),
    *_bounded("orders.OrderReserved", orders.OrderReserved, "orders.events"),
    *_bounded("orders.OrderRejected", orders.OrderRejected, "orders.events"),
    EventSpec("orders.OrderFailed", 1, orders.OrderFailed, "orders.events"),
    # Released with the notifications service.
    *_bounded(
        "notifications.NotificationDelivered",
        notifications.NotificationDelivered,
        "notifications.deliveries",
    ),
    *_bounded(
        "notifications.NotificationFailed",
        notifications.NotificationFailed,
        "notifications.deliveries",
    ),
    # Issue 18: consignment statements and payments, written by the books service.
    EventSpec("books.StatementIssued", 1, books.StatementIssued, "books.events"),
    EventSpec("books.PaymentRecorded", 1, books.PaymentRecorded, "books.events"),
    EventSpec("books.ReportProfileSaved", 1, books.ReportProfileSaved, "books.reports"),
    EventSpec("books.ReportImported", 1, books.ReportImported, "books.reports"),
)


@dataclass(frozen=True)
class Registry:
    """Topic names as one deployment (or one test) sees them."""

    prefix: str = ""
    topics: tuple[TopicSpec, ...] = TOPICS
    events: tuple[EventSpec, ...] = EVENTS
    _by_type: dict[tuple[str, int], EventSpec] = field(init=False, repr=False, compare=False)
    _names: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.prefix and not self.prefix.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"topic prefix {self.prefix!r} may hold only letters, digits, - and _")
        by_type = {(e.event_type, e.schema_version): e for e in self.events}
        object.__setattr__(self, "_by_type", by_type)
        names = {t.name: f"{self.prefix}.{t.name}" if self.prefix else t.name for t in self.topics}
        object.__setattr__(self, "_names", names)

    def name(self, logical: str) -> str:
        """The physical name of a registry topic (with this registry's prefix)."""
        try:
            return self._names[logical]
        except KeyError:
            raise KeyError(f"{logical!r} is not a registry topic") from None

    def spec(self, logical: str) -> TopicSpec:
        for topic in self.topics:
            if topic.name == logical:
                return topic
        raise KeyError(f"{logical!r} is not a registry topic")

    def physical(self) -> list[tuple[str, TopicSpec]]:
        return [(self.name(t.name), t) for t in self.topics]

    def event(self, event_type: str, schema_version: int) -> EventSpec:
        try:
            return self._by_type[(event_type, schema_version)]
        except KeyError:
            known = sorted({e.event_type for e in self.events})
            if event_type not in known:
                raise ContractError(
                    [{"field": "event_type", "message": f"unknown event type {event_type!r}"}]
                ) from None
            raise ContractError(
                [
                    {
                        "field": "schema_version",
                        "message": f"{event_type} has no schema version {schema_version}",
                    }
                ]
            ) from None

    def events_on(self, logical_topic: str) -> list[EventSpec]:
        return [e for e in self.events if e.topic == logical_topic]

    def parse(self, raw: bytes | str | dict[str, Any]) -> Envelope[Any]:
        """Validate one event (JSON bytes or a decoded object) into its typed envelope."""
        value = raw if isinstance(raw, dict) else loads(raw)
        event_type, version = value.get("event_type"), value.get("schema_version")
        spec = None
        if type(event_type) is str and type(version) is int:
            spec = self._by_type.get((event_type, version))
        if spec is None:  # a header to validate and explain
            try:
                header = _Header.model_validate(value)
            except ValidationError as exc:
                raise ContractError.from_validation(exc) from exc
            spec = self.event(header.event_type, header.schema_version)
        try:
            event = spec.envelope_model().model_validate(value)
        except ValidationError as exc:
            raise ContractError.from_validation(exc) from exc
        # An event of a released older version reads as the current model, so a consumer
        # that dispatches on the payload's class sees one class per event type.
        data = canonical(event.data)
        return event if data is event.data else event.model_copy(update={"data": data})


DEFAULT = Registry()


_SPECS: dict[tuple[type[Payload], int], tuple[tuple[EventSpec, ...], EventSpec]] = {}


def _spec_for_type(payload_type: type[Payload], registry: Registry) -> EventSpec:
    # Cached by the identity of the registry's event list, not by the registry: hashing a
    # frozen dataclass hashes every topic and event in it, which made this lookup cost
    # 150 µs a derived event (half a worker's time per sale line).
    events = registry.events
    cached = _SPECS.get((payload_type, id(events)))
    if cached is not None and cached[0] is events:
        return cached[1]
    specs = [e for e in events if e.payload is payload_type]
    if not specs:
        raise KeyError(f"{payload_type.__name__} is not a registered event payload")
    spec = max(specs, key=lambda e: e.schema_version)
    _SPECS[(payload_type, id(events))] = (events, spec)
    return spec


def event_spec_for(payload: Payload, registry: Registry = DEFAULT) -> EventSpec:
    """The newest registered event type whose payload model is `payload`'s class."""
    return _spec_for_type(type(payload), registry)


def event_json(
    payload: Payload,
    *,
    event_id: UUID | str,
    occurred_at: datetime,
    producer: str,
    correlation_id: str,
    causation_id: str | None = None,
) -> bytes:
    """The wire bytes of `make_event(...)` for an event a service derives from data it has
    validated, without building the envelope model: the hot path of a stream worker
    (one StockChanged per sale line). Byte for byte what the envelope model writes
    (libs/contracts/tests/test_envelope.py)."""
    spec = event_spec_for(payload)
    head = orjson.dumps(
        {
            "event_id": str(event_id),
            "event_type": spec.event_type,
            "schema_version": spec.schema_version,
            "occurred_at": occurred_at,
            "producer": producer,
            "correlation_id": correlation_id,
            "causation_id": causation_id,
        },
        option=orjson.OPT_UTC_Z,
    )
    return b"".join(
        (head[:-1], b',"data":', payload.__pydantic_serializer__.to_json(payload), b"}")
    )


def make_event(
    payload: Payload,
    *,
    event_id: UUID,
    occurred_at: datetime,
    producer: str,
    correlation_id: str,
    causation_id: str | None = None,
    trusted: bool = False,
) -> Envelope[Any]:
    """An event in its envelope. `trusted` skips validation, for events a service derives
    from data it has already validated (the hot path of a worker)."""
    spec = event_spec_for(payload)
    model = spec.envelope_model()
    build = model.model_construct if trusted else model
    return build(
        event_id=event_id,
        event_type=spec.event_type,
        schema_version=spec.schema_version,
        occurred_at=occurred_at,
        producer=producer,
        correlation_id=correlation_id,
        causation_id=causation_id,
        data=payload,
    )
