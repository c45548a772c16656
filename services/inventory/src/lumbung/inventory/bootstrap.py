"""The one place that builds clients and wires the inventory service together."""

from __future__ import annotations

from fastapi import FastAPI

from lumbung.inventory.settings import Settings
from lumbung.platform.broker import broker_ready
from lumbung.platform.cache import redis_client, redis_ready
from lumbung.platform.web import create_service_app

SERVICE = "inventory"


def build_api(settings: Settings) -> FastAPI:
    redis = redis_client(settings.redis_url)

    async def kafka_check() -> bool:
        return await broker_ready(settings.kafka_bootstrap_servers)

    async def redis_check() -> bool:
        return await redis_ready(redis)

    return create_service_app(
        SERVICE,
        description="Inventory: stock per outlet and SKU, reservations, transfers and restocks.",
        readiness={"kafka": kafka_check, "redis": redis_check},
    )
