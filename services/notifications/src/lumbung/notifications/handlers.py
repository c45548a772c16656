"""The notifications service's stream handlers for the stream kernel: which events call for
a message, the messages they make, and what became of each.

Two streams:

- `route` reads `restock.events`, `inventory.alerts`, `orders.events` and `books.events`
  (statements issued), and forwards each event that may call for a message to
  `notifications.outbox` as it came, once per recipient (`supplier:<id>`, `ops`, or both
  for a predicted stockout) and keyed by it, with where it came from in its headers;
- `outbox` reads the outbox and the delivery log (`notifications.deliveries`), both keyed
  by recipient, so one task owns each recipient's messages. Its state:

  - `c|RECIPIENT|CAUSE` a cause taken (Kafka delivered it again: skipped);
  - `g|RECIPIENT`       a supplier's open digest: when it opened, and its causes;
  - `d|DELIVERY`        a message to deliver (`pending`) or delivered, with its causes.

  An ops alert becomes its messages at once; a restock request joins its supplier's
  digest, and a predicted stockout its recipient's (supplier or ops), which a tick closes
  once its window has passed. Every new message goes, after
  the transaction that made it has committed, to the worker's sender (`Outcome.after`);
  a tick hands every pending one over again every few seconds (after a restart, a
  rebalance, an outcome that could not be written), and the sender skips the ones it is
  sending. The delivery log comes back as `NotificationDelivered` (the message is done)
  or `NotificationFailed` (the message and its causes' marks are forgotten: its causes
  are on the DLQ, and produced again from there they go out again).

The message texts and recipients come from `plan.Planner`; this module only knows where
they are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from lumbung.contracts import Envelope, Registry
from lumbung.contracts.events.books import StatementIssued
from lumbung.contracts.events.inventory import StockAlertRaised, StockoutPredicted
from lumbung.contracts.events.notifications import NotificationDelivered, NotificationFailed
from lumbung.contracts.events.orders import OrderFailed
from lumbung.contracts.events.restock import RestockOverdue, RestockRequested
from lumbung.notifications.plan import OPS, Planned, Planner, digested, recipients_of
from lumbung.platform.dlq import DeadLetter
from lumbung.platform.kernel import Emit, Handler, Outcome, Tick

SERVICE = "notifications"
ROUTED = ("restock.events", "inventory.alerts", "orders.events", "books.events")
ORIGIN = "lumbung.origin"
"""Header of a forwarded event: where it was read ("topic:partition@offset")."""
ORIGIN_KEY = "lumbung.origin.key"
CAUSES = (
    RestockRequested,
    RestockOverdue,
    StockAlertRaised,
    StockoutPredicted,
    OrderFailed,
    StatementIssued,
)
"""The events that may call for a message (`plan.recipients_of` says whose)."""
KEEP = timedelta(days=8)
"""How long a cause's mark and a finished message are kept: longer than the outbox's
retention (7 days), so no copy can come after its mark is gone."""


def seen_key(recipient: str, cause_id: str) -> str:
    return f"c|{recipient}|{cause_id}"


def digest_key(recipient: str) -> str:
    return f"g|{recipient}"


def record_key(delivery_id: str) -> str:
    return f"d|{delivery_id}"


# -- route ---------------------------------------------------------------------------------


def route(_: Mapping[str, Any], event: Envelope[Any], __: datetime, came: Any) -> Outcome:
    origin = f"{came.topic}:{came.partition}@{came.offset}".encode()
    headers = ((ORIGIN, origin), (ORIGIN_KEY, came.key or b""))
    return Outcome(
        events=[
            Emit("notifications.outbox", recipient, came.value, headers)
            for recipient in recipients_of(event)
        ]
    )


def ignore(*_: Any) -> Outcome:
    return Outcome()


def route_handlers(registry: Registry) -> dict[type[Any], Handler]:
    """Every event on the routed topics: the ones that may call for a message (CAUSES) are
    routed, the others pass (none is dead-lettered for being of no concern here)."""
    every = {spec.payload: ignore for topic in ROUTED for spec in registry.events_on(topic)}
    return {**every, **dict.fromkeys(CAUSES, route)}


# -- outbox ----------------------------------------------------------------------------------


class Outbox:
    """The `outbox` stream's handlers and ticks, with the planner (catalog, contacts) and
    the digest window they decide by."""

    def __init__(self, planner: Planner, window: timedelta, registry: Registry) -> None:
        self.planner = planner
        self.window = window
        self.registry = registry

    def handlers(self) -> dict[type[Any], Handler]:
        return {
            **dict.fromkeys(CAUSES, self.take_cause),
            NotificationDelivered: self.take_outcome,
            NotificationFailed: self.take_outcome,
        }

    def ticks(self) -> tuple[tuple[float, Tick], ...]:
        return ((1.0, self.close_digests), (3.0, self.pending), (600.0, self.prune))

    def take_cause(
        self, state: Mapping[str, Any], event: Envelope[Any], now: datetime, came: Any
    ) -> Outcome:
        recipient = (came.key or b"").decode()
        seen = seen_key(recipient, str(event.event_id))
        if seen in state:
            return Outcome()  # Kafka delivered it again
        kept = _cause(came, event)
        out = Outcome(changes={seen: {"t": now.isoformat()}})
        if not digested(event):
            _put_records(state, out, self.planner.at_once(event), [kept], now)
            return out
        held = state.get(digest_key(recipient))
        opened: dict[str, Any] = {"opened_at": now.isoformat(), "causes": []}
        digest = dict(held) if held else opened
        if all(cause["id"] != kept["id"] for cause in digest["causes"]):
            digest["causes"] = [*digest["causes"], kept]
        out.changes[digest_key(recipient)] = digest
        return out

    def take_outcome(
        self, state: Mapping[str, Any], event: Envelope[Any], now: datetime, _: Any
    ) -> Outcome:
        data = event.data
        key = record_key(data.delivery_id)
        record = state.get(key)
        if record is None or record["status"] != "pending":
            return Outcome()
        if isinstance(data, NotificationFailed):
            # Its causes go to the DLQ and are forgotten here, so that produced again once
            # the receiver is fixed they are taken (and this channel sent) once more.
            changes: dict[str, Any] = {key: None}
            for cause in data.causes:
                if seen_key(data.recipient, cause) in state:
                    changes[seen_key(data.recipient, cause)] = None
            letters = [dead_cause(cause, data.error) for cause in record["causes"]]
            return Outcome(changes=changes, events=letters)
        done = {**record, "status": "delivered", "attempts": data.attempts, "t": now.isoformat()}
        return Outcome(changes={key: done})

    def close_digests(self, state: Mapping[str, Any], now: datetime) -> Outcome:
        """Digests whose window has passed become messages; the causes of one whose
        supplier has no channel go to the DLQ (ops with no channel hear nothing, as of
        every alert)."""
        out = Outcome()
        for key, digest in state.items():
            if not key.startswith("g|"):
                continue
            if datetime.fromisoformat(digest["opened_at"]) + self.window > now:
                continue
            recipient = key[2:]
            causes = digest["causes"]
            planned = self.planner.digest(
                recipient, [self.registry.parse(c["raw"]) for c in causes]
            )
            if not planned and recipient != OPS:
                for cause in causes:
                    out.events.append(dead_cause(cause, "the supplier has no channel"))
            _put_records(state, out, planned, causes, now)
            out.changes[key] = None
        return out

    def pending(self, state: Mapping[str, Any], _: datetime) -> Outcome:
        """Every message not delivered yet, for the sender (which skips what it sends)."""
        return Outcome(
            after=[r for k, r in state.items() if k.startswith("d|") and r["status"] == "pending"]
        )

    def prune(self, state: Mapping[str, Any], now: datetime) -> Outcome:
        """Forget causes and finished messages older than KEEP."""
        horizon = now - KEEP
        gone = {
            key: None
            for key, item in state.items()
            if key.startswith(("c|", "d|"))
            and item.get("status") != "pending"
            and datetime.fromisoformat(item["t"]) < horizon
        }
        return Outcome(changes=gone)


def dead_cause(cause: dict[str, Any], error: str) -> Emit:
    """A cause that could not be delivered, to the DLQ as it first came."""
    topic, _, rest = cause["origin"].rpartition(":")
    partition, _, offset = rest.partition("@")
    letter = DeadLetter(
        SERVICE,
        topic,
        int(partition),
        int(offset),
        cause["key"].encode(),
        cause["raw"].encode(),
        f"not delivered: {error}",
    )
    return Emit("notifications.dlq", cause["key"], cause["raw"].encode(), tuple(letter.headers()))


def _put_records(
    state: Mapping[str, Any],
    out: Outcome,
    planned: list[Planned],
    causes: list[dict[str, Any]],
    now: datetime,
) -> None:
    for plan in planned:
        key = record_key(plan.delivery_id)
        if key in state or key in out.changes:
            continue
        record = {
            "id": plan.delivery_id,
            "recipient": plan.recipient,
            "kind": plan.kind,
            "channel": plan.target.channel.value,
            "to": plan.target.to,
            "subject": plan.subject,
            "text": plan.text,
            "data": plan.data,
            "causes": causes,
            "status": "pending",
            "t": now.isoformat(),
        }
        out.changes[key] = record
        out.after.append(record)


def _cause(came: Any, event: Envelope[Any]) -> dict[str, Any]:
    """What a message keeps of its cause: the id, the event, and where it came from."""
    headers = dict(came.headers or ())
    return {
        "id": str(event.event_id),
        "raw": came.value.decode(),
        "origin": headers.get(ORIGIN, b"?:0@0").decode(),
        "key": headers.get(ORIGIN_KEY, b"").decode(),
    }
