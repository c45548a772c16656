"""The inventory worker: faust agents where every input about an outlet's stock meets.

    lumbung-inventory worker        (runs `faust worker` on this app)

- `route_orders` repartitions `orders.events` by pickup outlet onto
  `inventory.orders-by-outlet`, which has the partition count of every other input;
- `apply_inputs` reads `pos.sales`, `inventory.commands`, `restock.acks` and the
  repartitioned orders in batches, applies each event to its outlet's record (one
  changelog write per outlet per batch), and sends the derived events from the outbox;
- `project_stock` keeps the Redis read model current from `inventory.stock`.

At-least-once delivery is made effectively-once by the record: offsets already applied,
and ids already applied (for resends), are both skipped.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Iterable
from typing import Any

import orjson
from faust.streams import _current_event

from lumbung.contracts import ContractError, Registry
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import orders
from lumbung.inventory.adapters.read_model import StockReadModel, parse_changes, rebuild
from lumbung.inventory.adapters.record import OutletRecord
from lumbung.inventory.service import UnexpectedEvent, apply
from lumbung.inventory.settings import Settings
from lumbung.platform.cache import redis_client
from lumbung.platform.clock import Clock, SystemClock
from lumbung.platform.positions import faust_positions, where_of, write_positions
from lumbung.platform.streams import dead_letter, durable_table, make_stream_app, raw_topic
from lumbung.platform.views import CatalogView

log = logging.getLogger(__name__)
SERVICE = "inventory"
INPUTS = ("pos.sales", "inventory.commands", "restock.acks", "inventory.orders-by-outlet")
FAUST_TOPICS = ("inventory.stock", "inventory.dlq", "inventory.orders-by-outlet")
"""Topics this app reads or sends to through faust; derived events go out through faust's
producer by name (see `send_outbox`), so they need no Topic object."""
STOCK_ORDER_EVENTS = (
    orders.OrderPlaced,
    orders.OrderCancelled,
    orders.OrderExpired,
    orders.OrderFailed,
    orders.OrderFulfilled,
)
BATCH_SIZE = 1000
BATCH_WITHIN_S = 0.05


class WrongKey(Exception):
    """An event keyed by another outlet than the one it is about."""


def outlet_of(data: Any) -> str:
    match data:
        case inv.TransferRequested():
            return str(data.from_outlet_id)
        case inv.TransferArrived():
            return str(data.to_outlet_id)
        case _:
            return str(data.outlet_id)


class Worker:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.registry: Registry = settings.registry
        self.clock = clock or SystemClock()
        self.app = make_stream_app(SERVICE, settings)
        app, registry = self.app, self.registry
        self.inputs = app.topic(
            *(registry.name(t) for t in INPUTS),
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
        )
        self.orders_in = raw_topic(app, registry, "orders.events")
        self.outputs = {t: raw_topic(app, registry, t) for t in FAUST_TOPICS}
        # One table, so that an outlet's record and its id buckets share one changelog
        # partition: written buckets first, record last, a crash keeps a prefix of them.
        self.state = durable_table(
            app,
            "outlet-state",
            partitions=registry.spec("pos.sales").partitions,
            help="Each outlet's record (stock, offsets applied, outbox) and its applied ids"
            " per hour (keys 'outlet|hour').",
        )
        self.catalog_view = CatalogView(settings.kafka_bootstrap_servers, registry, SERVICE)
        self.redis = redis_client(settings.redis_url)
        self.read_model = StockReadModel(self.redis, registry.prefix)
        self.ready = asyncio.Event()
        self._cache: dict[bytes, tuple[bytes, OutletRecord]] = {}
        self._sent_seq: dict[str, int] = {}
        self._confirmed_seq: dict[str, int] = {}
        self._id_cache: dict[bytes, tuple[bytes, dict[str, str]]] = {}
        self._rebuilding = False
        self._confirming: set[asyncio.Future[None]] = set()
        self._swept: set[str] = set()
        self.positions = faust_positions(self.app, self.state)
        # Derived events leave through one sender task, in order, while the next batch is
        # applied; the outbox in each record makes a crash before they leave harmless.
        self._to_send: asyncio.Queue[list[tuple[str, list[list[Any]]]]] = asyncio.Queue()
        self._declare()

    # -- wiring ----------------------------------------------------------------------

    def _declare(self) -> None:
        app = self.app

        @app.task
        async def start_catalog_view() -> None:
            await self.catalog_view.start()
            if not await self.read_model.is_built():
                await rebuild(self.settings.kafka_bootstrap_servers, self.registry, self.read_model)
            self.ready.set()

        @app.agent(self.orders_in, name="route-orders")
        async def route_orders(stream: Any) -> None:
            async for batch in stream.take_events(BATCH_SIZE, within=BATCH_WITHIN_S):
                await self.route_orders(batch)

        @app.on_partitions_assigned.connect
        async def forget_positions(*_: Any, **__: Any) -> None:
            self.positions.forget()

        @app.agent(self.inputs, name="apply-inputs")
        async def apply_inputs(stream: Any) -> None:
            await self.ready.wait()
            async for batch in stream.take_events(BATCH_SIZE, within=BATCH_WITHIN_S):
                await self.apply_batch(batch)

        @app.agent(self.outputs["inventory.stock"], name="project-stock")
        async def project_stock(stream: Any) -> None:
            async for batch in stream.take_events(BATCH_SIZE, within=BATCH_WITHIN_S):
                await self.read_model.apply(
                    parse_changes(self.registry, [e.message for e in batch])
                )

        @app.task
        async def send_derived_events() -> None:
            while True:
                for outlet, outbox in await self._to_send.get():
                    await self.send_outbox(outlet, outbox)

        @app.timer(interval=2.0)
        async def recheck_positions() -> None:
            await self.positions.recheck(
                {self.registry.name(t) for t in (*INPUTS, "orders.events")}
            )

        @app.timer(interval=5.0)
        async def resend_outbox() -> None:
            await self.resend_unconfirmed()

        @app.timer(interval=2.0)
        async def rebuild_after_wipe() -> None:
            if (
                self.ready.is_set()
                and not self._rebuilding
                and not await self.read_model.is_built()
            ):
                self._rebuilding = True
                try:
                    log.warning("the stock read model is gone (Redis wiped?); rebuilding it")
                    await rebuild(
                        self.settings.kafka_bootstrap_servers, self.registry, self.read_model
                    )
                finally:
                    self._rebuilding = False

    # -- orders arrive keyed by order; stock meets them by outlet ----------------------

    async def route_orders(self, batch: Iterable[Any]) -> None:
        """Forward the batch, wait until it is delivered, then record how far it went."""
        accepted = await self.positions.select(batch, SERVICE)
        sent = [await self.route_order(event) for event in accepted.events]
        await asyncio.gather(*(future for future in sent if future is not None))
        write_positions(self.state, accepted.last)
        await asyncio.gather(*self.state.take_written())

    async def route_order(self, event: Any) -> Any:
        """Forward an order event keyed by its pickup outlet; the future of its delivery
        (None for the orders service's own record of inventory's answers)."""
        try:
            parsed = self.registry.parse(event.value)
        except ContractError as exc:
            return await self.dead_letter(event, str(exc))
        if isinstance(parsed.data, (orders.OrderReserved, orders.OrderRejected)):
            return None
        if not isinstance(parsed.data, STOCK_ORDER_EVENTS):
            return await self.dead_letter(
                event, f"{parsed.event_type} is not an order event inventory applies"
            )
        return await self.outputs["inventory.orders-by-outlet"].send(
            key=parsed.data.outlet_id.encode(), value=event.value
        )

    # -- the heart: apply a batch, one write per outlet, then send -------------------------

    async def apply_batch(self, batch: Iterable[Any]) -> None:
        touched: dict[bytes, OutletRecord] = {}
        touched_ids: dict[bytes, dict[str, str]] = {}
        last_event: dict[bytes, Any] = {}
        dead: list[tuple[Any, str]] = []
        accepted = await self.positions.select(batch, SERVICE)
        for event in accepted.events:
            message = event.message
            where = where_of(event)
            key = event.key or b""
            record = touched.get(key) or self._load(key)
            touched[key] = record
            last_event[key] = event
            if record.seen_offset(where, message.offset):
                continue
            record.mark(where, message.offset)
            try:
                parsed = self.registry.parse(event.value)
                if outlet_of(parsed.data) != record.stock.outlet_id:
                    raise WrongKey(
                        f"keyed {record.stock.outlet_id!r} but about {outlet_of(parsed.data)!r}"
                    )
            except (ContractError, WrongKey) as exc:
                dead.append((event, str(exc)))
                continue
            bucket = record.bucket_for(parsed.occurred_at).encode()
            ids = touched_ids.get(bucket) or self._load_ids(bucket)
            touched_ids[bucket] = ids
            event_id = str(parsed.event_id)
            here = f"{where}@{message.offset}"
            if ids.get(event_id, here) != here:
                log.debug("%s is a resend of %s: skipped", here, ids[event_id])
                continue
            # Seen here before but not in the record's marks: the buckets were written
            # before a crash and the record was not; apply it (the record is the truth).
            ids[event_id] = here
            try:
                outbound = apply(record.stock, parsed, self.catalog_view)
            except UnexpectedEvent as exc:
                dead.append((event, str(exc)))
                continue
            for out in outbound:
                record.queue(out.topic, out.key, out.event.model_dump_json())
        now = self.clock.now()
        written = {bucket.decode() for bucket in touched_ids}
        for bucket, ids in touched_ids.items():
            # faust writes a table key to the changelog partition of the current event; in a
            # batch that is the last event of this outlet (all of its events share it).
            _current_event.set(weakref.ref(last_event[bucket.split(b"|", 1)[0]]))
            raw_ids = orjson.dumps(ids)
            self.state[bucket] = raw_ids
            self._id_cache[bucket] = (raw_ids, ids)
        for key, record in touched.items():
            _current_event.set(weakref.ref(last_event[key]))
            record.confirm(self._confirmed_seq.get(record.stock.outlet_id, 0))
            for old in record.expired_buckets(now, written):
                self.state.pop(old.encode(), None)
            raw = record.dumps()
            self.state[key] = raw
            self._cache[key] = (raw, record)
        # Last, in the same changelog partitions: how far each input was applied.
        write_positions(self.state, accepted.last)
        letters = [await self.dead_letter(event, error) for event, error in dead]
        # The batch's state (and its dead letters) must be on the broker before its input
        # offsets can be committed (faust commits acked offsets on its own, and its
        # pre-commit flush can return with writes still queued), and before any derived
        # event tells of that state: a StockChanged with version v leaves only once the
        # record at v is durable, so a crash never reuses a version for another state.
        await asyncio.gather(*self.state.take_written(), *letters)
        self._to_send.put_nowait(
            [(record.stock.outlet_id, list(record.outbox)) for record in touched.values()]
        )

    def _load(self, key: bytes) -> OutletRecord:
        raw = self.state.get(key)
        cached = self._cache.get(key)
        if cached is not None and raw is not None and cached[0] is raw:
            return cached[1]
        if raw is None:
            return OutletRecord.new(key.decode())
        return OutletRecord.loads(raw)

    def _load_ids(self, bucket: bytes) -> dict[str, str]:
        """event_id -> the message ("topic:partition@offset") it was applied from."""
        raw = self.state.get(bucket)
        cached = self._id_cache.get(bucket)
        if cached is not None and raw is not None and cached[0] is raw:
            return cached[1]
        return {} if raw is None else dict(orjson.loads(raw))

    # -- the outbox: sent after the write, confirmed when delivered, re-sent after a crash --

    async def send_outbox(self, outlet: str, outbox: list[list[Any]]) -> None:
        """Send what this process has not sent yet of an outlet's outbox (as it was when
        its record became durable), through faust's producer."""
        already = self._sent_seq.get(outlet, 0)
        pending = [entry for entry in outbox if entry[0] > already]
        if not pending:
            return
        producer = self.app.producer
        futures = [
            await producer.send(
                self.registry.name(topic), key.encode(), event_json.encode(), None, None, None
            )
            for _, topic, key, event_json in pending
        ]
        last = pending[-1][0]
        self._sent_seq[outlet] = last
        task = asyncio.ensure_future(self._confirm_when_delivered(outlet, last, futures))
        self._confirming.add(task)
        task.add_done_callback(self._confirming.discard)

    async def _confirm_when_delivered(self, outlet: str, seq: int, futures: list[Any]) -> None:
        try:
            await asyncio.gather(*futures)
        except Exception:  # not delivered: forget it was sent, so the sweep sends it again
            log.exception("sending derived events of %s failed; will resend", outlet)
            self._sent_seq[outlet] = min(self._sent_seq.get(outlet, 0), seq - 1)
            self._swept.discard(outlet)
            return
        self._confirmed_seq[outlet] = max(self._confirmed_seq.get(outlet, 0), seq)

    async def resend_unconfirmed(self) -> None:
        """After a start or a rebalance, outlets this process never touched may still hold
        an outbox from before a crash: send it (same ids, so copies are dropped)."""
        for key in list(self.state.keys()):
            outlet = key.decode()
            if "|" in outlet or outlet in self._swept:
                continue
            self._swept.add(outlet)
            record = self._load(key)
            if record.outbox:
                await self.send_outbox(outlet, record.outbox)

    async def dead_letter(self, event: Any, error: str) -> Any:
        return await dead_letter(self.outputs["inventory.dlq"], SERVICE, event, error)
