"""The stream kernel's batch, without a broker: what reaches handlers, what is kept and
what is dead-lettered."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from lumbung.contracts import Registry, sale_event_id
from lumbung.contracts.events import pos
from lumbung.platform.dlq import HEADER_ERROR
from lumbung.platform.kernel import Batch, IdMemory, Outcome, Stream, note_key
from lumbung.platform.testing import encoded_sale

NOW = datetime(2026, 7, 14, 10, 0, tzinfo=UTC)


def sale(sale_id: str) -> bytes:
    return encoded_sale(sale_id, qty=2, at=NOW)


def record(value: bytes, offset: int = 0) -> Any:
    return SimpleNamespace(
        topic="pos.sales", partition=0, offset=offset, key=b"IKN-01", value=value
    )


def count_units(state: Mapping[str, Any], event: Any, now: datetime) -> Outcome:
    units = state.get("units", 0) + sum(line.qty for line in event.data.lines)
    return Outcome({"units": units})


def failing(state: Mapping[str, Any], event: Any, now: datetime) -> Outcome:
    raise ValueError("the total would not fit in 64 bits")


def batch(handler: Any, state: dict[str, Any], ids: IdMemory) -> Batch:
    stream = Stream(
        "inventory", "test", ("pos.sales",), {pos.SaleRecorded: handler}, frozenset({"pos.sales"})
    )
    return Batch(stream, Registry(), state, ids, NOW)


def test_a_resent_event_reaches_its_handler_once_and_its_id_is_written_once() -> None:
    state: dict[str, Any] = {}
    ids = IdMemory(per_key=10, horizon=timedelta(days=7))
    first = batch(count_units, state, ids)
    first.add("pos.sales", record(sale("S-1"), 0))
    first.add("pos.sales", record(sale("S-1"), 1))
    first.finish()
    later = batch(count_units, state, ids)
    later.add("pos.sales", record(sale("S-1"), 2))
    later.finish()

    assert state == {"units": 2}
    assert first.deltas["~ids|IKN-01|0"] == [
        int(NOW.timestamp()) // 3600,
        [sale_event_id("IKN-01", "S-1").hex],
    ]
    assert later.deltas == {}


def test_an_outlet_keeps_its_newest_ids_and_a_restart_remembers_the_same() -> None:
    ids = IdMemory(per_key=3, horizon=timedelta(days=7))
    changelog: dict[str, Any] = {}
    for n in range(5):
        step = batch(count_units, {}, ids)
        step.add("pos.sales", record(sale(f"S-{n}"), n))
        step.finish()
        changelog.update(step.deltas)
    restored = IdMemory(per_key=3, horizon=timedelta(days=7))
    for key, value in changelog.items():
        if key.startswith("~ids|"):
            restored.restore(key, value)

    for memory in (ids, restored):
        assert len(memory) == 3
        assert not memory.seen(sale_event_id("IKN-01", "S-1").bytes)
        assert memory.seen(sale_event_id("IKN-01", "S-4").bytes)
    assert changelog["~ids|IKN-01|0"] is None  # tombstoned, the topic is compacted


def keep_what_sold(state: Mapping[str, Any], event: Any, now: datetime) -> Outcome:
    return Outcome(note=(event.data.sale_id, [[line.sku, line.qty] for line in event.data.lines]))


def test_a_note_is_kept_beside_its_id_restored_with_it_and_dropped_with_it() -> None:
    ids = IdMemory(per_key=2, horizon=timedelta(days=7))
    state: dict[str, Any] = {}
    changelog: dict[str, Any] = {}
    for n in range(3):
        step = batch(keep_what_sold, state, ids)
        step.add("pos.sales", record(sale(f"S-{n}"), n))
        step.finish()
        changelog.update(step.deltas)
    first, last = note_key("S-0"), note_key("S-2")

    # In the id's chunk, not a changelog record of its own.
    assert not any(key.startswith("~n|") for key in changelog)
    assert changelog["~ids|IKN-01|2"][2] == {"S-2": [["AMPLANG", 2]]}
    assert state[last] == [["AMPLANG", 2]]
    assert first not in state  # its id fell out (per_key 2), and its note with it

    restored, again = IdMemory(per_key=2, horizon=timedelta(days=7)), {}
    restored.notes = again
    for key, value in changelog.items():
        if key.startswith("~ids|"):
            restored.restore(key, value)
    assert again == {k: v for k, v in state.items() if k.startswith("~n|")}
    assert len(again) == 2

    later = batch(keep_what_sold, again, restored)
    later.now = NOW + timedelta(days=8)
    later.forget_old_ids()
    assert again == {}


def test_a_handler_that_fails_dead_letters_its_record_and_changes_nothing() -> None:
    state: dict[str, Any] = {"units": 5}
    failed = batch(failing, state, IdMemory(per_key=10, horizon=timedelta(days=7)))

    failed.add("pos.sales", record(sale("S-2")))

    assert state == {"units": 5}
    assert failed.deltas == {}
    [(topic, _key, value, headers)] = failed.out
    assert topic == "inventory.dlq"
    assert value == sale("S-2")
    assert b"would not fit" in dict(headers or [])[HEADER_ERROR]


def test_a_payload_the_stream_cannot_key_is_dead_lettered_not_stopping_the_partition() -> None:
    def no_key(data: Any) -> str:
        raise AttributeError("'TransferOverdue' object has no attribute 'outlet_id'")

    stream = Stream("books", "test", ("pos.sales",), {pos.SaleRecorded: count_units}, key_of=no_key)
    state: dict[str, Any] = {}
    step = Batch(stream, Registry(), state, IdMemory(10, timedelta(days=7)), NOW)

    step.add("pos.sales", record(sale("S-3")))

    assert state == {}
    [(topic, _key, _value, headers)] = step.out
    assert topic == "books.dlq"
    assert b"no key for pos.SaleRecorded" in dict(headers or [])[HEADER_ERROR]


def test_a_handler_with_the_record_forwards_it_with_headers_and_effects_wait_for_the_commit() -> (
    None
):
    from lumbung.platform.kernel import Emit

    def forward(state: Mapping[str, Any], event: Any, now: datetime, came: Any) -> Outcome:
        origin = f"{came.topic}:{came.partition}@{came.offset}".encode()
        return Outcome(
            events=[Emit("inventory.alerts", "IKN-01", came.value, (("origin", origin),))],
            after=[("deliver", event.data.sale_id)],
        )

    stream = Stream(
        "inventory", "test", ("pos.sales",), {pos.SaleRecorded: forward}, with_record=True
    )
    applying = Batch(stream, Registry(), {}, IdMemory(10, timedelta(days=1)), NOW)

    applying.add("pos.sales", record(sale("S-9"), offset=41))

    [(_, key, value, headers)] = applying.out
    assert (key, value) == (b"IKN-01", sale("S-9"))
    assert headers[0] == ("origin", b"pos.sales:0@41")
    assert dict(headers)["ce_type"] == b"pos.SaleRecorded"  # an event: CloudEvents headers
    assert applying.after == [("deliver", "S-9")]  # handed over by the kernel after commit


def test_a_large_batch_keeps_its_notes_until_the_key_holds_enough_newer_ids() -> None:
    ids = IdMemory(per_key=2000, horizon=timedelta(days=7))
    state: dict[str, Any] = {}
    big = batch(keep_what_sold, state, ids)
    for n in range(2500):
        big.add("pos.sales", record(sale(f"S-{n}"), n))
    big.finish()
    for n in range(2500, 2502):  # two small batches after it
        step = batch(keep_what_sold, state, ids)
        step.add("pos.sales", record(sale(f"S-{n}"), n))
        step.finish()

    assert note_key("S-2499") in state  # the big chunk stays until 2,000 newer ids
    assert len(ids) == 2502


def test_a_note_named_twice_stays_when_the_older_chunk_goes() -> None:
    ids = IdMemory(per_key=2, horizon=timedelta(days=7))
    state: dict[str, Any] = {}
    changelog: dict[str, Any] = {}

    def named_once(state: Mapping[str, Any], event: Any, now: datetime) -> Outcome:
        return Outcome(note=("the-sale", event.data.sale_id))

    for n in range(4):  # four events (other ids) naming the same note, one batch each
        step = batch(named_once, state, ids)
        step.add("pos.sales", record(sale(f"S-{n}"), n))
        step.finish()
        changelog.update(step.deltas)

    assert state[note_key("the-sale")] == "S-3"
    restored, again = IdMemory(per_key=2, horizon=timedelta(days=7)), {}
    restored.notes = again
    for key in sorted(changelog, key=lambda k: int(k.rpartition("|")[2])):
        restored.restore(key, changelog[key])
    assert again == {note_key("the-sale"): "S-3"}
