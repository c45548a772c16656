"""Inventory's use case: apply one input event to an outlet's stock, and say which contract
events follow. Effects become contract events here and nowhere else; every derived event
gets an id computed from its cause, so a reprocessed input re-emits the same ids."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from lumbung.contracts import Envelope, derived_event_text, event_json
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import orders, pos, restock
from lumbung.contracts.events.common import Payload
from lumbung.inventory.domain import (
    Alerted,
    Effect,
    Moved,
    OutletStock,
    Rejected,
    Reserved,
    RestockDone,
    RestockNeeded,
    Stock,
    TransferSent,
)
from lumbung.platform.kernel import Emit

PRODUCER = "inventory"


class CatalogLookup(Protocol):
    def knows_sku(self, sku: str) -> bool: ...

    def supplier_of(self, sku: str) -> str | None: ...


class UnexpectedEvent(Exception):
    """An event that does not belong on the topic it came from."""


def _lines(lines: list[Any]) -> list[tuple[str, int]]:
    return [(line.sku, line.qty) for line in lines]


def apply(state: OutletStock, cause: Envelope[Any], catalog: CatalogLookup) -> list[Emit]:
    """What `cause` does to `state` (changed in place) and the events it emits."""
    data = cause.data
    effects: list[Effect]
    match data:
        case pos.SaleRecorded():
            known = {line.sku for line in data.lines if catalog.knows_sku(line.sku)}
            effects = state.sell(_lines(data.lines), known)
        case pos.SaleReturned():
            effects = state.take_back(_lines(data.lines), f"sale_{data.kind.value}")
        case inv.StockCounted():
            reason = "opening" if data.kind is inv.CountKind.OPENING else "count"
            effects = state.count([(line.sku, line.counted) for line in data.lines], reason)
        case inv.StockAdjusted():
            effects = state.adjust(data.sku, data.delta, data.reason.value)
        case inv.TransferRequested():
            effects = state.dispatch(data.transfer_id, data.to_outlet_id, _lines(data.lines))
        case inv.TransferArrived():
            effects = state.arrive(_lines(data.lines))
        case inv.RestockReceived():
            effects = state.receive(data.sku, data.qty, data.restock_id)
        case inv.StockLevelsSet():
            effects = state.set_levels(data.sku, data.reorder_point, data.par_level)
        case orders.OrderPlaced():
            effects = state.reserve(data.order_id, _lines(data.lines))
        case orders.OrderCancelled():
            effects = state.release(data.order_id, "order_cancelled")
        case orders.OrderExpired():
            effects = state.release(data.order_id, "order_expired")
        case orders.OrderFailed():
            effects = state.release(data.order_id, "order_failed")
        case orders.OrderFulfilled():
            effects = state.fulfil(data.order_id)
        case restock.RestockAccepted():
            effects = state.restock_accepted(
                data.sku, data.restock_id, data.qty, data.expected_at.isoformat()
            )
        case restock.RestockDeclined():
            effects = state.restock_declined(data.sku, data.restock_id)
        case _:
            raise UnexpectedEvent(f"inventory does not apply {cause.event_type}")
    return Translator(state, cause, catalog).events(effects)


def overdue(outlet: str, sku: str, stock: Stock, now: datetime) -> Emit:
    """The flag to ops of a restock still on order after its due time: a tick's event,
    with no cause, so its id comes from the request and the due time it missed."""
    assert stock.restock_id is not None, "only an open request is late"
    assert stock.due_at is not None, "only an accepted request is late"
    value = event_json(
        restock.RestockOverdue(
            restock_id=stock.restock_id,
            outlet_id=outlet,
            sku=sku,
            on_order=stock.on_order,
            expected_at=datetime.fromisoformat(stock.due_at),
        ),
        event_id=derived_event_text(stock.restock_id, f"overdue:{stock.due_at}"),
        occurred_at=now,
        producer=PRODUCER,
        correlation_id=stock.restock_id,
    )
    return Emit("restock.events", outlet, value)


class Translator:
    def __init__(self, state: OutletStock, cause: Envelope[Any], catalog: CatalogLookup) -> None:
        self._state = state
        self._cause = cause
        self._catalog = catalog
        self._outlet = state.outlet_id
        self._cause_id = str(cause.event_id)

    def events(self, effects: list[Effect]) -> list[Emit]:
        return [self._one(i, effect) for i, effect in enumerate(effects)]

    def _event(self, topic: str, key: str, payload: Payload, effect: str) -> Emit:
        cause = self._cause
        value = event_json(
            payload,
            event_id=derived_event_text(self._cause_id, effect),
            occurred_at=cause.occurred_at,
            producer=PRODUCER,
            correlation_id=cause.correlation_id,
            causation_id=self._cause_id,
        )
        return Emit(topic, key, value)

    def _one(self, index: int, effect: Effect) -> Emit:
        outlet = self._outlet
        tag: Callable[[str], str] = lambda what: f"{index}:{what}"  # noqa: E731
        match effect:
            case Moved(sku=sku, stock=stock):
                return self._event(
                    "inventory.stock",
                    outlet,
                    inv.StockChanged(
                        outlet_id=outlet,
                        sku=sku,
                        on_hand=stock.on_hand,
                        reserved=stock.reserved,
                        available=stock.available,
                        delta=effect.delta_on_hand,
                        reason=effect.reason,
                        version=stock.version,
                    ),
                    tag(f"stock:{sku}"),
                )
            case Alerted(sku=sku, stock=stock):
                return self._event(
                    "inventory.alerts",
                    outlet,
                    inv.StockAlertRaised(
                        alert=inv.AlertKind(effect.kind),
                        outlet_id=outlet,
                        sku=sku,
                        on_hand=stock.on_hand,
                        available=stock.available,
                        reorder_point=stock.reorder_point,
                        message=effect.message,
                    ),
                    tag(f"alert:{effect.kind}:{sku}"),
                )
            case RestockNeeded(sku=sku, stock=stock):
                restock_id = derived_event_text(self._cause_id, tag(f"restock:{sku}"))
                self._state.open_restock(sku, restock_id)
                return self._event(
                    "restock.events",
                    outlet,
                    restock.RestockRequested(
                        restock_id=restock_id,
                        outlet_id=outlet,
                        sku=sku,
                        supplier_id=self._catalog.supplier_of(sku),
                        suggested_qty=effect.suggested_qty,
                        available=stock.available,
                        reorder_point=stock.reorder_point,
                        par_level=stock.par_level,
                    ),
                    tag(f"restock-requested:{sku}"),
                )
            case RestockDone():
                return self._event(
                    "restock.events",
                    outlet,
                    restock.RestockClosed(
                        restock_id=effect.restock_id,
                        outlet_id=outlet,
                        sku=effect.sku,
                        received_qty=effect.received_qty,
                    ),
                    tag(f"restock-closed:{effect.sku}"),
                )
            case Reserved():
                return self._event(
                    "inventory.reservations",
                    effect.order_id,
                    inv.StockReserved(
                        order_id=effect.order_id,
                        outlet_id=outlet,
                        lines=[inv.ReservedLine(sku=s, qty=q) for s, q in effect.lines.items()],
                    ),
                    tag("reserved"),
                )
            case Rejected():
                return self._event(
                    "inventory.reservations",
                    effect.order_id,
                    inv.ReservationRejected(
                        order_id=effect.order_id,
                        outlet_id=outlet,
                        shortfall=[
                            inv.Shortfall(sku=s, requested=r, available=a, missing=r - max(a, 0))
                            for s, r, a in effect.shortfall
                        ],
                    ),
                    tag("rejected"),
                )
            case TransferSent():
                data = self._cause.data
                return self._event(
                    "inventory.commands",
                    effect.to_outlet_id,
                    inv.TransferArrived(
                        transfer_id=effect.transfer_id,
                        from_outlet_id=outlet,
                        to_outlet_id=effect.to_outlet_id,
                        lines=data.lines,
                    ),
                    tag("transfer-arrival"),
                )
        raise AssertionError(f"no translation for {effect!r}")
