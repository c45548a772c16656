"""Sending with retries: each message in its own task, so a receiver that is down delays
only its own messages, never another supplier's.

A failed attempt that may succeed later is tried again after an exponential backoff with
jitter (`backoff_s` doubling up to `backoff_max_s`, each wait drawn from its upper half),
up to `attempts` in all; a refusal that will not change (a 4xx, an unknown mailbox) ends
at once. Every attempt is logged. The outcome goes to `settle`, which records it.

The attempt count lives in memory: after a crash a pending message starts counting again
(it is sent again with the same delivery id, which the receiver drops if it had it).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from lumbung.notifications.channels import Channel, Delivery, DeliveryFailed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    attempts: int
    error: str = ""


Record = dict[str, Any]
"""A delivery record as the worker keeps it (see `entrypoints.worker`)."""


class Sender:
    def __init__(
        self,
        channel_for: Callable[[Record], Channel],
        settle: Callable[[Record, Outcome], Awaitable[None]],
        attempts: int,
        backoff_s: float,
        backoff_max_s: float,
        concurrency: int,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._channel_for = channel_for
        self._settle = settle
        self._attempts = max(1, attempts)
        self._backoff_s = backoff_s
        self._backoff_max_s = backoff_max_s
        self._slots = asyncio.Semaphore(concurrency)
        self._jitter = jitter
        self._tasks: dict[str, tuple[Record, asyncio.Task[None]]] = {}

    def busy_with(self, delivery_id: str) -> bool:
        return delivery_id in self._tasks

    def schedule(self, record: Record) -> None:
        """Send `record` unless it is being sent already."""
        delivery_id = record["id"]
        if delivery_id in self._tasks:
            return
        task = asyncio.create_task(self._run(record), name=f"deliver:{delivery_id}")
        self._tasks[delivery_id] = (record, task)
        task.add_done_callback(lambda _: self._tasks.pop(delivery_id, None))

    def cancel(self, keep: Callable[[Record], bool]) -> int:
        """Stop sending every record `keep` says no to (its partition went elsewhere)."""
        dropped = [task for record, task in self._tasks.values() if not keep(record)]
        for task in dropped:
            task.cancel()
        return len(dropped)

    async def close(self) -> None:
        tasks = [task for _, task in self._tasks.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt number `attempt` (1-based)."""
        ceiling = min(self._backoff_max_s, self._backoff_s * 2.0 ** (attempt - 1))
        return float(ceiling / 2 + ceiling / 2 * self._jitter())

    async def _run(self, record: Record) -> None:
        delivery = Delivery(
            delivery_id=record["id"],
            to=record["to"],
            subject=record["subject"],
            text=record["text"],
            data=record["data"],
        )
        channel = self._channel_for(record)
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self._slots:
                    await channel.send(delivery)
            except DeliveryFailed as exc:
                last = not exc.retry or attempt >= self._attempts
                wait = 0.0 if last else self.backoff(attempt)
                log.warning(
                    "delivery %s to %s by %s: attempt %d of %d failed: %s; %s",
                    delivery.delivery_id,
                    record["recipient"],
                    record["channel"],
                    attempt,
                    self._attempts,
                    exc,
                    "giving up" if last else f"next in {wait:.1f}s",
                )
                if last:
                    await self._settle(record, Outcome(False, attempt, str(exc)))
                    return
                await asyncio.sleep(wait)
                continue
            except Exception as exc:  # a channel bug must not kill the worker
                log.exception("delivery %s: the %s channel broke", delivery.delivery_id, channel)
                await self._settle(record, Outcome(False, attempt, f"channel error: {exc}"))
                return
            log.info(
                "delivery %s to %s by %s: delivered on attempt %d",
                delivery.delivery_id,
                record["recipient"],
                record["channel"],
                attempt,
            )
            await self._settle(record, Outcome(True, attempt))
            return
