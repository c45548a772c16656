"""Positions against a consumer that behaves like faust's: it fetches batches, hands out
the rest of a fetched batch after a seek, and drops what lies below its read offset."""

from __future__ import annotations

from typing import Any

from lumbung.platform.positions import Positions

WHERE = "pos.sales:0"


class FaustLikeConsumer:
    """One partition of `size` events, read the way faust's `_drain_messages` reads."""

    def __init__(self, size: int, start: int) -> None:
        self.size = size
        self.fetch_at = start
        self.read_offset: int | None = None
        self.handed: list[int] = []

    async def seek(self, where: str, offset: int) -> None:
        self.fetch_at = offset
        self.read_offset = offset

    def fetch(self, many: int = 10) -> list[int]:
        batch = list(range(self.fetch_at, min(self.fetch_at + many, self.size)))
        self.fetch_at += len(batch)
        return batch

    async def drain(self, positions: Positions, applied: list[int], many: int = 10) -> None:
        """One fetch handed out in full (as faust does, even after a seek midway)."""
        for offset in self.fetch(many):
            if self.read_offset is None or offset >= self.read_offset:
                self.read_offset = offset
                if await positions.accept(WHERE, offset):
                    applied.append(offset)


def positions_over(consumer: FaustLikeConsumer, applied_up_to: int) -> Positions:
    async def earliest(where: str) -> int:
        return 0

    async def position(where: str) -> int | None:
        return consumer.fetch_at

    def load(where: str) -> int | None:
        return applied_up_to

    return Positions(load, consumer.seek, earliest, lambda: [WHERE], position)


async def test_a_hole_left_by_the_consumer_is_sought_back_and_filled_in_order() -> None:
    consumer = FaustLikeConsumer(size=40, start=10)  # faust committed past 5..9
    positions = positions_over(consumer, applied_up_to=4)
    applied: list[int] = []

    for _ in range(12):
        await consumer.drain(positions, applied)
        await positions.recheck({"pos.sales"})

    assert applied == list(range(5, 40))


async def test_a_seek_back_undone_by_the_rest_of_a_fetched_batch_is_sought_again() -> None:
    # The hole shows at the start of a batch: the seek back comes while faust still holds
    # the rest of that batch, which moves its read offset past the hole again, so the
    # refetched events are dropped by faust itself. Only a second seek gets them.
    consumer = FaustLikeConsumer(size=40, start=10)
    positions = positions_over(consumer, applied_up_to=4)
    applied: list[int] = []

    await consumer.drain(positions, applied)  # 10 → seek back to 5; 11..19 raise faust's offset
    await consumer.drain(positions, applied)  # 5..14 refetched and dropped by faust
    assert applied == []

    for _ in range(10):
        await positions.recheck({"pos.sales"})
        await consumer.drain(positions, applied)

    assert applied == list(range(5, 40))


async def test_events_skipped_at_the_end_of_the_log_are_sought_back_by_the_recheck() -> None:
    consumer = FaustLikeConsumer(size=20, start=20)  # nothing later shows the hole
    positions = positions_over(consumer, applied_up_to=14)
    applied: list[int] = []

    for _ in range(4):
        await positions.recheck({"pos.sales"})
        await consumer.drain(positions, applied)

    assert applied == list(range(15, 20))


async def test_a_redelivered_event_is_not_applied_again() -> None:
    consumer = FaustLikeConsumer(size=10, start=0)
    positions = positions_over(consumer, applied_up_to=6)
    applied: list[Any] = []

    await consumer.drain(positions, applied)

    assert applied == [7, 8, 9]


async def test_offsets_that_hold_no_record_are_passed_over_and_a_real_hole_is_not() -> None:
    markers = {5, 9}  # a transaction's commit markers: offsets no reader is handed
    records = [o for o in range(12) if o not in markers]

    async def next_record(where: str, offset: int) -> int | None:
        return next((o for o in records if o >= offset), None)

    async def seek(where: str, offset: int) -> None:
        sought.append(offset)

    async def earliest(where: str) -> int:
        return 0

    sought: list[int] = []
    positions = Positions(lambda where: 4, seek, earliest, next_record=next_record)

    assert [o for o in (6, 7, 8, 10) if await positions.accept(WHERE, o)] == [6, 7, 8, 10]
    assert sought == []
    assert not await positions.accept(WHERE, 12)  # 11 is a record it was never handed
    assert sought == [11]
