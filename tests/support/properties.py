"""Hypothesis strategies from JSON Schemas (hypothesis-jsonschema), for the property tests
of issue 15: values that a schema allows, with its integers drawn often at their edges."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from lumbung.contracts import DEFAULT, EventSpec
from lumbung.contracts.schemas import schema_path

BEYOND_ANY_WIRE = 10**30
"""What a schema without an upper bound allows: past where a 64-bit encoder fails."""
SLOW_OR_FILTERED = [HealthCheck.too_slow, HealthCheck.filter_too_much]
"""Health checks the property tests leave out: a JSON Schema cannot state every rule of a
model (a window that ends after it starts, a name that is more than blanks), so many drawn
values are refused, as they should be; and drawing from these schemas is slow."""
FORMATS = {"uuid": st.uuids().map(str)}
"""Formats hypothesis-jsonschema leaves to us (pydantic writes UUIDs as `format: uuid`)."""


def edges(node: dict[str, Any]) -> list[int]:
    """The largest and the smallest integer a schema node allows."""
    high = node.get("maximum", node.get("exclusiveMaximum", BEYOND_ANY_WIRE + 1) - 1)
    low = node.get("minimum", node.get("exclusiveMinimum", -BEYOND_ANY_WIRE - 1) + 1)
    return [high, low]


def at_the_edges(node: Any) -> Any:
    """The schema, allowing the same values, with its integers drawn often at their edges
    (Hypothesis seldom draws a 100-bit integer by itself) and lists of at most three items
    (long lists of generated lines only make the run slow)."""
    if isinstance(node, list):
        return [at_the_edges(v) for v in node]
    if not isinstance(node, dict):
        return node
    shaped = {k: at_the_edges(v) for k, v in node.items()}
    if shaped.get("type") == "array":
        shaped["maxItems"] = min(shaped.get("maxItems", 3), 3)
    if shaped.get("type") == "integer" and "const" not in shaped:
        return {"anyOf": [shaped, *({"const": edge} for edge in edges(shaped))]}
    return shaped


def allowed_by(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values `schema` allows. Its own `#/$defs/…` references resolve in it (without an
    `$id`, which hypothesis-jsonschema would take for a remote document)."""
    local = {k: v for k, v in schema.items() if k != "$id"}
    return from_schema(at_the_edges(local), custom_formats=FORMATS)


def newest() -> list[EventSpec]:
    """The version of every event type that producers write."""
    by_type: dict[str, EventSpec] = {}
    for spec in sorted(DEFAULT.events, key=lambda spec: spec.schema_version):
        by_type[spec.event_type] = spec
    return [by_type[t] for t in sorted(by_type)]


def committed(spec: EventSpec) -> dict[str, Any]:
    """The committed JSON Schema of one version of an event."""
    schema: dict[str, Any] = json.loads(schema_path(spec).read_text(encoding="utf-8"))
    return schema
