"""The inventory API's copy of the open stockout predictions and the transfers in
transit (`transfers.Predictions`), followed from `inventory.alerts` and
`inventory.commands` in memory, as the restock view follows the restock topics: a few
hundred bytes a prediction, one per (outlet, SKU) at most."""

from __future__ import annotations

from typing import Any

from lumbung.contracts import Registry
from lumbung.inventory.transfers import Predictions
from lumbung.platform.views import Follower, parse_or_skip, views_ready


class PredictionView:
    def __init__(self, bootstrap_servers: str, registry: Registry, service: str) -> None:
        self._registry = registry
        self._service = service
        self.predictions = Predictions()
        self._follower = Follower(
            bootstrap_servers,
            registry,
            ["inventory.alerts", "inventory.commands"],
            self._handle,
        )
        self.caught_up = self._follower.caught_up

    async def start(self, timeout_s: float = 60.0) -> None:
        await self._follower.start()
        await self._follower.wait_caught_up(timeout_s)

    async def stop(self) -> None:
        await self._follower.stop()

    def ready(self) -> Any:
        return views_ready(self)

    def _handle(self, topic: str, raw: bytes) -> None:
        event = parse_or_skip(self._registry, raw, self._service, topic)
        if event is not None:
            self.predictions.apply(event.data)
