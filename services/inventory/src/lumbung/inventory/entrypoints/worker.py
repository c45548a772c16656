"""The inventory worker, as declarations on the platform's stream kernel.

    lumbung-inventory worker [--jobs stock,route-orders,read-model]

Three jobs, all of them by default, or the ones named, so a larger deployment runs the
stream jobs and the read model in processes of their own (each scales by its consumer
group: more processes share the partitions):

- `stock`: every input about an outlet's stock (sales, commands, supplier answers, orders
  by pickup outlet), applied per (outlet, SKU) cell by `handlers`; one transaction per
  batch holds the derived events, the changed cells, dead letters and input offsets;
- `route-orders`: repartitions `orders.events` by pickup outlet onto
  `inventory.orders-by-outlet`, which has the partition count of every other input;
- `read-model`: the Redis stock view, fed from `inventory.stock` (read_committed), and
  rebuilt from the ledger when Redis lost it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from lumbung.contracts import Envelope
from lumbung.contracts.events import orders
from lumbung.inventory.adapters.read_model import StockReadModel, parse_changes, rebuild
from lumbung.inventory.handlers import (
    EXPIRY_ALERT_DAYS,
    EXPIRY_EVERY_S,
    FORECAST_EVERY_S,
    OVERDUE_EVERY_S,
    ask_for_closing_counts,
    expire_batches,
    flag_overdue_restocks,
    flag_overdue_transfers,
    forget_old_decisions,
    handlers,
    outlet_of,
    predict_stockouts,
)
from lumbung.inventory.returns import VOID_WINDOW
from lumbung.inventory.service import PRICE_TOLERANCE, Committed
from lumbung.inventory.settings import Settings
from lumbung.platform.broker import broker_ready
from lumbung.platform.cache import redis_client, redis_ready
from lumbung.platform.clock import Clock, clock_from_env
from lumbung.platform.kernel import Emit, Kernel, Outcome, Projection, Stream
from lumbung.platform.metrics import OUTLET_SALES
from lumbung.platform.restocks import RestockView
from lumbung.platform.shell import WorkerShell
from lumbung.platform.views import CatalogView

log = logging.getLogger(__name__)
SERVICE = "inventory"
INPUTS = ("pos.sales", "inventory.commands", "restock.acks", "inventory.orders-by-outlet")
ID_HORIZON = timedelta(days=7)
"""How long applied event ids are kept: an outlet resends a sale within days."""
REBUILD_CHECK_S = 2.0
JOBS = frozenset({"stock", "route-orders", "read-model"})
READ_MODEL_LINGER_MS = 200

STOCK_ORDER_EVENTS = (
    orders.OrderPlaced,
    orders.OrderCancelled,
    orders.OrderExpired,
    orders.OrderFailed,
    orders.OrderFulfilled,
)
ANSWERS = (orders.OrderReserved, orders.OrderRejected)
"""The orders service's record of inventory's own answers: nothing to route."""


def route_order(_: Mapping[str, Any], event: Envelope[Any], __: datetime) -> Outcome:
    value = event.model_dump_json().encode()
    return Outcome(events=[Emit("inventory.orders-by-outlet", event.data.outlet_id, value)])


def ignore(_: Mapping[str, Any], __: Envelope[Any], ___: datetime) -> Outcome:
    return Outcome()


STOCK_LINGER_MS = 5
"""How long the broker may hold the stock stream's fetch for more: each fetch names the
18 partitions of its inputs, encoded and decoded by aiokafka in Python, and answered at
once it carried a sale or two. At 380 sales/s, 5 ms took the worker from 39 % to 37 % of
a core and the sale-to-page p99 from 163-173 ms to 134-143 ms (docs/PERFORMANCE.md); a
lone sale waits up to 5 ms more."""


def stock_stream(
    catalog: Any,
    forecast_every_s: float = FORECAST_EVERY_S,
    review: timedelta = timedelta(0),
    committed: Committed | None = None,
    void_window: timedelta = VOID_WINDOW,
    price_tolerance: float = PRICE_TOLERANCE,
    expiry_alert_days: int = EXPIRY_ALERT_DAYS,
) -> Stream:
    return Stream(
        service=SERVICE,
        name="stock",
        inputs=INPUTS,
        handlers=handlers(catalog, void_window, price_tolerance),
        remember_ids=frozenset(INPUTS),
        id_horizon=ID_HORIZON,
        ticks=(
            (600.0, forget_old_decisions),
            (OVERDUE_EVERY_S, flag_overdue_restocks),
            (OVERDUE_EVERY_S, flag_overdue_transfers),
            (OVERDUE_EVERY_S, ask_for_closing_counts(catalog)),
            (EXPIRY_EVERY_S, expire_batches(catalog, expiry_alert_days)),
            (forecast_every_s, predict_stockouts(catalog, True, review, committed)),
        ),
        key_of=outlet_of,
        linger_ms=STOCK_LINGER_MS,
    )


ROUTE_ORDERS = Stream(
    service=SERVICE,
    name="route-orders",
    inputs=("orders.events",),
    handlers={
        **dict.fromkeys(STOCK_ORDER_EVENTS, route_order),
        **dict.fromkeys(ANSWERS, ignore),
    },
    stateful=False,
)


class Worker:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        registry = self.registry = settings.registry
        bootstrap = settings.kafka_bootstrap_servers
        self.clock = clock or clock_from_env()
        self.catalog = CatalogView(bootstrap, registry, SERVICE)
        self.restocks = RestockView(bootstrap, registry, SERVICE)
        """Every outlet's requests, so a supplier's weekly capacity counts them all."""
        self.redis = redis_client(settings.redis_url)
        self.read_model = StockReadModel(self.redis, registry.prefix)
        options: dict[str, Any] = {
            "clock": self.clock,
            "replication_factor": settings.replication_factor,
            "instance_id": settings.worker_instance,
        }
        self.stock = Kernel(
            stock_stream(
                self.catalog,
                settings.forecast_every_s,
                timedelta(seconds=settings.restock_review_s),
                self.restocks.committed,
                timedelta(minutes=settings.void_minutes),
                settings.price_tolerance_percent,
                settings.expiry_alert_days,
            ),
            registry,
            bootstrap,
            **options,
        )
        self.route = Kernel(ROUTE_ORDERS, registry, bootstrap, **options)
        # The stock API's view may trail the dashboard (the latency path) by a fifth of a
        # second: one wake-up per 200 ms, not one per transaction of the worker.
        self.projection = Projection(
            SERVICE,
            "read-model",
            registry,
            bootstrap,
            "inventory.stock",
            self.project,
            linger_ms=READ_MODEL_LINGER_MS,
        )
        self._stopping = asyncio.Event()
        self._catalog_started = False

    async def project(self, records: list[Any]) -> None:
        changes = parse_changes(records)
        await self.read_model.apply(changes)
        # Sale lines per outlet, for the silent-outlet alert (at least once, like the
        # projection: a replay counts again, and the alert only asks whether any came).
        sold = Counter(data["outlet_id"] for data, *_ in changes if data.get("reason") == "sale")
        for outlet, lines in sold.items():
            OUTLET_SALES.labels(SERVICE, outlet).inc(lines)

    async def apply_inputs(self) -> None:
        if not self._catalog_started:
            await self.catalog.start()
            await self.restocks.start()
            self._catalog_started = True
        await self.stock.run()

    async def keep_read_model(self) -> None:
        """The projection, and a rebuild from the ledger whenever Redis lost the model."""
        bootstrap = self.settings.kafka_bootstrap_servers
        projecting = asyncio.create_task(self.projection.run())
        try:
            while not self._stopping.is_set() and not projecting.done():
                if not await self.read_model.is_built():
                    log.warning("the stock read model is missing (Redis wiped?): rebuilding")
                    await rebuild(bootstrap, self.registry, self.read_model)
                await asyncio.sleep(REBUILD_CHECK_S)
            if projecting.done():
                projecting.result()  # a failure: the shell starts this job again
        finally:
            # Cancelled, not stopped: the shell starts this job again after a failure.
            projecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await projecting

    def stop(self) -> None:
        self._stopping.set()
        for part in (self.stock, self.route, self.projection):
            part.stop()

    def run(self, only: frozenset[str] = JOBS) -> None:
        bootstrap = self.settings.kafka_bootstrap_servers
        unknown = only - JOBS
        if unknown or not only:
            raise SystemExit(f"jobs are {', '.join(sorted(JOBS))}; not {', '.join(unknown)}")

        async def consumer() -> bool:
            return self.stock.owns_tasks()

        checks: dict[str, Callable[[], Awaitable[bool]]] = {
            "kafka": lambda: broker_ready(bootstrap)
        }
        if "read-model" in only:
            checks["redis"] = lambda: redis_ready(self.redis)
        if "stock" in only:
            checks["consumer"] = consumer
        jobs = {
            "stock": self.apply_inputs,
            "route-orders": self.route.run,
            "read-model": self.keep_read_model,
        }
        shell = WorkerShell(SERVICE, self.settings, checks=checks)
        shell.run([(name, job) for name, job in jobs.items() if name in only], self.stop)
