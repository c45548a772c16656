"""Kafka plumbing: the durable producer, topic declaration from the registry, waiting,
and the credentials every Kafka client of the system connects with."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from typing import Any

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from lumbung.contracts import Registry, TopicSpec

SASL_MECHANISM = "SCRAM-SHA-256"
CREATE_PATIENCE_S = 120.0
"""How long creating topics keeps asking the cluster again after a Kafka error."""
log = logging.getLogger(__name__)


def client_security() -> dict[str, Any]:
    """The options that authenticate a Kafka client (kafka-python and aiokafka name them
    alike): SASL/SCRAM when LUMBUNG_KAFKA_USERNAME is set, nothing otherwise. Every
    process of the system reads the same variables, so one place sets them for all."""
    username = os.environ.get("LUMBUNG_KAFKA_USERNAME", "")
    if not username:
        return {}
    return {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": SASL_MECHANISM,
        "sasl_plain_username": username,
        "sasl_plain_password": os.environ.get("LUMBUNG_KAFKA_PASSWORD", ""),
    }


def faust_credentials() -> Any:
    """The same credentials as faust wants them (None: no authentication)."""
    import faust

    security = client_security()
    if not security:
        return None
    return faust.SASLCredentials(
        username=security["sasl_plain_username"],
        password=security["sasl_plain_password"],
        mechanism=SASL_MECHANISM,
    )


def cluster_replication() -> int:
    """How many copies of each partition the cluster keeps (LUMBUNG_REPLICATION_FACTOR,
    1 on a single broker); with 3, topics also get `min.insync.replicas` 2."""
    return int(os.environ.get("LUMBUNG_REPLICATION_FACTOR", "1"))


def topic_config(replication: int) -> dict[str, str]:
    """The settings a topic gets from the replication factor alone."""
    return {"min.insync.replicas": str(min(2, replication))} if replication > 1 else {}


def durable_producer(bootstrap_servers: str, client_id: str = "lumbung") -> KafkaProducer:
    """A producer whose acknowledged sends survive a broker crash: acks=all, idempotent."""
    return KafkaProducer(
        **client_security(),
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        retries=2**31 - 1,
        max_in_flight_requests_per_connection=5,
        request_timeout_ms=15_000,
    )


def admin_client(bootstrap_servers: str, timeout_s: float = 30.0) -> KafkaAdminClient:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return KafkaAdminClient(
                **client_security(), bootstrap_servers=bootstrap_servers, client_id="lumbung-admin"
            )
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _new_topic(name: str, spec: TopicSpec, replication_factor: int) -> NewTopic:
    config = {**spec.config(), **topic_config(replication_factor)}
    return NewTopic(name, spec.partitions, replication_factor, topic_configs=config)


def ensure_topics(
    bootstrap_servers: str,
    registry: Registry,
    replication_factor: int | None = None,
    only: Iterable[str] | None = None,
) -> list[str]:
    """Create every registry topic that is missing; refuse a topic with the wrong partitions.
    The replication factor is LUMBUNG_REPLICATION_FACTOR's unless given.

    Returns the physical names created now.
    """
    if replication_factor is None:
        replication_factor = cluster_replication()
    wanted = [
        _new_topic(name, spec, replication_factor)
        for name, spec in registry.physical()
        if only is None or spec.name in set(only)
    ]
    return create_missing(bootstrap_servers, wanted)


def create_missing(
    bootstrap_servers: str, topics: list[NewTopic], patience_s: float = CREATE_PATIENCE_S
) -> list[str]:
    """Create each of `topics` that is missing, then wait until all show their partitions;
    returns the names created now. A Kafka error is asked again until `patience_s` has
    passed: a broker that has just died stays in the cluster's metadata until the cluster
    fences it (about 9 s), and a client that picks it gets ECONNREFUSED."""
    deadline = time.monotonic() + patience_s
    created: list[str] = []
    while True:
        admin = admin_client(bootstrap_servers)
        try:
            existing = set(admin.list_topics())
            for topic in topics:
                if topic.name in existing or topic.name in created:
                    continue
                try:
                    admin.create_topics([topic])
                    created.append(topic.name)
                except TopicAlreadyExistsError:
                    pass
            wait_for_partitions(admin, {t.name: t.num_partitions for t in topics})
            return created
        except KafkaError as exc:
            if time.monotonic() > deadline:
                raise
            log.warning("creating topics: %r; trying again", exc)
            time.sleep(1.0)
        finally:
            admin.close()


def set_topic_config(bootstrap_servers: str, topic: str, config: dict[str, str]) -> None:
    """Set a topic's dynamic settings to exactly `config` (a topic created before its
    settings changed here gets today's)."""
    admin = admin_client(bootstrap_servers)
    try:
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs=config)])
    finally:
        admin.close()


async def broker_ready(bootstrap_servers: str) -> bool:
    """True when the broker answers a metadata request."""
    from aiokafka.client import AIOKafkaClient

    client = AIOKafkaClient(
        **client_security(), bootstrap_servers=bootstrap_servers, request_timeout_ms=3000
    )
    try:
        await client.bootstrap()
        return True
    finally:
        await client.close()


def wait_for_partitions(
    admin: KafkaAdminClient, wanted: dict[str, int], timeout_s: float = 120.0
) -> None:
    """New topics take a moment to show their partitions in metadata; wait, then check
    (`wanted`: topic -> partitions). On a starved machine (a test run with CPU hogs
    beside it) a new topic showed no partitions for over 30 s: hence two minutes."""
    deadline = time.monotonic() + timeout_s
    while True:
        described = admin.describe_topics(list(wanted))
        partitions = {d.get("name", d.get("topic")): len(d["partitions"]) for d in described}
        wrong = [
            (name, count, partitions.get(name))
            for name, count in wanted.items()
            if partitions.get(name) != count
        ]
        if not wrong:
            return
        if any(found for _, _, found in wrong) or time.monotonic() > deadline:
            name, expected, found = wrong[0]
            raise RuntimeError(f"topic {name} has {found} partitions; the registry says {expected}")
        time.sleep(0.3)


LINGER_BYTES = 1024 * 1024
"""A lingering fetch is answered at this much data, or after its wait."""


def lingering(linger_ms: int) -> dict[str, int]:
    """A consumer's fetch settings for a reader that may wait `linger_ms` for more."""
    if linger_ms <= 0:
        return {}
    return {"fetch_max_wait_ms": linger_ms, "fetch_min_bytes": LINGER_BYTES}
