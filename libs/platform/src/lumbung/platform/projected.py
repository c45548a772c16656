"""A worker's read-model job: its projections run, and whenever Redis lost the model (its
`built` marker is gone: a wipe, or a new Redis) it is rebuilt from Kafka beside them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

log = logging.getLogger(__name__)
REBUILD_CHECK_S = 2.0


class Runs(Protocol):
    """A projection that runs until stopped or failed (`kernel.Projection`, the catalog's
    projector)."""

    async def run(self) -> None: ...


async def keep_projected(
    projections: Sequence[Runs],
    is_built: Callable[[], Awaitable[bool]],
    rebuild: Callable[[], Awaitable[None]],
    stopping: asyncio.Event,
    what: str,
) -> None:
    """Until `stopping` is set or a projection fails (raised here: the worker shell starts
    the job again). `rebuild` must never put an older state over a newer one, since the
    projections go on meanwhile."""
    running = [asyncio.create_task(p.run()) for p in projections]
    try:
        while not stopping.is_set() and not any(task.done() for task in running):
            if not await is_built():
                log.warning("%s is missing (Redis wiped?): rebuilding", what)
                await rebuild()
            await asyncio.sleep(REBUILD_CHECK_S)
        for task in running:
            if task.done():
                task.result()
    finally:
        # Cancelled, not stopped: the shell may start this job again after a failure.
        for task in running:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
