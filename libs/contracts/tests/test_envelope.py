from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from lumbung.contracts import (
    DEFAULT,
    ContractError,
    SaleLine,
    SaleRecorded,
    derived_event_id,
    derived_event_text,
    encode,
    event_json,
    make_event,
    sale_event_id,
)
from lumbung.contracts.events import inventory

WITA = ZoneInfo("Asia/Makassar")

# As an outlet would write it by hand and produce it with kcat.
HAND_WRITTEN = """{
  "event_id": "0193f6c2-7b1e-7c4a-9d2e-5f6a7b8c9d0e",
  "event_type": "pos.SaleRecorded",
  "schema_version": 1,
  "occurred_at": "2026-07-14T10:15:02+08:00",
  "producer": "outlet:IKN-01",
  "correlation_id": "S-000123",
  "causation_id": null,
  "data": {
    "sale_id": "S-000123",
    "outlet_id": "IKN-01",
    "lines": [{"sku": "AMPLANG-250", "qty": 2, "unit_price_idr": 25000}],
    "sold_at": "2026-07-14T10:15:00+08:00",
    "receipt_no": "R-77"
  }
}"""


def hand_written(**changes: object) -> dict[str, object]:
    event: dict[str, object] = json.loads(HAND_WRITTEN)
    for path, value in changes.items():
        target: object = event
        *parents, last = path.split("__")
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]  # type: ignore[index]
        if value is None:
            del target[last]  # type: ignore[attr-defined]
        else:
            target[last] = value  # type: ignore[index]
    return event


def error_fields(exc: pytest.ExceptionInfo[ContractError]) -> list[str]:
    return [e["field"] for e in exc.value.errors]


def test_a_hand_written_sale_validates_from_raw_bytes() -> None:
    event = DEFAULT.parse(HAND_WRITTEN.encode())

    assert event.event_type == "pos.SaleRecorded"
    assert isinstance(event.data, SaleRecorded)
    assert event.data.lines[0].qty == 2
    assert event.occurred_at.utcoffset() is not None


def test_encoding_and_parsing_round_trip() -> None:
    sale = SaleRecorded(
        sale_id="S1",
        outlet_id="RA-KM47",
        sold_at=datetime.now(WITA),
        lines=[SaleLine(sku="MADU-KELULUT", qty=1, unit_price_idr=85_000)],
    )
    event = make_event(
        sale,
        event_id=sale_event_id("RA-KM47", "S1"),
        occurred_at=datetime.now(WITA),
        producer="outlet:RA-KM47",
        correlation_id="S1",
    )

    assert DEFAULT.parse(encode(event)) == event


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"producer": None}, "producer"),
        ({"event_id": "not-a-uuid"}, "event_id"),
        ({"schema_version": "one"}, "schema_version"),
        ({"occurred_at": "2026-07-14T10:15:02"}, "occurred_at"),
        ({"data__lines__0__qty": 0}, "data.lines.0.qty"),
        ({"data__lines__0__unit_price_idr": -1}, "data.lines.0.unit_price_idr"),
        ({"data__outlet_id": None}, "data.outlet_id"),
        ({"data__lines": []}, "data.lines"),
        ({"data__sold_at": "yesterday"}, "data.sold_at"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_a_malformed_envelope_is_refused_naming_the_field(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ContractError) as exc:
        DEFAULT.parse(hand_written(**changes))

    assert field in error_fields(exc)
    assert field in str(exc.value)


def test_an_unknown_event_type_is_refused() -> None:
    with pytest.raises(ContractError) as exc:
        DEFAULT.parse(hand_written(event_type="pos.SaleImagined"))

    assert error_fields(exc) == ["event_type"]
    assert "pos.SaleImagined" in str(exc.value)


def test_an_unknown_schema_version_is_refused() -> None:
    with pytest.raises(ContractError) as exc:
        DEFAULT.parse(hand_written(schema_version=9))

    assert error_fields(exc) == ["schema_version"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"schema_version": "2"}, None), ({"schema_version": "two"}, "schema_version")],
)
def test_a_header_outside_the_fast_path_is_still_read_or_explained(
    changes: dict[str, object], field: str | None
) -> None:
    # The parser looks the type up directly when the header has the exact JSON types; any
    # other header goes through the model that coerces or names the wrong field.
    if field is None:
        assert DEFAULT.parse(hand_written(**changes)).schema_version == 2
        return
    with pytest.raises(ContractError) as exc:
        DEFAULT.parse(hand_written(**changes))
    assert error_fields(exc) == [field]


@pytest.mark.parametrize("effect", ["0:stock:AMPLANG", "1:restock:MADU-500", "", "ü"])
def test_the_text_form_of_a_derived_id_is_the_uuid5_one(effect: str) -> None:
    cause = uuid4()
    assert derived_event_text(str(cause), effect) == str(derived_event_id(cause, effect))


@pytest.mark.parametrize("raw", [b"", b"{", b"[1, 2]", b"\xff\xfe"])
def test_bytes_that_are_not_a_json_object_are_refused(raw: bytes) -> None:
    with pytest.raises(ContractError):
        DEFAULT.parse(raw)


def test_a_resent_sale_gets_the_same_event_id() -> None:
    first = sale_event_id("IKN-01", "S-000123")

    assert sale_event_id("IKN-01", "S-000123") == first
    assert sale_event_id("IKN-02", "S-000123") != first
    assert isinstance(first, UUID)


def test_unknown_payload_fields_are_ignored_for_additive_evolution() -> None:
    event = DEFAULT.parse(hand_written(data__loyalty_card="1234"))

    assert isinstance(event.data, SaleRecorded)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 7, 14, 10, 15, 2, tzinfo=UTC),
        datetime(2026, 7, 14, 10, 15, 2, 1000, tzinfo=UTC),
        datetime(2026, 7, 14, 10, 15, 2, 123456, tzinfo=timezone(timedelta(hours=8))),
        datetime(2026, 7, 14, 10, 15, 2, tzinfo=ZoneInfo("Asia/Makassar")),
    ],
)
@pytest.mark.parametrize("causation", [None, "0193f6c2-cause"])
def test_event_json_writes_the_bytes_the_envelope_model_writes(
    moment: datetime, causation: str | None
) -> None:
    payloads = [
        inventory.StockChanged(
            outlet_id="IKN-01",
            sku="AMPLANG-250",
            on_hand=-3,
            reserved=0,
            available=-3,
            delta=-2,
            reason="sale",
            version=7,
        ),
        inventory.StockAlertRaised(
            alert=inventory.AlertKind.NEGATIVE_STOCK,
            outlet_id="IKN-01",
            sku="AMPLANG-250",
            on_hand=-3,
            available=-3,
            reorder_point=5,
            message="hitung ulang “amplang”",
        ),
    ]
    for payload in payloads:
        fields: dict[str, Any] = {
            "event_id": uuid4(),
            "occurred_at": moment,
            "producer": "inventory",
            "correlation_id": "S-1",
            "causation_id": causation,
        }
        expected = make_event(payload, **fields, trusted=True).model_dump_json().encode()
        assert event_json(payload, **fields) == expected
