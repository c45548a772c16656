"""The CloudEvents Kafka binding of every event version, read back with the CloudEvents
SDK (no broker: tests/test_cloudevents.py reads the real topics)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import orjson
import pytest
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary_event

from lumbung.contracts import DEFAULT, cloudevents, encode, event_json, make_event
from lumbung.contracts.events import pos
from lumbung.contracts.examples import example_event
from lumbung.contracts.registry import EventSpec


def read(value: bytes, key: bytes, headers: list[tuple[str, bytes]]) -> BaseCloudEvent:
    return from_binary_event(KafkaMessage(headers=dict(headers), key=key, value=value))


@pytest.mark.parametrize(
    "spec", DEFAULT.events, ids=lambda s: f"{s.event_type}.v{s.schema_version}"
)
def test_every_event_version_reads_back_in_the_sdk_with_the_envelopes_values(
    spec: EventSpec,
) -> None:
    event = example_event(spec)
    value = orjson.dumps(event)
    ce = read(value, b"IKN-01", cloudevents.headers_for(value, b"IKN-01"))

    assert ce.get_specversion() == "1.0"
    assert ce.get_id() == event["event_id"]
    assert ce.get_type() == spec.event_type
    assert ce.get_source() == f"urn:lumbung:{event['producer']}"
    assert ce.get_subject() == "IKN-01"
    assert ce.get_time() == datetime.fromisoformat(event["occurred_at"])
    assert ce.get_datacontenttype() == "application/json"
    assert ce.get_dataschema() == f"lumbung:{spec.event_type}/v{spec.schema_version}"
    assert ce.get_extension("correlationid") == event["correlation_id"]
    # The data is the whole envelope, as every Lumbung consumer reads it.
    assert ce.get_data() == event


def test_the_fast_writer_and_the_envelope_model_give_the_same_headers() -> None:
    sale = pos.SaleRecorded(
        outlet_id="IKN-01",
        sale_id="S-1",
        sold_at=datetime.fromisoformat("2026-07-14T10:15:02+08:00"),
        lines=[pos.SaleLine(sku="AMP-001", qty=1, unit_price_idr=15_000)],
    )
    kwargs = dict(
        event_id=UUID("0b0e7a4e-8d1f-4a57-9d62-5bb6d1a1f2a1"),
        occurred_at=sale.sold_at,
        producer="outlet:IKN-01",
        correlation_id="S-1",
        causation_id="cause-1",
    )
    fast = event_json(sale, **kwargs)  # type: ignore[arg-type]
    model = make_event(sale, **kwargs)  # type: ignore[arg-type]
    assert fast == encode(model)

    by_bytes = dict(cloudevents.headers_for(fast, b"IKN-01"))
    assert dict(cloudevents.headers_of(model, b"IKN-01")) == by_bytes
    assert by_bytes["ce_causationid"] == b"cause-1"


def test_bytes_that_are_not_an_event_get_no_headers_and_headers_already_there_stay() -> None:
    assert cloudevents.headers_for(b"not json", b"k") == []
    assert cloudevents.headers_for(b'{"a": 1}', b"k") == []
    assert cloudevents.headers_for(b"[1, 2]", b"k") == []
    assert cloudevents.with_headers([("x", b"1")], b"not json", b"k") == [("x", b"1")]
    own = [("ce_id", b"mine")]
    assert cloudevents.with_headers(own, b"{}", b"k") == own
