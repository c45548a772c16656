"""The one place that builds clients and wires the catalog service together."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from lumbung.catalog.adapters.kafka_log import KafkaEntityLog
from lumbung.catalog.adapters.outlet_hours import OUTLET_HOURS
from lumbung.catalog.adapters.projector import CatalogProjector
from lumbung.catalog.adapters.redis_model import RedisReadModel
from lumbung.catalog.entrypoints.api import install_error_mapping, routers
from lumbung.catalog.service import KEYS_TOPIC, CatalogService
from lumbung.catalog.settings import Settings
from lumbung.contracts import ApiKeyChanged, KeyRole
from lumbung.platform.auth import new_key
from lumbung.platform.clock import Clock, SystemClock
from lumbung.platform.kit import ServiceKit
from lumbung.platform.projected import keep_projected
from lumbung.platform.readiness import read_model_built
from lumbung.platform.shell import forever

SERVICE = "catalog"
CATCH_UP_TIMEOUT_S = 60.0


def issue() -> tuple[str, str, str]:
    key = new_key()
    return key.plain, key.key_id, key.secret_hash


def build_api(settings: Settings, clock: Clock | None = None) -> FastAPI:
    clock = clock or SystemClock()
    kit = ServiceKit(SERVICE, settings)
    model = RedisReadModel(kit.redis, kit.registry.prefix)
    log = KafkaEntityLog(settings.kafka_bootstrap_servers, kit.registry)
    service = CatalogService(log, model, clock.now, issue, on_key=kit.keys.put)
    projector = CatalogProjector(
        settings.kafka_bootstrap_servers,
        kit.registry,
        model,
        service.key_changed,
        on_outlet=OUTLET_HOURS.put,
    )

    stopping = asyncio.Event()
    what = "the catalog read model"
    following: list[asyncio.Task[None]] = []

    async def follow() -> None:
        await keep_projected([projector], projector.is_built, projector.rebuild, stopping, what)

    async def start() -> None:
        await log.start()
        # Started again when it fails: a Redis that went away ended it for good, and the
        # catalog lacked what Redis lost when it came back empty, while /readyz said ready.
        following.append(asyncio.create_task(forever("catalog-projector", follow)))
        await asyncio.wait_for(projector.caught_up.wait(), CATCH_UP_TIMEOUT_S)

    async def stop() -> None:
        stopping.set()
        for task in following:
            task.cancel()
        await asyncio.gather(*following, return_exceptions=True)
        await log.stop()

    built = read_model_built(model.is_built, what)

    async def read_model_ready() -> bool:
        return projector.caught_up.is_set() and bool(await built())

    app = kit.app(
        description="Catalog: products, suppliers, outlets, calendar events and API keys.",
        routers=routers(kit.principal),
        readiness={"read_model": read_model_ready},
        on_start=[start],
        on_stop=[stop],
    )
    install_error_mapping(app)
    app.state.catalog = service
    app.state.projector = projector
    app.state.read_model = model
    return app


async def issue_key_directly(settings: Settings, role: KeyRole, subject: str, label: str) -> str:
    """Issue a key straight onto `auth.keys`: how the first ops key comes to exist."""
    log = KafkaEntityLog(settings.kafka_bootstrap_servers, settings.registry)
    plain, key_id, secret_hash = issue()
    record = ApiKeyChanged(
        key_id=key_id,
        role=role,
        subject="*" if role is KeyRole.OPS else subject,
        secret_hash=secret_hash,
        label=label,
        version=1,
        changed_at=SystemClock().now(),
    )
    await log.start()
    try:
        await log.publish(KEYS_TOPIC, key_id, record, cause="cli:issue-key")
    finally:
        await log.stop()
    return plain
