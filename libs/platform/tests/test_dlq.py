from __future__ import annotations

from lumbung.platform.dlq import DeadLetter


def test_a_dead_letter_carries_its_origin_and_error_in_headers() -> None:
    letter = DeadLetter("inventory", "pos.sales", 3, 1234, b"IKN-01", b"\x00", "not valid JSON")

    restored = DeadLetter.from_headers(letter.key, letter.value, letter.headers())

    assert restored == letter
