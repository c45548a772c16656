"""The notifications worker: faust agents that turn events into messages and deliver them.

    lumbung-notifications worker     (runs `faust worker` on this app)

- `route-*` read `restock.events`, `inventory.alerts` and `orders.events`, and forward each
  event that may call for a message to `notifications.outbox`, keyed by its recipient
  (`supplier:<id>` or `ops`), so that one worker owns each recipient;
- `outbox` turns them into delivery records in a durable table: ops alerts at once,
  restock requests into the supplier's open digest, which a tick closes when its window
  has passed; a cause already seen (Kafka delivered it again) is skipped;
- once a record is on the broker, the sender delivers it (`lumbung.notifications.sender`),
  and writes the outcome, `NotificationDelivered` or `NotificationFailed` (with the causes
  on `notifications.dlq`), to `notifications.deliveries`;
- `outcomes` folds the delivery log back into the records, so a delivered message is not
  sent again; a record still pending after a crash is sent again, with the same id. A
  failed one is forgotten with its causes' marks, so causes taken from the DLQ and
  produced again go out again.

Time enters the stream as ticks on the outbox (a timer sends one to a partition whose
digest is due), so every change of the table happens in an agent, in its partition.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
from faust.streams import _current_event

from lumbung.contracts import ContractError, Envelope, Registry, derived_event_id, make_event
from lumbung.contracts.events.notifications import (
    ChannelKind,
    NotificationDelivered,
    NotificationFailed,
)
from lumbung.notifications.channels import (
    Channel,
    EmailChannel,
    WebhookChannel,
    WhatsAppGatewayChannel,
)
from lumbung.notifications.plan import (
    OPS,
    OpsContacts,
    Planned,
    Planner,
    channels_on,
    recipient_of,
)
from lumbung.notifications.plan import webhook_secret as secret_for
from lumbung.notifications.sender import Outcome, Record, Sender
from lumbung.notifications.settings import Settings
from lumbung.platform.clock import Clock, clock_from_env
from lumbung.platform.dlq import DeadLetter
from lumbung.platform.metrics import DEAD_LETTERS
from lumbung.platform.positions import faust_positions, write_positions
from lumbung.platform.streams import dead_letter, durable_table, make_stream_app, raw_topic
from lumbung.platform.views import CatalogView

log = logging.getLogger(__name__)
SERVICE = "notifications"
PRODUCER = "notifications-worker"
INPUTS = ("restock.events", "inventory.alerts", "orders.events")
BATCH_SIZE = 500
BATCH_WITHIN_S = 0.05
ORIGIN = "lumbung.origin"
"""Header of a forwarded event: where it was read ("topic:partition@offset")."""
ORIGIN_KEY = "lumbung.origin.key"
TICK = b"tick"
TICK_AGAIN_S = 5.0
KEEP = timedelta(days=8)
"""How long a cause's mark and a finished delivery record are kept: longer than the
outbox's retention (7 days), so no copy can come after its mark is gone."""
PRUNE_EVERY_S = 600.0


def _now_iso(clock: Clock) -> str:
    return clock.now().isoformat()


