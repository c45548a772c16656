"""The orders worker, as declarations on the platform's stream kernel.

    lumbung-orders worker [--jobs orders,read-model]

- `orders`: every order event and inventory's answers, applied per order by `handlers`
  (the fold, the answers turned into order events, the timers that ask again, give up
  and expire); one transaction per batch holds the derived events, the changed orders,
  dead letters and input offsets;
- `read-model`: the Redis orders view, fed from the `orders` stream's changelog
  (read_committed: the committed state of every order), and rebuilt from it whenever
  Redis lost the view.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import orjson

from lumbung.orders.adapters.read_model import OrdersReadModel
from lumbung.orders.handlers import handlers, moves, order_of
from lumbung.orders.settings import Settings
from lumbung.platform.cache import redis_client, redis_ready
from lumbung.platform.clock import Clock, clock_from_env
from lumbung.platform.kernel import Kernel, Projection, Stream, read_to_end
from lumbung.platform.projected import keep_projected
from lumbung.platform.shell import run_jobs

SERVICE = "orders"
INPUTS = ("orders.events", "inventory.reservations")
MOVE_EVERY_S = 1.0
JOBS = frozenset({"orders", "read-model"})


def orders_stream(settings: Settings) -> Stream:
    tick = moves(
        timedelta(seconds=settings.answer_timeout_s),
        settings.answer_attempts,
        timedelta(seconds=settings.pickup_grace_s),
    )
    return Stream(
        service=SERVICE,
        name="orders",
        inputs=INPUTS,
        handlers=handlers(),
        ticks=((MOVE_EVERY_S, tick),),
        key_of=order_of,
    )


def changed_orders(records: list[Any]) -> list[dict[str, Any]]:
    """The orders in a batch of the stream's changelog (its other keys are timers)."""
    return [orjson.loads(r.value) for r in records if r.value and r.key.startswith(b"o|")]


class Worker:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        registry = self.registry = settings.registry
        bootstrap = settings.kafka_bootstrap_servers
        self.redis = redis_client(settings.redis_url)
        self.read_model = OrdersReadModel(self.redis, registry.prefix)
        self.orders = Kernel(
            orders_stream(settings),
            registry,
            bootstrap,
            clock=clock or clock_from_env(),
            replication_factor=settings.replication_factor,
            max_records=1000,
            instance_id=settings.worker_instance,
        )
        self.projection = Projection(
            SERVICE,
            "read-model",
            registry,
            bootstrap,
            self.orders.changelog,
            self.project,
            physical=True,
        )
        self._stopping = asyncio.Event()

    async def project(self, records: list[Any]) -> None:
        await self.read_model.put(changed_orders(records))

    async def rebuild(self) -> None:
        """Every order of the changelog into Redis again (never over a later state of an
        order the projection wrote meanwhile: `OrdersReadModel.put`)."""
        partitions = self.registry.spec(INPUTS[0]).partitions
        await read_to_end(
            self.settings.kafka_bootstrap_servers, self.orders.changelog, partitions, self.project
        )
        await self.read_model.mark_built()

    async def keep_read_model(self) -> None:
        """The projection, and a rebuild whenever Redis lost the model."""
        await asyncio.to_thread(self.orders.declare)  # the changelog the model is read from
        model, what = self.read_model, "the orders read model"
        await keep_projected([self.projection], model.is_built, self.rebuild, self._stopping, what)

    def stop(self) -> None:
        self._stopping.set()
        self.orders.stop()
        self.projection.stop()

    def run(self, only: frozenset[str] = JOBS) -> None:
        async def consumer() -> bool:
            return self.orders.owns_tasks()

        jobs = {"orders": self.orders.run, "read-model": self.keep_read_model}
        checks = {
            "redis": ("read-model", lambda: redis_ready(self.redis)),
            "consumer": ("orders", consumer),
        }
        run_jobs(SERVICE, self.settings, jobs, only, self.stop, checks)
