from __future__ import annotations

from lumbung.platform.idempotency import AppliedIds


def test_a_redelivered_id_is_recognised() -> None:
    applied = AppliedIds()

    assert applied.remember("e1", at=100.0) is True
    assert applied.remember("e1", at=101.0) is False


def test_ids_older_than_the_horizon_are_forgotten() -> None:
    applied = AppliedIds(max_age_s=60)
    applied.remember("old", at=0.0)

    applied.remember("new", at=61.0)

    assert "old" not in applied
    assert "new" in applied


def test_memory_never_grows_past_its_count() -> None:
    applied = AppliedIds(max_count=3)
    for i in range(10):
        applied.remember(f"e{i}", at=float(i))

    assert len(applied) == 3
    assert [event_id for event_id, _ in applied.entries()] == ["e7", "e8", "e9"]


def test_the_memory_survives_serialisation() -> None:
    applied = AppliedIds()
    applied.remember("e1", at=5.0)

    restored = AppliedIds(applied.entries())

    assert restored.remember("e1", at=6.0) is False
