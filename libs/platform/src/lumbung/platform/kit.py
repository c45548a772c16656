"""What every service process starts with: Redis, its own view of `auth.keys`, readiness
checks and the FastAPI app around its routes.

No `from __future__ import annotations`: FastAPI reads the signature of `whoami`, whose
dependency is built per kit.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from lumbung.contracts import ApiKeyChanged, KeyRole
from lumbung.platform.auth import KeyRing, Principal, RateLimiter, principal_dependency
from lumbung.platform.broker import broker_ready
from lumbung.platform.cache import redis_client, redis_ready
from lumbung.platform.readiness import WorkerWatch
from lumbung.platform.settings import ServiceSettings
from lumbung.platform.views import CompactedView
from lumbung.platform.web import ReadinessCheck, create_service_app

Hook = Callable[[], Awaitable[None]]
KEYS_CATCH_UP_TIMEOUT_S = 60.0


STOP_TIMEOUT_S = 10.0
log = logging.getLogger(__name__)


async def _bounded(hook: Hook) -> None:
    """Stopping a client must not hang the process (a Kafka client stop can wait forever
    on a broker that went away): give each one a bounded time, then move on."""
    try:
        await asyncio.wait_for(hook(), STOP_TIMEOUT_S)
    except TimeoutError:
        log.warning("%s did not stop within %.0fs; going on", hook, STOP_TIMEOUT_S)


class WhoAmI(BaseModel):
    key_id: str
    role: KeyRole
    subject: str


class ServiceKit:
    def __init__(self, service: str, settings: ServiceSettings) -> None:
        self.service = service
        self.settings = settings
        self.registry = settings.registry
        self.redis = redis_client(settings.redis_url)
        self.keys = KeyRing()
        self.key_view: CompactedView[ApiKeyChanged] = CompactedView(
            settings.kafka_bootstrap_servers,
            self.registry,
            "auth.keys",
            key_of=lambda record: record.key_id,
            service=service,
            on_change=self.keys.put,
        )
        limiter = (
            RateLimiter(self.redis, self.registry.prefix, service, settings.rate_limit_per_minute)
            if settings.rate_limit_per_minute
            else None
        )
        self.principal = principal_dependency(self.keys, limiter)

    def readiness(
        self, extra: dict[str, ReadinessCheck] | None = None
    ) -> dict[str, ReadinessCheck]:
        async def kafka() -> bool:
            return await broker_ready(self.settings.kafka_bootstrap_servers)

        async def redis() -> bool:
            return await redis_ready(self.redis)

        async def keys() -> bool:
            return self.key_view.caught_up.is_set()

        return {"kafka": kafka, "redis": redis, "keys": keys, **(extra or {})}

    def workers_of(self, service: str) -> ReadinessCheck:
        """A readiness check that `service`'s stream workers run and keep up."""
        watch = WorkerWatch(
            self.settings.kafka_bootstrap_servers,
            self.registry,
            service,
            self.settings.ready_max_lag,
        )
        return watch.check

    def whoami_router(self) -> APIRouter:
        router = APIRouter(prefix="/v1", tags=["auth"])
        dependency = self.principal

        @router.get("/whoami", response_model=WhoAmI, summary="Who the presented API key is")
        async def whoami(principal: Annotated[Principal, dependency]) -> WhoAmI:
            return WhoAmI(key_id=principal.key_id, role=principal.role, subject=principal.subject)

        return router

    def app(
        self,
        description: str,
        routers: Sequence[APIRouter] = (),
        readiness: dict[str, ReadinessCheck] | None = None,
        on_start: Sequence[Hook] = (),
        on_stop: Sequence[Hook] = (),
    ) -> FastAPI:
        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            await self.key_view.start()
            await self.key_view.wait_caught_up(KEYS_CATCH_UP_TIMEOUT_S)
            for hook in on_start:
                await hook()
            try:
                yield
            finally:
                for hook in (*reversed(on_stop), self.key_view.stop, self.redis.aclose):
                    await _bounded(hook)

        return create_service_app(
            self.service,
            description=description,
            routers=[self.whoami_router(), *routers],
            readiness=self.readiness(readiness),
            lifespan=lifespan,
        )
