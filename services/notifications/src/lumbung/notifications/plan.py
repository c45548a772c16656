"""Who is told what, and by which channels: the notifications domain, without Kafka.

- A restock request goes to the product's supplier. Requests for one supplier within the
  digest window become one message (a digest of one reads like a single request).
- A predicted stockout (`StockoutPredicted`) goes to the product's supplier, in the same
  digest as their requests, and to ops, in a digest of its own: the forecaster sends them
  a tick at a time, several together on a busy day. Its clearing goes to nobody (the
  dashboard drops its mark; docs/decisions.md says why).
- Ops hear of negative stock and unknown SKUs anywhere (discrepancies to count), of
  out-of-stock at event booths (where a queue is waiting), of orders that failed, and of
  accepted restocks still on order after their due time (call the supplier).
- An issued consignment statement (`books.StatementIssued`) goes to its supplier at once,
  in their language: what sold at the outlet that month and what they are owed.
- Every message goes out once per channel the recipient has. Its delivery id is derived
  from its causes' event ids, the recipient and the channel, so the same alert gives the same
  id however often it is read, and a message sent again after a crash carries it too.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lumbung.contracts import Envelope
from lumbung.contracts.events import books, orders, restock
from lumbung.contracts.events.catalog import Channel as OutletChannel
from lumbung.contracts.events.catalog import SupplierChanged
from lumbung.contracts.events.inventory import AlertKind, StockAlertRaised, StockoutPredicted
from lumbung.contracts.events.notifications import ChannelKind
from lumbung.contracts.ids import LUMBUNG_NAMESPACE
from lumbung.notifications import messages
from lumbung.notifications.signing import ActionToken, make_token
from lumbung.platform.views import CatalogView

OPS = "ops"
OPS_ALERTS = {AlertKind.NEGATIVE_STOCK, AlertKind.UNKNOWN_SKU}
BOOTH_ALERTS = {AlertKind.OUT_OF_STOCK}


@dataclass(frozen=True)
class Target:
    channel: ChannelKind
    to: str


@dataclass(frozen=True)
class Planned:
    """One message to one recipient by one channel."""

    delivery_id: str
    recipient: str
    kind: str
    target: Target
    subject: str
    text: str
    data: dict[str, Any]


def supplier_recipient(supplier_id: str) -> str:
    return f"supplier:{supplier_id}"


def recipients_of(event: Envelope[Any]) -> list[str]:
    """Who an event may concern, before looking closer (the catalog decides the rest)."""
    data = event.data
    if isinstance(data, restock.RestockRequested):
        return [supplier_recipient(data.supplier_id)] if data.supplier_id else []
    if isinstance(data, StockoutPredicted):
        supplier = [supplier_recipient(data.supplier_id)] if data.supplier_id else []
        return [*supplier, OPS]
    if isinstance(data, StockAlertRaised) and data.alert in OPS_ALERTS | BOOTH_ALERTS:
        return [OPS]
    if isinstance(data, orders.OrderFailed | restock.RestockOverdue):
        return [OPS]
    if isinstance(data, books.StatementIssued):
        return [supplier_recipient(data.supplier_id)]
    return []


def digested(event: Envelope[Any]) -> bool:
    """Whether a cause waits in its recipient's digest (else it is told at once)."""
    return isinstance(event.data, restock.RestockRequested | StockoutPredicted)


def delivery_id(causes: str, recipient: str, channel: ChannelKind) -> str:
    """The id of the message about `causes` (event ids) to `recipient` by `channel`."""
    return str(uuid.uuid5(LUMBUNG_NAMESPACE, f"delivery:{causes}:{recipient}:{channel}"))


def webhook_secret(secret_key: str, recipient: str) -> str:
    """The secret a recipient's webhook verifies signatures with, derived per recipient
    from the service's secret (ops hands it to the producer; nothing to store)."""
    return hmac.new(
        secret_key.encode(), f"webhook:{recipient}".encode(), hashlib.sha256
    ).hexdigest()


def channels_on(smtp_host: str, whatsapp_gateway_url: str) -> frozenset[ChannelKind]:
    """The channels this deployment can send on: webhooks always, email with an SMTP
    host, WhatsApp with a gateway. A contact on a channel that is off gets nothing on it
    (an empty SMTP host used to send every demo supplier's email into the DLQ)."""
    on = {ChannelKind.WEBHOOK}
    if smtp_host:
        on.add(ChannelKind.EMAIL)
    if whatsapp_gateway_url:
        on.add(ChannelKind.WHATSAPP)
    return frozenset(on)


