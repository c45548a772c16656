"""Redis holds read models and caches only: everything in it can be rebuilt from Kafka."""

from __future__ import annotations

import redis.asyncio as aioredis


def redis_client(url: str) -> aioredis.Redis:
    return aioredis.Redis.from_url(url, decode_responses=False, health_check_interval=10)


async def redis_ready(client: aioredis.Redis) -> bool:
    return bool(await client.ping())
