from __future__ import annotations

import pytest

from lumbung.contracts import DEFAULT, EVENTS, OUTLET_PARTITIONS, TOPICS, Cleanup, Registry, Service

DESIGN_TOPICS = {
    "catalog.products",
    "catalog.suppliers",
    "catalog.outlets",
    "catalog.calendar",
    "auth.keys",
    "pos.sales",
    "inventory.commands",
    "orders.events",
    "inventory.stock",
    "inventory.reservations",
    "inventory.alerts",
    "restock.events",
    "restock.acks",
    "notifications.deliveries",
    "inventory.dlq",
    "orders.dlq",
    "notifications.dlq",
    "inventory.orders-by-outlet",
    "notifications.outbox",
    "books.events",
    "books.reports",
    "books.dlq",
}
FACTS = {
    "pos.sales",
    "orders.events",
    "inventory.commands",
    "restock.events",
    "restock.acks",
    "books.events",
}
INVENTORY_INPUTS = {
    "pos.sales",
    "orders.events",
    "inventory.commands",
    "restock.acks",
    "inventory.orders-by-outlet",
}


def test_the_registry_holds_every_topic_of_the_design_once() -> None:
    names = [t.name for t in TOPICS]

    assert set(names) == DESIGN_TOPICS
    assert len(names) == len(set(names))


def test_facts_are_kept_forever_and_entities_are_compacted() -> None:
    for topic in TOPICS:
        if topic.name in FACTS:
            assert topic.config() == {"cleanup.policy": "delete", "retention.ms": "-1"}
        if topic.name.startswith(("catalog.", "auth.")):
            assert topic.cleanup is Cleanup.COMPACT
            assert topic.writer is Service.CATALOG


def test_every_consuming_service_has_its_own_dead_letter_topic() -> None:
    for service in (Service.INVENTORY, Service.ORDERS, Service.NOTIFICATIONS, Service.BOOKS):
        assert DEFAULT.spec(f"{service.value}.dlq").writer is service


def test_inventory_inputs_share_one_partition_count() -> None:
    assert {DEFAULT.spec(name).partitions for name in INVENTORY_INPUTS} == {OUTLET_PARTITIONS}


def test_every_event_travels_on_a_registry_topic() -> None:
    for event in EVENTS:
        assert DEFAULT.spec(event.topic).name == event.topic


def test_no_payload_field_is_called_event_id() -> None:
    for event in EVENTS:
        schema = event.payload.model_json_schema()
        fields = set(schema.get("properties", {}))
        for definition in schema.get("$defs", {}).values():
            fields |= set(definition.get("properties", {}))
        assert "event_id" not in fields, event.event_type


def test_a_prefix_gives_a_test_its_own_topic_names() -> None:
    registry = Registry(prefix="t42")

    assert registry.name("pos.sales") == "t42.pos.sales"
    assert DEFAULT.name("pos.sales") == "pos.sales"


def test_an_unknown_topic_is_refused() -> None:
    with pytest.raises(KeyError, match=r"pos\.salez"):
        DEFAULT.name("pos.salez")


def test_a_prefix_with_dots_or_spaces_is_refused() -> None:
    with pytest.raises(ValueError, match="prefix"):
        Registry(prefix="a b")
