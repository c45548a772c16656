"""Every Lumbung event on Kafka in the CloudEvents Kafka protocol binding, binary mode: the
`ce_*` headers mapped from the envelope, the JSON value left as it is (docs/decisions.md,
"CloudEvents"). No Lumbung consumer needs the headers; any CloudEvents SDK can read them.

| header | from |
| --- | --- |
| `ce_specversion` | `1.0` |
| `ce_id` | `event_id` |
| `ce_source` | `urn:lumbung:<producer>` (`urn:lumbung:outlet:IKN-01`) |
| `ce_type` | `event_type` (`inventory.StockChanged`) |
| `ce_time` | `occurred_at` |
| `ce_subject` | the record's key: the outlet, the order, the supplier the topic is keyed by |
| `ce_dataschema` | the frozen JSON Schema's `$id` (`lumbung:inventory.StockChanged/v2`) |
| `ce_correlationid`, `ce_causationid` | `correlation_id`, `causation_id` (extensions) |
| `content-type` | `application/json` |
"""

from __future__ import annotations

from typing import Any

import orjson

from lumbung.contracts.envelope import Envelope

Headers = list[tuple[str, bytes]]

SPEC_VERSION = b"1.0"
CONTENT_TYPE = b"application/json"
SOURCE_PREFIX = "urn:lumbung:"
ID = "ce_id"


def dataschema(event_type: str, schema_version: int) -> str:
    """The `$id` of an event version's frozen JSON Schema (`lumbung.contracts.schemas`)."""
    return f"lumbung:{event_type}/v{schema_version}"


def _headers(head: dict[str, Any], key: bytes | None) -> Headers:
    out: Headers = [
        ("ce_specversion", SPEC_VERSION),
        (ID, str(head["event_id"]).encode()),
        ("ce_source", f"{SOURCE_PREFIX}{head['producer']}".encode()),
        ("ce_type", str(head["event_type"]).encode()),
        ("ce_time", str(head["occurred_at"]).encode()),
        ("ce_dataschema", dataschema(head["event_type"], head["schema_version"]).encode()),
        ("ce_correlationid", str(head["correlation_id"]).encode()),
        ("content-type", CONTENT_TYPE),
    ]
    if key:
        out.append(("ce_subject", key))
    if head.get("causation_id"):
        out.append(("ce_causationid", str(head["causation_id"]).encode()))
    return out


def headers_of(event: Envelope[Any], key: bytes | None) -> Headers:
    """The binding's headers of an envelope sent with record key `key`."""
    head = event.model_dump(mode="json", exclude={"data"})
    return _headers(head, key)


def headers_for(value: bytes, key: bytes | None) -> Headers:
    """The binding's headers of an event's wire bytes (`encode`, `event_json`, or a record
    forwarded as it came); none for bytes that are not a Lumbung envelope."""
    # The envelope's head comes before "data" (both writers put it last): reading only the
    # head keeps this cheap on a worker's hot path. `,"data":` cannot occur inside a JSON
    # string of the head (its quotes would be escaped).
    at = value.find(b',"data":')
    try:
        head = orjson.loads(value[:at] + b"}") if at > 0 else orjson.loads(value)
        if not isinstance(head, dict):
            return []
        return _headers(head, key)
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return []


def with_headers(headers: Headers | None, value: bytes, key: bytes | None) -> Headers | None:
    """`headers` with the binding's added, unless they are there already (a record that
    carries its own) or `value` is not an event."""
    if headers and any(name == ID for name, _ in headers):
        return headers
    ce = headers_for(value, key)
    if not ce:
        return headers
    return [*(headers or []), *ce]