class Worker:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.registry: Registry = settings.registry
        self.clock = clock or clock_from_env()
        self.app = make_stream_app(SERVICE, settings)
        self.inputs = {name: raw_topic(self.app, self.registry, name) for name in INPUTS}
        self.outbox = raw_topic(self.app, self.registry, "notifications.outbox")
        self.deliveries = raw_topic(self.app, self.registry, "notifications.deliveries")
        self.dlq = raw_topic(self.app, self.registry, "notifications.dlq")
        self.state = durable_table(
            self.app,
            "notifications",
            partitions=self.registry.spec("notifications.outbox").partitions,
            help="Delivery records, open digests, causes seen, and how far each input was read.",
        )
        self.positions = faust_positions(self.app, self.state)
        self.catalog = CatalogView(settings.kafka_bootstrap_servers, self.registry, SERVICE)
        self.catalog_ready = asyncio.Event()
        self.planner = Planner(
            self.catalog,
            OpsContacts(settings.ops_webhook_url, settings.ops_email, settings.ops_whatsapp),
            settings.public_url,
            settings.secret_key,
            timedelta(seconds=settings.link_ttl_s),
            channels_on(settings.smtp_host, settings.whatsapp_gateway_url),
        )
        self.window = timedelta(seconds=settings.digest_window_s)
        self.http = httpx.AsyncClient(timeout=settings.send_timeout_s)
        self.sender = Sender(
            self.channel_for,
            self.settle,
            settings.attempts,
            settings.backoff_s,
            settings.backoff_max_s,
            settings.concurrency,
        )
        self._settled: dict[str, float] = {}
        """Delivery ids whose outcome was sent but not yet folded back: not sent again."""
        self._ticked: dict[int, float] = {}
        self._pruned: dict[int, float] = {}
        self._declare()

    def _declare(self) -> None:
        app = self.app

        @app.task
        async def start_catalog() -> None:
            await self.catalog.start()
            self.catalog_ready.set()

        @app.on_partitions_assigned.connect
        async def reassigned(*_: Any, **__: Any) -> None:
            self.positions.forget()
            active = self.active_partitions()
            dropped = self.sender.cancel(lambda record: record["p"] in active)
            if dropped:
                log.info("stopped %d deliveries of partitions now elsewhere", dropped)

        for name, topic in self.inputs.items():

            async def route(stream: Any) -> None:
                async for batch in stream.take_events(BATCH_SIZE, within=BATCH_WITHIN_S):
                    await self.route(batch)

            app.agent(topic, name=f"route-{name.replace('.', '-')}")(route)

        @app.agent(self.outbox, name="outbox")
        async def outbox(stream: Any) -> None:
            async for batch in stream.take_events(BATCH_SIZE, within=BATCH_WITHIN_S):
                await self.catalog_ready.wait()
                await self.take_outbox(batch)

        @app.agent(self.deliveries, name="outcomes")
        async def outcomes(stream: Any) -> None:
            async for batch in stream.take_events(BATCH_SIZE, within=BATCH_WITHIN_S):
                await self.fold_outcomes(batch)

        @app.timer(interval=2.0)
        async def recheck_positions() -> None:
            topics = {self.registry.name(t) for t in INPUTS}
            topics |= {self.outbox.get_topic_name(), self.deliveries.get_topic_name()}
            await self.positions.recheck(topics)

        @app.timer(interval=1.0)
        async def tick() -> None:
            await self.tick()

        @app.timer(interval=2.0)
        async def resume() -> None:
            self.resume()

        @app.task
        async def close_on_stop() -> None:
            try:
                await asyncio.Event().wait()
            finally:
                await self.sender.close()
                await self.http.aclose()
                await self.catalog.stop()

    # -- route: inputs -> the outbox, keyed by recipient --------------------------------------

    async def route(self, batch: Iterable[Any]) -> None:
        accepted = await self.positions.select(batch, SERVICE)
        sent = []
        for event in accepted.events:
            try:
                parsed = self.registry.parse(event.value)
            except ContractError as exc:
                sent.append(await dead_letter(self.dlq, SERVICE, event, str(exc)))
                continue
            recipient = recipient_of(parsed)
            if recipient is None:
                continue
            message = event.message
            origin = f"{message.topic}:{message.partition}@{message.offset}"
            headers = [(ORIGIN, origin.encode()), (ORIGIN_KEY, event.key or b"")]
            sent.append(
                await self.outbox.send(key=recipient.encode(), value=event.value, headers=headers)
            )
        await asyncio.gather(*sent)
        write_positions(self.state, accepted.last)
        await asyncio.gather(*self.state.take_written())

    # -- outbox: causes -> delivery records and digests ---------------------------------------

    async def take_outbox(self, batch: Iterable[Any]) -> None:
        accepted = await self.positions.select(batch, SERVICE)
        records: list[Record] = []
        ticks: dict[int, Any] = {}
        for event in accepted.events:
            partition = event.message.partition
            if event.key == TICK:
                ticks[partition] = event
                continue
            recipient = (event.key or b"").decode()
            try:
                cause = self.registry.parse(event.value)
            except ContractError as exc:  # the router parsed it: only a foreign writer
                await dead_letter(self.dlq, SERVICE, event, str(exc))
                continue
            _current_event.set(weakref.ref(event))
            seen = f"c|{recipient}|{cause.event_id}".encode()
            if self.state.get(seen) is not None:
                log.debug("%s for %s seen before: skipped", cause.event_id, recipient)
                continue
            now = self.clock.now()
            kept = _cause(event, cause)
            if recipient == OPS:
                records += self._put_records(self.planner.for_ops(cause), partition, [kept])
            else:
                key = f"g|{recipient}".encode()
                raw = self.state.get(key)
                digest = (
                    orjson.loads(raw) if raw else {"p": partition, "opened_at": now.isoformat()}
                )
                digest.setdefault("causes", [])
                if all(c["id"] != kept["id"] for c in digest["causes"]):
                    digest["causes"].append(kept)
                self.state[key] = orjson.dumps(digest)
            # The mark goes last, after what the cause led to, into the same changelog
            # partition (kept in order): a crash between them leaves no mark, and the
            # replayed cause completes its records; a mark written first would skip it.
            self.state[seen] = orjson.dumps({"p": partition, "t": now.isoformat()})
        unreachable: list[dict[str, Any]] = []
        for partition, tick in ticks.items():
            _current_event.set(weakref.ref(tick))
            records += self._close_digests(partition, unreachable)
            self._prune(partition)
        write_positions(self.state, accepted.last)
        letters = [await self._dead_cause(c, "the supplier has no channel") for c in unreachable]
        await asyncio.gather(*self.state.take_written(), *letters)
        for record in records:
            self.sender.schedule(record)

    def _put_records(
        self, planned: list[Planned], partition: int, causes: list[dict[str, Any]]
    ) -> list[Record]:
        records = []
        for plan in planned:
            key = f"d|{plan.delivery_id}".encode()
            if self.state.get(key) is not None:
                continue
            record: Record = {
                "id": plan.delivery_id,
                "p": partition,
                "recipient": plan.recipient,
                "kind": plan.kind,
                "channel": plan.target.channel.value,
                "to": plan.target.to,
                "subject": plan.subject,
                "text": plan.text,
                "data": plan.data,
                "causes": causes,
                "status": "pending",
                "t": _now_iso(self.clock),
            }
            self.state[key] = orjson.dumps(record)
            records.append(record)
        return records

    def _close_digests(self, partition: int, unreachable: list[dict[str, Any]]) -> list[Record]:
        """Digests of this partition whose window has passed become delivery records;
        the causes of one whose supplier has no channel go to `unreachable`."""
        now = self.clock.now()
        records = []
        for key, raw in list(self.state.items()):
            if not key.startswith(b"g|"):
                continue
            digest = orjson.loads(raw)
            if digest["p"] != partition:
                continue
            if datetime.fromisoformat(digest["opened_at"]) + self.window > now:
                continue
            recipient = key[2:].decode()
            causes = [self.registry.parse(c["raw"]) for c in digest["causes"]]
            planned = self.planner.digest(recipient, causes)
            if not planned:
                log.warning("%s has no channel to reach it: %d requests", recipient, len(causes))
                unreachable += digest["causes"]
            records += self._put_records(planned, partition, digest["causes"])
            del self.state[key]
        return records

    def _prune(self, partition: int) -> None:
        """Forget causes and finished records older than KEEP in this partition."""
        last = self._pruned.get(partition, 0.0)
        if time.monotonic() - last < PRUNE_EVERY_S:
            return
        self._pruned[partition] = time.monotonic()
        horizon = self.clock.now() - KEEP
        for key, raw in list(self.state.items()):
            if not key.startswith((b"c|", b"d|")):
                continue
            item = orjson.loads(raw)
            if item["p"] != partition or item.get("status") == "pending":
                continue
            if datetime.fromisoformat(item["t"]) < horizon:
                del self.state[key]

    # -- outcomes: the delivery log folded back into the records ------------------------------

    async def fold_outcomes(self, batch: Iterable[Any]) -> None:
        accepted = await self.positions.select(batch, SERVICE)
        folded = []
        for event in accepted.events:
            try:
                parsed = self.registry.parse(event.value)
            except ContractError as exc:
                await dead_letter(self.dlq, SERVICE, event, str(exc))
                continue
            data = parsed.data
            if not isinstance(data, NotificationDelivered | NotificationFailed):
                continue
            key = f"d|{data.delivery_id}".encode()
            raw = self.state.get(key)
            if raw is None:
                continue
            record = orjson.loads(raw)
            if record["status"] != "pending":
                continue
            _current_event.set(weakref.ref(event))
            if isinstance(data, NotificationFailed):
                # Its causes are on the DLQ: forget them, so that produced again once the
                # receiver is fixed they are taken (and this channel sent) once more.
                del self.state[key]
                for cause in data.causes:
                    self.state.pop(f"c|{data.recipient}|{cause}".encode(), None)
            else:
                record["status"] = "delivered"
                record["attempts"] = data.attempts
                record["t"] = _now_iso(self.clock)
                self.state[key] = orjson.dumps(record)
            folded.append(data.delivery_id)
        write_positions(self.state, accepted.last)
        await asyncio.gather(*self.state.take_written())
        for delivery_id in folded:
            self._settled.pop(delivery_id, None)

    # -- sending -------------------------------------------------------------------------------

    def channel_for(self, record: Record) -> Channel:
        kind = ChannelKind(record["channel"])
        settings = self.settings
        if kind is ChannelKind.WEBHOOK:
            secret = secret_for(settings.secret_key, record["recipient"])
            return WebhookChannel(self.http, secret, timeout_s=settings.send_timeout_s)
        if kind is ChannelKind.WHATSAPP:
            return WhatsAppGatewayChannel(
                self.http, settings.whatsapp_gateway_url, settings.whatsapp_gateway_token
            )
        return EmailChannel(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_sender,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            # Credentials never travel in the clear: with a login, STARTTLS is required.
            starttls=True if settings.smtp_username else None,
            timeout_s=settings.send_timeout_s,
        )

    async def settle(self, record: Record, outcome: Outcome) -> None:
        """Write the outcome to the delivery log (and a failure's causes to the DLQ)."""
        fields = {
            "delivery_id": record["id"],
            "recipient": record["recipient"],
            "channel": record["channel"],
            "kind": record["kind"],
            "attempts": outcome.attempts,
            "causes": [cause["id"] for cause in record["causes"]],
        }
        payload = (
            NotificationDelivered(**fields)
            if outcome.delivered
            else NotificationFailed(**fields, error=outcome.error[:500])
        )
        event = make_event(
            payload,
            event_id=derived_event_id(record["id"], "delivered" if outcome.delivered else "failed"),
            occurred_at=self.clock.now(),
            producer=PRODUCER,
            correlation_id=record["causes"][0]["id"],
            causation_id=record["causes"][0]["id"],
        )
        try:
            sent = [
                await self.deliveries.send(
                    key=record["recipient"].encode(), value=event.model_dump_json().encode()
                )
            ]
            if not outcome.delivered:
                sent += [await self._dead_cause(cause, outcome.error) for cause in record["causes"]]
            await asyncio.gather(*sent)
        except Exception:  # pending stays pending: `resume` sends it again
            log.exception("could not record the outcome of delivery %s", record["id"])
            return
        self._settled[record["id"]] = time.monotonic()

    async def _dead_cause(self, cause: dict[str, Any], error: str) -> Any:
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
        DEAD_LETTERS.labels(SERVICE, topic).inc()
        return await self.dlq.send(key=letter.key, value=letter.value, headers=letter.headers())

    # -- timers ----------------------------------------------------------------------------

    def active_partitions(self) -> set[int]:
        name = self.outbox.get_topic_name()
        return {tp.partition for tp in self.app.consumer.assignment() if tp.topic == name}

    async def tick(self) -> None:
        """Send a tick to each of this worker's partitions with a digest due (and now and
        then to prune), so the outbox agent closes it in its own partition."""
        now = self.clock.now()
        due: set[int] = set()
        for key, raw in list(self.state.items()):
            if key.startswith(b"g|"):
                digest = orjson.loads(raw)
                if datetime.fromisoformat(digest["opened_at"]) + self.window <= now:
                    due.add(digest["p"])
        clock = time.monotonic()
        active = self.active_partitions()
        due |= {p for p in active if clock - self._pruned.get(p, 0.0) >= PRUNE_EVERY_S}
        for partition in due & active:
            if clock - self._ticked.get(partition, 0.0) < TICK_AGAIN_S:
                continue
            self._ticked[partition] = clock
            await self.outbox.send(key=TICK, value=b"", partition=partition)

    def resume(self) -> None:
        """Send every pending record of this worker's partitions that nobody is sending:
        after a restart, a rebalance, or an outcome that could not be written."""
        if not self.app.tables.recovery.completed.is_set():  # type: ignore[attr-defined]
            return  # an outcome not yet recovered would look pending
        active = self.active_partitions()
        clock = time.monotonic()
        self._settled = {k: at for k, at in self._settled.items() if clock - at < 60}
        for key, raw in list(self.state.items()):
            if not key.startswith(b"d|"):
                continue
            record = orjson.loads(raw)
            delivery_id = record["id"]
            if (
                record["status"] == "pending"
                and record["p"] in active
                and delivery_id not in self._settled
                and not self.sender.busy_with(delivery_id)
            ):
                self.sender.schedule(record)


def _cause(event: Any, parsed: Envelope[Any]) -> dict[str, Any]:
    """What a record keeps of its cause: the id, the event, and where it came from."""
    headers = dict(event.headers or {})
    return {
        "id": str(parsed.event_id),
        "raw": event.value.decode(),
        "origin": headers.get(ORIGIN, b"?:0@0").decode(),
        "key": headers.get(ORIGIN_KEY, b"").decode(),
    }
