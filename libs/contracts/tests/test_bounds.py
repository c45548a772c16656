"""The bounds of issue 15 beside the released version 1 of each event: old events still
read, as the current class; what no encoder writes is refused; numbers in text are read
only when they are plain digits within a bound."""

from __future__ import annotations

from typing import Any

import pytest

from lumbung.contracts import DEFAULT, ContractError, SaleLine, SaleRecorded, encode
from lumbung.contracts.bounds import MAX_UNITS, WIRE_MAX, whole_number


def sale(version: int, qty: int, price: int = 15_000) -> dict[str, Any]:
    return {
        "event_id": "0193f6c2-0000-7000-8000-000000000001",
        "event_type": "pos.SaleRecorded",
        "schema_version": version,
        "occurred_at": "2026-07-14T10:15:02+08:00",
        "producer": "outlet:IKN-01",
        "correlation_id": "S-1",
        "data": {
            "sale_id": "S-1",
            "outlet_id": "IKN-01",
            "sold_at": "2026-07-14T10:15:02+08:00",
            "lines": [{"sku": "AMPLANG-250", "qty": qty, "unit_price_idr": price}],
        },
    }


def test_a_version_1_event_past_a_new_bound_still_reads_as_the_current_class() -> None:
    event = DEFAULT.parse(sale(1, MAX_UNITS + 1))

    assert type(event.data) is SaleRecorded
    assert isinstance(event.data.lines[0], SaleLine)
    assert event.data.lines[0].qty == MAX_UNITS + 1
    assert DEFAULT.parse(encode(event)) == event  # read again, still version 1


def test_version_2_refuses_what_is_past_its_bound() -> None:
    with pytest.raises(ContractError) as refused:
        DEFAULT.parse(sale(2, MAX_UNITS + 1))

    assert [e["field"] for e in refused.value.errors] == ["data.lines.0.qty"]


@pytest.mark.parametrize(("qty", "price"), [(10**30, 1), (1, 2**64), (WIRE_MAX + 1, 1)])
def test_a_version_1_event_with_a_number_no_encoder_writes_is_refused(qty: int, price: int) -> None:
    # Such an event can only come from a producer that is not Lumbung's (orjson cannot
    # write it): refused, it goes to the DLQ instead of stopping the worker.
    with pytest.raises(ContractError, match="past 64 bits"):
        DEFAULT.parse(sale(1, qty, price))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("1000000", 1_000_000),
        ("1000001", None),
        ("9" * 5000, None),
        ("²", None),
        ("", None),
        ("-1", None),
        (" 5", None),
        ("٣", None),
    ],
)
def test_a_whole_number_in_text_is_plain_digits_within_its_bound(
    text: str, expected: int | None
) -> None:
    assert whole_number(text, MAX_UNITS) == expected
