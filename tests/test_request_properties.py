"""Property tests of issue 15 (Hypothesis with hypothesis-jsonschema): any body a request
model of any service accepts can be encoded and read back unchanged, so no value a request
carries reaches an encoder that cannot write it; and any event of any contract, drawn from
its committed schema, goes through Kafka and comes back unchanged.

On the code before issue 15 the product test fails with its explicit example, a price of
10^30: the catalog accepted it and orjson raised `TypeError: Integer exceeds 64-bit range`
while encoding the ProductChanged (the 500 of the issue). The commit that adds this file
records that run."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from functools import cache
from typing import Any
from uuid import UUID

import orjson
import pytest
from fastapi import Depends
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, example, given, reject, settings
from hypothesis import strategies as st
from kafka import KafkaProducer
from pydantic import TypeAdapter, ValidationError

from lumbung.catalog.domain import PRODUCT, next_revision
from lumbung.contracts import DEFAULT, ContractError, Envelope, Registry, encode, make_event
from lumbung.platform.testing import read_records
from tests.support.properties import SLOW_OR_FILTERED, allowed_by, committed, newest

SERVICES = ("catalog", "inventory", "orders", "notifications", "books", "dashboard")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
EXAMPLES = settings(max_examples=25, deadline=None, suppress_health_check=SLOW_OR_FILTERED)


def _nobody() -> None:
    return None


def request_bodies() -> list[tuple[str, Any]]:
    """(method and path, body type) of every route of every service that takes a JSON body."""
    found = []
    for service in SERVICES:
        api = importlib.import_module(f"lumbung.{service}.entrypoints.api")
        for router in api.routers(Depends(_nobody)):
            for route in router.routes:
                if isinstance(route, APIRoute) and route.body_field is not None:
                    method = "/".join(sorted(route.methods))
                    found.append((f"{method} {route.path}", route.body_field.field_info.annotation))
    return found


BODIES = request_bodies()


@cache
def bodies_of(route: str) -> tuple[TypeAdapter[Any], st.SearchStrategy[Any]]:
    adapter: TypeAdapter[Any] = TypeAdapter(dict(BODIES)[route])
    return adapter, allowed_by(adapter.json_schema())


def test_every_service_with_a_json_body_is_covered() -> None:
    assert {route.split()[1].split("/")[2] for route, _ in BODIES} >= {
        "products",
        "outlets",
        "orders",
        "restocks",
        "transfers",
    }


@pytest.mark.parametrize("route", [route for route, _ in BODIES])
@EXAMPLES
@given(data=st.data())
def test_any_body_a_request_model_accepts_is_encoded_and_read_back_unchanged(
    route: str, data: st.DataObject
) -> None:
    adapter, bodies = bodies_of(route)
    try:
        body = adapter.validate_python(data.draw(bodies, label=route))
    except ValidationError:
        reject()  # a rule the schema does not state; the model answers 422

    wire = orjson.dumps(adapter.dump_python(body, mode="json"))

    assert adapter.validate_json(wire) == body


PRODUCT_BODY = {
    "name": "Amplang Ikan Pipih 250 g",
    "supplier_id": "SUP-SARI",
    "category": "snack",
    "unit": "pack",
    "price_idr": 25000,
}


@EXAMPLES
@example(body={**PRODUCT_BODY, "price_idr": 10**30})
@given(body=bodies_of("PUT /v1/products/{entity_id}")[1])
def test_any_product_the_catalog_accepts_becomes_an_event_that_is_encoded_and_read_back(
    body: dict[str, Any],
) -> None:
    adapter, _ = bodies_of("PUT /v1/products/{entity_id}")
    try:
        details = adapter.validate_python(body)
    except ValidationError:
        reject()  # answered 422 naming the field, nothing written
    product = next_revision(PRODUCT, "AMPLANG-250", details, None, None, NOW)
    event = make_event(
        product,
        event_id=UUID(int=1),
        occurred_at=NOW,
        producer="catalog",
        correlation_id="catalog.products:AMPLANG-250",
    )

    wire = encode(event)

    assert DEFAULT.parse(wire) == event


def newest_events() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of([allowed_by(committed(spec)) for spec in newest()])


@pytest.mark.broker
def test_any_event_a_contract_accepts_goes_through_kafka_and_comes_back_unchanged(
    kafka_bootstrap: str, registry: Registry
) -> None:
    sent: list[Envelope[Any]] = []

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(raw=newest_events())
    def collect(raw: dict[str, Any]) -> None:
        try:
            sent.append(DEFAULT.parse(raw))
        except ContractError:
            reject()

    collect()
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    for event in sent:
        topic = registry.name(DEFAULT.event(event.event_type, event.schema_version).topic)
        producer.send(topic, key=b"property", value=encode(event))
    producer.flush()
    producer.close()

    topics = sorted({registry.name(DEFAULT.event(e.event_type, 1).topic) for e in sent})
    back = [DEFAULT.parse(r.value) for t in topics for r in read_records(kafka_bootstrap, t)]

    assert sorted(map(encode, back)) == sorted(map(encode, sent))
    assert len(sent) > 100
