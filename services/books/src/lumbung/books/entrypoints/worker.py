"""The books worker, as declarations on the platform's stream kernel.

    lumbung-books worker [--jobs ledgers,read-model]

- `ledgers`: every sale and return on `pos.sales`, every refused return on
  `inventory.alerts` and goods sent back to their producers on `inventory.commands` (all
  keyed by outlet, so they meet in one task), applied by
  `handlers` to a ledger per (outlet, month, supplier); a resent sale (its event id
  remembered) counts once; one transaction per batch holds the changed ledgers, dead
  letters and input offsets;
- `read-model`: the Redis books view, fed from the `ledgers` stream's changelog (its
  committed state) and from `books.events` (statements issued, payments), and rebuilt from
  both whenever Redis lost it.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from lumbung.books.adapters.read_model import BooksReadModel
from lumbung.books.handlers import (
    FORGET_EVERY_S,
    CatalogLookup,
    forget_old_markers,
    handlers,
    outlet_of,
)
from lumbung.books.settings import Settings
from lumbung.platform.cache import redis_client, redis_ready
from lumbung.platform.clock import Clock, clock_from_env
from lumbung.platform.kernel import Kernel, Projection, Stream, read_to_end
from lumbung.platform.projected import keep_projected
from lumbung.platform.shell import run_jobs
from lumbung.platform.views import CatalogView

SERVICE = "books"
INPUTS = ("pos.sales", "inventory.alerts", "inventory.commands")
ID_HORIZON = timedelta(days=7)
"""How long applied sale ids are kept: an outlet resends a sale within days."""
JOBS = frozenset({"ledgers", "read-model"})
LINGER_MS = 1000
"""Nobody waits on the books by the millisecond: their stream and its read model fetch at
most once a second (or a megabyte), so a busy day costs a transaction a second per task,
not one per few sales, on the cores the sales' own path shares."""


def ledgers_stream(catalog: CatalogLookup) -> Stream:
    return Stream(
        service=SERVICE,
        name="ledgers",
        inputs=INPUTS,
        handlers=handlers(catalog),
        remember_ids=frozenset({"pos.sales"}),
        id_horizon=ID_HORIZON,
        ticks=((FORGET_EVERY_S, forget_old_markers),),
        key_of=outlet_of,
        linger_ms=LINGER_MS,
    )


class Worker:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        registry = self.registry = settings.registry
        bootstrap = settings.kafka_bootstrap_servers
        self.catalog = CatalogView(bootstrap, registry, SERVICE)
        self.redis = redis_client(settings.redis_url)
        self.read_model = BooksReadModel(self.redis, registry.prefix)
        self.ledgers = Kernel(
            ledgers_stream(self.catalog),
            registry,
            bootstrap,
            clock=clock or clock_from_env(),
            replication_factor=settings.replication_factor,
            instance_id=settings.worker_instance,
        )
        self.projections = (
            Projection(
                SERVICE,
                "read-model",
                registry,
                bootstrap,
                self.ledgers.changelog,
                self.read_model.put_ledgers,
                physical=True,
                linger_ms=LINGER_MS,
            ),
            Projection(
                SERVICE, "read-model-events", registry, bootstrap, "books.events", self.events
            ),
        )
        self._stopping = asyncio.Event()
        self._catalog_started = False

    async def events(self, records: list[Any]) -> None:
        await self.read_model.put_events(self.registry, records)

    async def apply_inputs(self) -> None:
        if not self._catalog_started:  # a sale's supplier and month come from the catalog
            await self.catalog.start()
            self._catalog_started = True
        await self.ledgers.run()

    async def rebuild(self) -> None:
        """Every ledger and every statement event into Redis again (never over a newer
        ledger, and an issue or payment only once: `BooksReadModel`)."""
        bootstrap, registry = self.settings.kafka_bootstrap_servers, self.registry
        tasks = registry.spec(INPUTS[0]).partitions
        await read_to_end(bootstrap, self.ledgers.changelog, tasks, self.read_model.put_ledgers)
        events = registry.spec("books.events").partitions
        await read_to_end(bootstrap, registry.name("books.events"), events, self.events)
        await self.read_model.mark_built()

    async def keep_read_model(self) -> None:
        """The projections, and a rebuild whenever Redis lost the model."""
        await asyncio.to_thread(self.ledgers.declare)  # the changelog the model is read from
        model = self.read_model
        what = "the books read model"
        await keep_projected(self.projections, model.is_built, self.rebuild, self._stopping, what)

    def stop(self) -> None:
        self._stopping.set()
        self.ledgers.stop()
        for projection in self.projections:
            projection.stop()

    def run(self, only: frozenset[str] = JOBS) -> None:
        async def consumer() -> bool:
            return self.ledgers.owns_tasks()

        jobs = {"ledgers": self.apply_inputs, "read-model": self.keep_read_model}
        checks = {
            "redis": ("read-model", lambda: redis_ready(self.redis)),
            "consumer": ("ledgers", consumer),
        }
        run_jobs(SERVICE, self.settings, jobs, only, self.stop, checks)
