"""Redis holds read models and caches only: everything in it can be rebuilt from Kafka."""

from __future__ import annotations

import redis.asyncio as aioredis


def redis_client(url: str) -> aioredis.Redis:
    return aioredis.Redis.from_url(url, decode_responses=False, health_check_interval=10)


async def redis_ready(client: aioredis.Redis) -> bool:
    return bool(await client.ping())


def as_text(value: object) -> str:
    """A Redis reply as text, whether the client decodes replies or not."""
    return value.decode() if isinstance(value, bytes) else str(value)
