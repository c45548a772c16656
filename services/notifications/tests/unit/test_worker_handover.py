"""What the worker hands to its sender: a message whose outcome it has written is not sent
again while the stream reads the outcome back, but the same message made anew (a failed
one's cause produced again from the DLQ) goes at once. No broker: the worker is built,
never run, and its sender and outcome log are stand-ins."""

from __future__ import annotations

import asyncio
from typing import Any

from lumbung.notifications.entrypoints.worker import Worker
from lumbung.notifications.sender import Outcome, Record
from lumbung.notifications.settings import Settings


class Scheduled:
    def __init__(self) -> None:
        self.records: list[Record] = []

    def schedule(self, record: Record) -> None:
        self.records.append(record)

    def busy_with(self, _: str) -> bool:
        return False


class Written:
    def __init__(self) -> None:
        self.events: list[Any] = []

    async def publish(self, topic: str, key: str, event: Any) -> None:
        self.events.append((topic, key, event))


def message(taken_at: str, offset: int) -> Record:
    cause = {
        "id": "6f1c9a52-4a7e-4c1e-9f53-2b8d1f3e0a11",
        "raw": "{}",
        "origin": f"restock.events:0@{offset}",
        "key": "IKN-01",
    }
    return {
        "id": "d-grogot",
        "recipient": "supplier:SUP-GROGOT",
        "kind": "restock",
        "channel": "webhook",
        "to": "http://127.0.0.1:1/hook",
        "subject": "s",
        "text": "t",
        "data": {},
        "causes": [cause],
        "status": "pending",
        "t": taken_at,
    }


def worker() -> tuple[Worker, Scheduled]:
    built = Worker(Settings(kafka_bootstrap_servers="127.0.0.1:1"))
    sender = Scheduled()
    built.sender = sender  # type: ignore[assignment]
    built.outcomes = Written()  # type: ignore[assignment]
    return built, sender


def test_a_message_whose_failure_is_written_is_not_handed_over_again() -> None:
    built, sender = worker()
    first = message("2026-07-14T10:15:02+08:00", offset=7)
    built.deliver(0, [first])
    asyncio.run(built.settle(first, Outcome(False, 4, "500")))

    built.deliver(0, [dict(first)])  # the pending tick, before the failure is read back

    assert sender.records == [first]


def test_a_failed_message_made_anew_from_its_dead_letter_is_handed_over_at_once() -> None:
    built, sender = worker()
    first = message("2026-07-14T10:15:02+08:00", offset=7)
    built.deliver(0, [first])
    asyncio.run(built.settle(first, Outcome(False, 4, "500")))

    again = message("2026-07-14T10:16:05+08:00", offset=12)
    built.deliver(0, [again])

    assert sender.records == [first, again]
