"""A minimal faust worker for the foundation smoke test: it validates each event on
`pos.sales` with the contracts, adds the units sold to a Redis hash, and sends what it
cannot parse to `inventory.dlq`. Run: python tests/support/smoke_worker.py worker"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from lumbung.contracts import ContractError, SaleRecorded
from lumbung.platform.dlq import DeadLetter
from lumbung.platform.settings import ServiceSettings
from lumbung.platform.streams import make_stream_app, raw_topic

settings = ServiceSettings()
registry = settings.registry
app = make_stream_app("smoke", settings)
sales = raw_topic(app, registry, "pos.sales")
dlq = raw_topic(app, registry, "inventory.dlq")
redis = aioredis.Redis.from_url(settings.redis_url)
SOLD_KEY = f"smoke:{registry.prefix}:sold"


@app.agent(sales)
async def count_sales(stream: Any) -> None:
    async for event in stream.events():
        try:
            parsed = registry.parse(event.value)
        except ContractError as exc:
            letter = DeadLetter(
                "smoke",
                event.message.topic,
                event.message.partition,
                event.message.offset,
                event.key,
                event.value,
                str(exc),
            )
            await dlq.send(key=event.key, value=event.value, headers=letter.headers())
            continue
        sale: SaleRecorded = parsed.data
        for line in sale.lines:
            await redis.hincrby(SOLD_KEY, f"{sale.outlet_id}:{line.sku}", line.qty)


if __name__ == "__main__":
    app.main()
