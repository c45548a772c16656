"""Readiness that tells the truth about what an API's answers depend on: its stream
workers (running, and not far behind) and the Redis read models they keep.

An API answers from Redis read models that its service's workers fill from Kafka. When
no worker runs, or Redis came back empty and the model is still being rebuilt, the API
would answer 200 with empty or stale data; `/readyz` says 503 and why instead.

Workers are seen from Kafka, not from anything they write: a worker is in its service's
consumer group (`[prefix.]lumbung-<service>`, or `…-<stream>` per stream) while it runs,
and the group's committed offsets against the end of its inputs tell how far behind it is.
A killed worker leaves the group once its session times out (seconds).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import OffsetSpec

from lumbung.contracts import Registry
from lumbung.platform.broker import client_security


class NotReady(Exception):
    """A readiness check that fails for a reason worth telling (`/readyz` shows it)."""


def worker_group(service: str, registry: Registry) -> str:
    """The consumer group of a service's workers (each stream adds `-<stream>` to it)."""
    base = f"lumbung-{service}"
    return f"{registry.prefix}.{base}" if registry.prefix else base


def read_model_built(is_built: Callable[[], Awaitable[bool]], what: str) -> Callable[[], Any]:
    """A check that a Redis read model is whole: its `built` marker is there. A wiped Redis
    loses the marker with the data, and the worker sets it again once it has rebuilt."""

    async def check() -> bool:
        if not await is_built():
            raise NotReady(
                f"{what} is being rebuilt from Kafka (Redis lost it, or no worker has built it yet)"
            )
        return True

    return check


class WorkerWatch:
    """Whether a service's stream workers run and keep up, seen in their consumer groups."""

    def __init__(
        self,
        bootstrap_servers: str,
        registry: Registry,
        service: str,
        max_lag: int,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._service = service
        self._group = worker_group(service, registry)
        self._max_lag = max_lag

    async def check(self) -> bool:
        return await asyncio.to_thread(self._check)

    def _check(self) -> bool:
        admin = KafkaAdminClient(
            **client_security(),
            bootstrap_servers=self._bootstrap,
            client_id="lumbung-readiness",
            request_timeout_ms=3000,
        )
        try:
            listed = [str(g["group_id"]) for g in admin.list_groups()]
            groups = [g for g in listed if g == self._group or g.startswith(f"{self._group}-")]
            if not groups:
                raise NotReady(f"no {self._service} worker has started (group {self._group})")
            # A group left empty by a stream a worker no longer runs (renamed, or from an
            # older version) lingers until Kafka expires it: only no member at all is down.
            described = admin.describe_groups(groups)
            live = [g for g, found in described.items() if found.get("members")]
            if not live:
                raise NotReady(
                    f"the {self._service} worker is down (no member in {', '.join(groups)})"
                )
            committed: dict[TopicPartition, int] = {}
            for offsets in admin.list_group_offsets({g: None for g in live}).values():
                for tp, meta in offsets.items():
                    if meta.offset >= 0:
                        committed[tp] = meta.offset
            ends = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in committed})
            behind = sum(
                max(0, _offset(ends[tp]) - at) for tp, at in committed.items() if tp in ends
            )
            if behind > self._max_lag:
                raise NotReady(f"the {self._service} worker is {behind} events behind")
            return True
        finally:
            admin.close()


def _offset(found: Any) -> int:
    return int(getattr(found, "offset", found))
