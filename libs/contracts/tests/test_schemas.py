from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field

from lumbung.contracts import DEFAULT, EventSpec
from lumbung.contracts.events.common import Payload
from lumbung.contracts.schemas import (
    SCHEMA_DIR,
    compatibility_problems,
    event_schema,
    render,
    schema_path,
    write_schemas,
)

REGENERATE = "run `make schemas` and commit the result"


def frozen(spec: EventSpec) -> dict[str, Any]:
    return json.loads(schema_path(spec).read_text(encoding="utf-8"))


def test_every_event_version_has_a_committed_schema() -> None:
    for spec in DEFAULT.events:
        assert schema_path(spec).exists(), f"{spec.event_type} v{spec.schema_version}: {REGENERATE}"


def test_no_committed_schema_is_left_without_its_event() -> None:
    registered = {schema_path(spec) for spec in DEFAULT.events}

    assert set(SCHEMA_DIR.glob("*/v*.json")) == registered


def test_draft_schemas_are_not_stale() -> None:
    for spec in DEFAULT.events:
        if not spec.released:
            assert schema_path(spec).read_text(encoding="utf-8") == render(event_schema(spec)), (
                f"{spec.event_type} v{spec.schema_version} is stale: {REGENERATE}"
            )


def test_current_models_stay_compatible_with_their_frozen_schemas() -> None:
    for spec in DEFAULT.events:
        problems = compatibility_problems(frozen(spec), event_schema(spec))
        assert problems == [], (
            f"{spec.event_type} v{spec.schema_version} would break its consumers: {problems}. "
            "Make the change additive, or add a new schema_version."
        )


def test_writing_never_rewrites_a_released_schema(tmp_path: Path) -> None:
    write_schemas(root=tmp_path)
    target = schema_path(DEFAULT.events[0], tmp_path)
    target.write_text("{}", encoding="utf-8")

    write_schemas(root=tmp_path)

    assert target.read_text(encoding="utf-8") == "{}"


# The checker itself, on small models: a test that cannot fail is a defect.


class Before(Payload):
    sku: str = Field(max_length=64)
    qty: int = Field(gt=0)
    note: str | None = None


class AddsOptional(Payload):
    sku: str = Field(max_length=64)
    qty: int = Field(gt=0)
    note: str | None = None
    batch: str | None = None


class RemovesField(Payload):
    sku: str = Field(max_length=64)
    note: str | None = None


class AddsRequired(Payload):
    sku: str = Field(max_length=64)
    qty: int = Field(gt=0)
    note: str | None = None
    batch: str


class ChangesType(Payload):
    sku: str = Field(max_length=64)
    qty: float = Field(gt=0)
    note: str | None = None


class TightensConstraint(Payload):
    sku: str = Field(max_length=32)
    qty: int = Field(gt=0)
    note: str | None = None


class MakesOptional(Payload):
    sku: str = Field(max_length=64)
    qty: int | None = Field(default=None, gt=0)
    note: str | None = None


def schema_of(payload: type[Payload]) -> dict[str, Any]:
    return event_schema(EventSpec("test.Happened", 1, payload, "pos.sales"))


def test_an_added_optional_field_is_compatible() -> None:
    assert compatibility_problems(schema_of(Before), schema_of(AddsOptional)) == []


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (RemovesField, "data.qty: removed"),
        (AddsRequired, "data.batch: newly required"),
        (ChangesType, "data.qty.: type changed"),
        (TightensConstraint, "data.sku.: maxLength changed"),
        (MakesOptional, "data.qty: no longer required"),
    ],
)
def test_a_breaking_change_is_caught(after: type[Payload], expected: str) -> None:
    problems = compatibility_problems(schema_of(Before), schema_of(after))

    assert any(p.startswith(expected) for p in problems), problems


def test_an_added_envelope_field_breaks_consumers_that_allow_no_other_field() -> None:
    before = schema_of(Before)
    after = json.loads(json.dumps(before))
    after["properties"]["tenant"] = {"type": "string"}

    assert compatibility_problems(before, after) == [
        "tenant: added where the frozen schema allows no other field"
    ]