def supplier_targets(supplier: SupplierChanged, channels: frozenset[ChannelKind]) -> list[Target]:
    contacts = supplier.contacts
    pairs = [
        (ChannelKind.WEBHOOK, contacts.webhook_url),
        (ChannelKind.EMAIL, contacts.email),
        (ChannelKind.WHATSAPP, contacts.whatsapp),
    ]
    return [Target(channel, to) for channel, to in pairs if to and channel in channels]


@dataclass(frozen=True)
class OpsContacts:
    webhook_url: str = ""
    email: str = ""
    whatsapp: str = ""

    def targets(self, channels: frozenset[ChannelKind]) -> list[Target]:
        pairs = [
            (ChannelKind.WEBHOOK, self.webhook_url),
            (ChannelKind.EMAIL, self.email),
            (ChannelKind.WHATSAPP, self.whatsapp),
        ]
        return [Target(channel, to) for channel, to in pairs if to and channel in channels]


class Planner:
    def __init__(
        self,
        catalog: CatalogView,
        ops: OpsContacts,
        public_url: str,
        link_secret: str,
        link_ttl: timedelta,
        channels: frozenset[ChannelKind],
    ) -> None:
        self._catalog = catalog
        self._ops = ops
        self._public_url = public_url.rstrip("/")
        self._link_secret = link_secret
        self._link_ttl = link_ttl
        self._channels = channels

    # -- suppliers -------------------------------------------------------------------------

    def digest(self, recipient: str, causes: list[Envelope[Any]]) -> list[Planned]:
        """One message per channel of the recipient for all the restock requests and
        predicted stockouts in `causes` (ops: stockouts only)."""
        if not causes:
            return []
        if recipient == OPS:
            return self._ops_digest(causes)
        supplier_id = recipient.split(":", 1)[1]
        supplier = self._catalog.suppliers.get(supplier_id)
        if supplier is None:
            return []
        asks = [c for c in causes if isinstance(c.data, restock.RestockRequested)]
        foreseen = [c for c in causes if isinstance(c.data, StockoutPredicted)]
        lines = [self._line(cause, supplier) for cause in asks]
        stockouts = [self._stockout(cause.data) for cause in foreseen]
        language = supplier.language.value
        message = messages.supplier_digest(language, supplier.owner_name, lines, stockouts)
        one = "restock" if asks else "stockout_predicted"
        kind = "digest" if len(causes) > 1 else one
        data = {
            "kind": kind,
            "supplier_id": supplier_id,
            "requests": [
                {
                    "restock_id": cause.data.restock_id,
                    "outlet_id": cause.data.outlet_id,
                    "sku": cause.data.sku,
                    "qty": line.qty,
                    "needed_by": line.needed_by.isoformat(),
                    "accept_url": line.accept_url,
                    "decline_url": line.decline_url,
                }
                for cause, line in zip(asks, lines, strict=True)
            ],
            "stockouts": [_plain(cause.data) for cause in foreseen],
        }
        targets = supplier_targets(supplier, self._channels)
        return self._planned(recipient, kind, targets, message, data, causes)

    def _ops_digest(self, causes: list[Envelope[Any]]) -> list[Planned]:
        foreseen = [c.data for c in causes if isinstance(c.data, StockoutPredicted)]
        if not foreseen:
            return []
        lines = [(self._stockout(data), self._supplier_name(data)) for data in foreseen]
        message = messages.stockouts_for_ops(lines)
        data = {
            "kind": "ops_alert",
            "alert": "stockout_predicted",
            "stockouts": [_plain(data) for data in foreseen],
        }
        targets = self._ops.targets(self._channels)
        return self._planned(OPS, "ops_alert", targets, message, data, causes)

    def _planned(
        self,
        recipient: str,
        kind: str,
        targets: list[Target],
        message: messages.Message,
        data: dict[str, Any],
        causes: list[Envelope[Any]],
    ) -> list[Planned]:
        # Derived from every cause: a digest reopened by a replay after a crash, with new
        # requests joining the old, is a new message, not taken for the one already sent.
        ids = ",".join(sorted(str(cause.event_id) for cause in causes))
        return [
            Planned(
                delivery_id(ids, recipient, target.channel),
                recipient,
                kind,
                target,
                message.subject,
                message.text,
                data,
            )
            for target in targets
        ]

    def _stockout(self, data: StockoutPredicted) -> messages.StockoutLine:
        outlet = self._catalog.outlets.get(data.outlet_id)
        product = self._catalog.products.get(data.sku)
        return messages.StockoutLine(
            outlet_name=outlet.name if outlet else data.outlet_id,
            product_name=product.name if product else data.sku,
            available=data.available,
            unit=product.unit if product else "pcs",
            on_order=data.on_order,
            expected_at=data.expected_at,
            units_per_hour=data.units_per_hour,
            lead_time_hours=data.lead_time_hours,
        )

    def _supplier_name(self, data: StockoutPredicted) -> str:
        supplier = self._catalog.suppliers.get(data.supplier_id or "")
        return supplier.name if supplier else data.supplier_id or ""

    def _line(self, cause: Envelope[Any], supplier: SupplierChanged) -> messages.RestockLine:
        request: restock.RestockRequested = cause.data
        outlet = self._catalog.outlets.get(request.outlet_id)
        product = self._catalog.products.get(request.sku)
        needed_by = cause.occurred_at + timedelta(days=supplier.restock_lead_time_days)
        expires_at = cause.occurred_at + self._link_ttl
        return messages.RestockLine(
            outlet_name=outlet.name if outlet else request.outlet_id,
            product_name=product.name if product else request.sku,
            qty=request.suggested_qty,
            unit=product.unit if product else "pcs",
            needed_by=needed_by,
            accept_url=self._link("accept", request, expires_at),
            decline_url=self._link("decline", request, expires_at),
        )

    def _link(self, action: str, request: restock.RestockRequested, expires_at: datetime) -> str:
        token = ActionToken(
            action=action,
            restock_id=request.restock_id,
            supplier_id=request.supplier_id or "",
            expires_at=expires_at,
            nonce=str(uuid.uuid5(LUMBUNG_NAMESPACE, f"link:{request.restock_id}:{action}"))[:8],
        )
        return f"{self._public_url}/v1/links/{make_token(self._link_secret, token)}"

    def statement(self, cause: Envelope[Any]) -> list[Planned]:
        """An issued statement to its supplier, by each of their channels."""
        issued: books.StatementIssued = cause.data
        supplier = self._catalog.suppliers.get(issued.supplier_id)
        if supplier is None:
            return []
        outlet = self._catalog.outlets.get(issued.outlet_id)
        note = messages.StatementNote(
            number=issued.number,
            outlet_name=outlet.name if outlet else issued.outlet_id,
            period=issued.period,
            sold=issued.sold,
            returned=issued.returned,
            gross_idr=issued.gross_idr,
            commission_idr=issued.commission_idr,
            net_idr=issued.net_idr,
        )
        message = messages.statement_issued(supplier.language.value, supplier.owner_name, note)
        recipient = supplier_recipient(issued.supplier_id)
        data = {"kind": "statement", **_plain(issued)}
        targets = supplier_targets(supplier, self._channels)
        return self._planned(recipient, "statement", targets, message, data, [cause])

    def at_once(self, cause: Envelope[Any]) -> list[Planned]:
        """The messages of an event that waits in no digest."""
        if isinstance(cause.data, books.StatementIssued):
            return self.statement(cause)
        return self.for_ops(cause)

    # -- ops ---------------------------------------------------------------------------------

    def for_ops(self, cause: Envelope[Any]) -> list[Planned]:
        """The ops message for one event, or nothing when ops need not hear of it."""
        data = cause.data
        if isinstance(data, StockAlertRaised):
            outlet = self._catalog.outlets.get(data.outlet_id)
            if data.alert in BOOTH_ALERTS and (
                outlet is None or outlet.channel is not OutletChannel.EVENT_BOOTH
            ):
                return []
            product = self._catalog.products.get(data.sku)
            message = messages.ops_alert(
                data.alert.value,
                outlet.name if outlet else data.outlet_id,
                product.name if product else data.sku,
                data.on_hand,
            )
            body = {"kind": "ops_alert", "alert": data.alert.value, **_plain(data)}
        elif isinstance(data, orders.OrderFailed):
            outlet = self._catalog.outlets.get(data.outlet_id)
            message = messages.order_failed(
                data.order_id, outlet.name if outlet else data.outlet_id, data.reason
            )
            body = {"kind": "ops_alert", "alert": "order_failed", **_plain(data)}
        elif isinstance(data, restock.RestockOverdue):
            outlet = self._catalog.outlets.get(data.outlet_id)
            product = self._catalog.products.get(data.sku)
            message = messages.restock_overdue(
                outlet.name if outlet else data.outlet_id,
                product.name if product else data.sku,
                data.on_order,
                data.expected_at,
            )
            body = {"kind": "ops_alert", "alert": "restock_overdue", **_plain(data)}
        else:
            return []
        cause_id = str(cause.event_id)
        return [
            Planned(
                delivery_id(cause_id, OPS, target.channel),
                OPS,
                "ops_alert",
                target,
                message.subject,
                message.text,
                body,
            )
            for target in self._ops.targets(self._channels)
        ]


def _plain(data: Any) -> dict[str, Any]:
    return dict(data.model_dump(mode="json"))
