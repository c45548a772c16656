"""Property tests on the committed schemas (Hypothesis with hypothesis-jsonschema): any event
that the newest version of its contract accepts is encoded and read back unchanged, and no
value it accepts reaches an encoder that cannot write it (issue 15: an integer past 64 bits
passed the contract and failed in orjson, as a 500 or as a stuck worker).

On the contracts before issue 15 (every newest version was v1, integers unbounded) the first
test fails at once: `TypeError: Integer exceeds 64-bit range` in `encode`."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from lumbung.contracts import DEFAULT, ContractError, EventSpec, encode
from tests.support.properties import SLOW_OR_FILTERED, allowed_by, committed, newest


@cache
def as_generated(spec: EventSpec) -> st.SearchStrategy[dict[str, Any]]:
    """Events of `spec` as its committed schema allows them."""
    return allowed_by(committed(spec))


@pytest.mark.parametrize("spec", newest(), ids=lambda spec: spec.event_type)
@settings(max_examples=25, deadline=None, suppress_health_check=SLOW_OR_FILTERED)
@given(data=st.data())
def test_any_event_a_contract_accepts_is_encoded_and_read_back_unchanged(
    spec: EventSpec, data: st.DataObject
) -> None:
    raw = data.draw(as_generated(spec), label=spec.event_type)
    try:
        event = DEFAULT.parse(raw)
    except ContractError:
        # A rule no JSON Schema states (a window that ends before it starts, a booth
        # without its window): the contract refuses it, so it never reaches an encoder.
        reject()

    wire = encode(event)

    assert DEFAULT.parse(wire) == event
    assert encode(DEFAULT.parse(wire)) == wire


def numbers(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every integer and number in a schema, with where it is."""
    found = []
    if isinstance(node, dict):
        if node.get("type") in ("integer", "number"):
            found.append((path or "(root)", node))
        for key, value in node.items():
            found += numbers(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += numbers(value, f"{path}[{i}]")
    return found


def test_every_number_in_the_newest_contracts_has_an_upper_and_a_lower_bound() -> None:
    unbounded = [
        f"{spec.event_type} v{spec.schema_version}: {where}"
        for spec in newest()
        for where, node in numbers(committed(spec))
        if ("const" not in node and not ({"maximum", "exclusiveMaximum"} & node.keys()))
        or not ({"minimum", "exclusiveMinimum", "const"} & node.keys())
    ]

    assert unbounded == []
