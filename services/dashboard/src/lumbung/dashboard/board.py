"""What the ops dashboard shows, folded from events: no Kafka here.

`Board.fold(event)` turns one contract event into the update a page applies (None, or a
list when one event makes two), and keeps what a new page needs beside the Redis read
models: sales per outlet per hour (WITA), when each outlet was last heard of, the recent
alerts, the reorder point each (outlet, SKU) alerted with (so a page colours a cell low),
orders and restock requests as they move, the stockouts inventory foresees, until they
clear or the cell runs out, and the restocks the forecast suggested and holds for ops,
until they go out or close.

Pages stitch by entity: a stock cell by its `version` (newer wins), an order by the
length of its history, a restock request by the rank of its status (open < answered <
closed), an alert by its event id, a foreseen stockout by its cell (the newest prediction
is the cell's mark, and goes with its clearing or with the cell's stock going out), a
suggested restock by its restock_id (it goes with the request or closing of that id).

A return the inventory worker refused (`inventory.ReturnRefused`) counts for nothing: read
after its return, it takes back what the return took off sales and revenue (a `sale`
update with the units and the refund added back); read before it, the return counts 0.
`pos.sales` and `inventory.alerts` are read in no order between them, so both happen.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from lumbung.contracts import Envelope
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import orders, pos, restock
from lumbung.platform.clock import WITA

RECENT_ALERTS = 100
ENDED_PREDICTIONS = 100_000
"""Prediction ids the board remembers as ended (cleared, or the cell ran out), so a
prediction read again after its end does not mark its cell again: a few MB, weeks of
predictions at every outlet."""
STOCK_GONE = (inv.AlertKind.OUT_OF_STOCK, inv.AlertKind.NEGATIVE_STOCK)
SEEN_IDS = 200_000
"""Event ids the board remembers, so an event read twice (a redelivery after a restart
of the stream, a point of sale sending a sale again) counts once: about 15 MB, a few
event days of sales at one outlet in ten seconds each."""
REMEMBERED_RETURNS = 20_000
"""Returns the board remembers as counted (with what they took off), and as refused, so a
refusal can take back its return in whichever order the two are read: about 8 MB and 5 MB,
well over a day of returns at every outlet (sales are read from the start of the day)."""

Update = tuple[str, dict[str, Any]]
K = TypeVar("K")
V = TypeVar("V")

ORDER_STATES: dict[type[Any], str] = {
    orders.OrderPlaced: "placed",
    orders.OrderReserved: "reserved",
    orders.OrderRejected: "rejected",
    orders.OrderCancelled: "cancelled",
    orders.OrderExpired: "expired",
    orders.OrderFulfilled: "fulfilled",
    orders.OrderFailed: "failed",
}
RESTOCK_STATES: dict[type[Any], str] = {
    restock.RestockRequested: "open",
    restock.RestockAccepted: "accepted",
    restock.RestockDeclined: "declined",
    restock.RestockOverdue: "overdue",
    restock.RestockClosed: "closed",
}


def hour_of(moment: datetime) -> str:
    """The WITA hour a moment falls in, e.g. '2026-11-29T09'."""
    return moment.astimezone(WITA).strftime("%Y-%m-%dT%H")


@dataclass
class Board:
    sales: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    """outlet -> WITA hour -> units sold (returns subtract)."""
    revenue: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """outlet -> rupiah taken today (as read)."""
    last_seen: dict[str, str] = field(default_factory=dict)
    """outlet -> when its last sale or stock change happened (ISO)."""
    alerts: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=RECENT_ALERTS))
    levels: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    """outlet -> SKU -> the reorder point its last alert carried."""
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    restocks: dict[str, dict[str, Any]] = field(default_factory=dict)
    forecasts: dict[str, dict[str, Any]] = field(default_factory=dict)
    """prediction id -> an open predicted stockout (one per cell at most)."""
    forecast_of: dict[tuple[str, str], str] = field(default_factory=dict)
    """(outlet, SKU) -> its open prediction's id."""
    suggestions: dict[str, dict[str, Any]] = field(default_factory=dict)
    """restock id -> a restock the forecast sized, held for ops until it goes out."""
    ended: dict[str, None] = field(default_factory=dict)
    """The latest ENDED_PREDICTIONS prediction ids cleared or run out, oldest first."""
    seen: dict[bytes, None] = field(default_factory=dict)
    """The latest SEEN_IDS event ids folded, oldest first."""
    counted_returns: dict[tuple[str, str], tuple[datetime, int, int]] = field(default_factory=dict)
    """(outlet, return id) -> when a counted return happened, its units and its refund,
    until its refusal comes."""
    refused_returns: dict[tuple[str, str], None] = field(default_factory=dict)
    """(outlet, return id) of the latest refused returns: read later, they count 0."""

    def fold(self, event: Envelope[Any]) -> Update | list[Update] | None:
        """The page update this event makes, as (kind, data), or a list of them in order;
        None when it shows nothing, or when the board has folded this event (its id)
        before."""
        event_id = event.event_id.bytes
        if event_id in self.seen:
            return None
        remember(self.seen, event_id, None, SEEN_IDS)
        data = event.data
        at = event.occurred_at.isoformat()
        match data:
            case inv.StockChanged():
                self._seen(data.outlet_id, event.occurred_at)
                if data.available <= 0:
                    self._stock_gone(data.outlet_id, data.sku, event.occurred_at)
                return "stock", {
                    "outlet_id": data.outlet_id,
                    "sku": data.sku,
                    "on_hand": data.on_hand,
                    "reserved": data.reserved,
                    "available": data.available,
                    "version": data.version,
                    "reason": data.reason,
                    "at": at,
                }
            case pos.SaleRecorded():
                units = sum(line.qty for line in data.lines)
                amount = sum(line.qty * line.unit_price_idr for line in data.lines)
                return self._sold(data.outlet_id, data.sold_at, units, amount)
            case pos.SaleReturned():
                return self._returned(data)
            case inv.ReturnRefused():
                return self._refused(data, event)
            case inv.PriceFlagged():
                return "alert", self._alert(event, "price_flagged", **data.model_dump(mode="json"))
            case inv.ExpiryAlert():
                return "alert", self._alert(
                    event,
                    f"expiry_{data.kind.value}",
                    outlet_id=data.outlet_id,
                    sku=data.sku,
                    batch_code=data.batch_code,
                    best_before=data.best_before.isoformat(),
                    qty=data.qty,
                    message=data.message,
                )
            case inv.CloseOutDue():
                return "alert", self._alert(
                    event,
                    "close_out_due",
                    outlet_id=data.outlet_id,
                    units=data.units,
                    skus=data.skus,
                    message=data.message,
                )
            case inv.BoothClosedOut():
                return "alert", self._alert(
                    event,
                    "booth_closed_out",
                    outlet_id=data.outlet_id,
                    revenue_idr=data.revenue_idr,
                    units=sum(line.sold for line in data.lines),
                    left_over=sum(line.left_over for line in data.lines),
                    transfer_id=data.transfer_id,
                )
            case inv.StockAlertRaised():
                if data.alert in (inv.AlertKind.LOW_STOCK, inv.AlertKind.BACK_IN_STOCK):
                    self.levels[data.outlet_id][data.sku] = data.reorder_point
                if data.alert in STOCK_GONE:
                    self._stock_gone(data.outlet_id, data.sku)
                return "alert", self._alert(
                    event,
                    data.alert.value,
                    outlet_id=data.outlet_id,
                    sku=data.sku,
                    on_hand=data.on_hand,
                    available=data.available,
                    reorder_point=data.reorder_point,
                )
            case inv.StockoutPredicted():
                return self._predicted(data, at)
            case inv.StockoutCleared():
                self._end(data.prediction_id)
                return "forecast", {
                    "prediction_id": data.prediction_id,
                    "outlet_id": data.outlet_id,
                    "sku": data.sku,
                    "status": "cleared",
                    "cleared_by": data.cleared_by.value,
                    "at": at,
                }
            case restock.RestockSuggested():
                return self._suggested(data, at)
            case _ if type(data) in ORDER_STATES:
                return "order", self._order(event)
            case _ if type(data) in RESTOCK_STATES:
                return "restock", self._restock(event)
        return None

    def _sold(self, outlet_id: str, moment: datetime, units: int, amount: int) -> Update:
        """Units and rupiah taken at an outlet in the WITA hour of `moment` (less when
        negative: a return)."""
        hour = hour_of(moment)
        per_hour = self.sales[outlet_id]
        per_hour[hour] = per_hour.get(hour, 0) + units
        self.revenue[outlet_id] += amount
        self._seen(outlet_id, moment)
        return "sale", {
            "outlet_id": outlet_id,
            "hour": hour,
            "units": units,
            "amount_idr": amount,
            "at": moment.isoformat(),
        }

    def _returned(self, back: pos.SaleReturned) -> Update:
        """A return takes its units off its hour and its refund off revenue, unless its
        refusal was read first: then it counts 0 (the outlet was still heard of)."""
        key = (back.outlet_id, back.return_id)
        if key in self.refused_returns:
            return self._sold(back.outlet_id, back.returned_at, 0, 0)
        units, refund = sum(line.qty for line in back.lines), back.refund()
        remember(self.counted_returns, key, (back.returned_at, units, refund), REMEMBERED_RETURNS)
        return self._sold(back.outlet_id, back.returned_at, -units, -refund)

    def _refused(self, data: inv.ReturnRefused, event: Envelope[Any]) -> Update | list[Update]:
        """The refusal, to ops; a return already counted is taken back first."""
        alert = self._alert(event, "return_refused", **data.model_dump(mode="json"))
        key = (data.outlet_id, data.return_id)
        remember(self.refused_returns, key, None, REMEMBERED_RETURNS)
        counted = self.counted_returns.pop(key, None)
        if counted is None:
            return "alert", alert
        returned_at, units, refund = counted
        return [self._sold(data.outlet_id, returned_at, units, refund), ("alert", alert)]

    def _alert(self, event: Envelope[Any], kind: str, /, **about: Any) -> dict[str, Any]:
        """An entry of the recent alerts (a page keeps each by its event id): its kind
        (a stock alert's own, `return_refused`, `price_flagged`) and what it is about."""
        alert = {
            "id": str(event.event_id),
            "alert": kind,
            **about,
            "at": event.occurred_at.isoformat(),
        }
        self.alerts.appendleft(alert)
        return alert

    def _seen(self, outlet_id: str, moment: datetime) -> None:
        iso = moment.isoformat()
        if self.last_seen.get(outlet_id, "") < iso:
            self.last_seen[outlet_id] = iso

    def _predicted(self, data: inv.StockoutPredicted, at: str) -> tuple[str, dict[str, Any]] | None:
        """A new prediction marks its cell; one the board holds or saw end (sent again,
        read again) changes nothing."""
        if data.prediction_id in self.forecasts or data.prediction_id in self.ended:
            return None
        cell = (data.outlet_id, data.sku)
        if cell in self.forecast_of:  # an episode that ended unseen: the newer one stands
            self._end(self.forecast_of[cell])
        forecast = {
            "prediction_id": data.prediction_id,
            "outlet_id": data.outlet_id,
            "sku": data.sku,
            "status": "predicted",
            "expected_at": data.expected_at.isoformat(),
            "available": data.available,
            "on_order": data.on_order,
            "units_per_hour": data.units_per_hour,
            "lead_time_hours": data.lead_time_hours,
            "at": at,
        }
        self.forecasts[data.prediction_id] = forecast
        self.forecast_of[cell] = data.prediction_id
        return "forecast", dict(forecast)

    def _stock_gone(self, outlet_id: str, sku: str, when: datetime | None = None) -> None:
        """The cell ran out: its prediction came true and ends (a page does the same with
        the stock change or alert it gets). An out-of-stock alert comes after the
        prediction in the same partition; a stock change comes on another topic, in no
        order with it, so it ends only a prediction made before `when`."""
        prediction_id = self.forecast_of.get((outlet_id, sku))
        if prediction_id is None:
            return
        made = datetime.fromisoformat(self.forecasts[prediction_id]["at"])
        if when is None or made <= when:
            self._end(prediction_id)

    def _end(self, prediction_id: str) -> None:
        forecast = self.forecasts.pop(prediction_id, None)
        if forecast is not None:
            cell = (forecast["outlet_id"], forecast["sku"])
            if self.forecast_of.get(cell) == prediction_id:
                del self.forecast_of[cell]
        remember(self.ended, prediction_id, None, ENDED_PREDICTIONS)

    def _suggested(
        self, data: restock.RestockSuggested, at: str
    ) -> tuple[str, dict[str, Any]] | None:
        """A held restock, shown until its request or closing (the page drops it on the
        `restock` update those make). One whose request the board has read already went
        out: read again, it shows nothing."""
        if data.restock_id in self.restocks:
            return None
        suggestion = {
            "restock_id": data.restock_id,
            "outlet_id": data.outlet_id,
            "sku": data.sku,
            "supplier_id": data.supplier_id,
            "qty": data.suggested_qty,
            "available": data.available,
            "reason": data.reason,
            "send_at": data.send_at.isoformat(),
            "at": at,
        }
        self.suggestions[data.restock_id] = suggestion
        return "suggestion", dict(suggestion)

    def _order(self, event: Envelope[Any]) -> dict[str, Any]:
        data = event.data
        order = self.orders.setdefault(
            data.order_id, {"order_id": data.order_id, "outlet_id": data.outlet_id, "version": 0}
        )
        if isinstance(data, orders.OrderPlaced):
            order.update(
                kind=data.kind.value,
                pickup_at=data.pickup_at.isoformat(),
                customer_name=data.customer_name,
                units=sum(line.qty for line in data.lines),
            )
            if data.attempt > 1:  # asked again: not a new step of its life
                return dict(order)
        order["version"] += 1
        order["state"] = ORDER_STATES[type(data)]
        order["at"] = event.occurred_at.isoformat()
        return dict(order)

    def _restock(self, event: Envelope[Any]) -> dict[str, Any]:
        data = event.data
        self.suggestions.pop(data.restock_id, None)  # it went out, or it is over
        request = self.restocks.setdefault(
            data.restock_id,
            {"restock_id": data.restock_id, "outlet_id": data.outlet_id, "sku": data.sku},
        )
        status = RESTOCK_STATES[type(data)]
        if status_rank(status) >= status_rank(request.get("status", "open")):
            request["status"] = status
        match data:
            case restock.RestockRequested():
                request.update(
                    supplier_id=data.supplier_id,
                    qty=data.suggested_qty,
                    requested_at=event.occurred_at.isoformat(),
                )
            case restock.RestockAccepted():
                request.update(accepted_qty=data.qty, expected_at=data.expected_at.isoformat())
            case restock.RestockDeclined():
                request.update(reason=data.reason)
            case restock.RestockOverdue():
                request.update(on_order=data.on_order, expected_at=data.expected_at.isoformat())
            case restock.RestockClosed():
                request.update(received_qty=data.received_qty)
        return dict(request)

    def snapshot(self) -> dict[str, Any]:
        return {
            "sales": {outlet: dict(hours) for outlet, hours in self.sales.items()},
            "revenue": dict(self.revenue),
            "last_seen": dict(self.last_seen),
            "alerts": list(self.alerts),
            "levels": {outlet: dict(skus) for outlet, skus in self.levels.items()},
            "orders": list(self.orders.values()),
            "restocks": list(self.restocks.values()),
            "forecasts": [dict(f) for f in self.forecasts.values()],
            "suggestions": [dict(s) for s in self.suggestions.values()],
        }


def remember(memory: dict[K, V], key: K, value: V, limit: int) -> None:
    """Keep `key` in `memory`, dropping the oldest key past `limit`."""
    memory[key] = value
    if len(memory) > limit:
        del memory[next(iter(memory))]


def status_rank(status: str) -> int:
    return {"open": 0, "accepted": 1, "declined": 1, "overdue": 2, "closed": 3}.get(status, 0)
