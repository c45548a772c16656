"""pytest fixtures for the real broker and Redis, used by every test suite of the project.

Order of preference: the servers named by KAFKA_BOOTSTRAP_SERVERS and REDIS_URL (which
`make test` sets after starting a private stack); else testcontainers, when a Docker
engine answers; else the test is skipped — except with CI set, where it fails.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from lumbung.contracts import Registry, encode, make_event, sale_event_id
from lumbung.contracts.events import pos
from lumbung.platform.broker import ensure_topics

_BROKER_TESTS: dict[str, int] = {"passed": 0, "failed": 0}


def _reachable(host_port: str) -> bool:
    host, _, port = host_port.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=2):
            return True
    except OSError:
        return False


def _docker_answers() -> bool:
    """True when a Docker engine answers its ping (docker-py leaks a socket when none does)."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        return True  # a remote engine: let testcontainers find out
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(host.removeprefix("unix://"))
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            answer = sock.recv(64)
    except OSError:
        return False
    return answer.startswith(b"HTTP/1.") and b" 200 " in answer


def _missing(what: str) -> None:
    message = (
        f"no {what}: run the tests with `make test`, which starts a private Kafka and "
        "Redis, or set KAFKA_BOOTSTRAP_SERVERS and REDIS_URL"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        if not _reachable(configured.split(",")[0]):
            pytest.fail(f"KAFKA_BOOTSTRAP_SERVERS={configured} does not answer")
        yield configured
    elif _docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("apache/kafka:4.1.1").with_kraft() as kafka:
            yield kafka.get_bootstrap_server()
    else:
        _missing("Kafka broker")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    configured = os.environ.get("REDIS_URL")
    if configured:
        address = configured.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
        if not _reachable(address):
            pytest.fail(f"REDIS_URL={configured} does not answer")
        yield configured
    elif _docker_answers():
        from testcontainers.redis import RedisContainer

        with RedisContainer("redis:7") as redis:
            host, port = redis.get_container_host_ip(), redis.get_exposed_port(6379)
            yield f"redis://{host}:{port}/0"
    else:
        _missing("Redis server")


@pytest.fixture
def registry(kafka_bootstrap: str) -> Registry:
    """A registry with a prefix of this test's own, all its topics created on the broker."""
    registry = Registry(prefix=f"t{uuid.uuid4().hex[:10]}")
    ensure_topics(kafka_bootstrap, registry)
    return registry


@pytest.fixture
def broker_outage(
    kafka_bootstrap: str,
) -> Callable[[], contextlib.AbstractContextManager[None]]:
    """`with broker_outage(): ...` runs the block with the Kafka broker stopped, then starts
    it again on the same port and waits until it answers. Needs the private stack of
    `make test` (LUMBUNG_STACK_NAME); without it the test is skipped (failed with CI)."""
    name = os.environ.get("LUMBUNG_STACK_NAME")
    if not name:
        _missing("private stack to stop and start (LUMBUNG_STACK_NAME)")
    stack = [sys.executable, str(Path(__file__).parents[5] / "stack" / "stack.py")]

    @contextlib.contextmanager
    def outage() -> Iterator[None]:
        subprocess.run([*stack, "kafka-stop", "--name", str(name)], check=True)
        try:
            yield
        finally:
            subprocess.run([*stack, "kafka-start", "--name", str(name)], check=True)
            deadline = time.monotonic() + 60
            while not _reachable(kafka_bootstrap.split(",")[0]):
                if time.monotonic() > deadline:
                    raise AssertionError("Kafka did not come back within 60 s")
                time.sleep(0.5)

    return outage


def read_records(kafka_bootstrap: str, topic: str, timeout_s: float = 120.0) -> list[Any]:
    """Every record on a topic now (key, value, headers…), in partition order. A read that
    meets a broker going down (a chaos run kills one) starts again, until `timeout_s`."""
    from kafka.errors import KafkaError

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return _read_records_once(kafka_bootstrap, topic, deadline)
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)


def _read_records_once(kafka_bootstrap: str, topic: str, deadline: float) -> list[Any]:
    from kafka import KafkaConsumer, TopicPartition
    from kafka.errors import KafkaTimeoutError

    from lumbung.platform.broker import client_security

    # read_committed: what a transaction of the stream kernel aborted is not there.
    consumer = KafkaConsumer(
        **client_security(),
        bootstrap_servers=kafka_bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(partitions)
        out: list[Any] = []
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            if time.monotonic() > deadline:
                raise KafkaTimeoutError(f"{topic} not read to its end in time")
            for records in consumer.poll(timeout_ms=1000).values():
                out.extend(records)
        return out
    finally:
        consumer.close()


def transactions_open(kafka_bootstrap: str, topics: list[str]) -> bool:
    """Whether a transaction is open on any partition of `topics`: its end for a
    read_committed reader (the last stable offset) is short of the log's end. A state that
    agrees with the log while one is open (a broker slow to answer holds it) is not final."""
    from kafka import KafkaConsumer, TopicPartition

    from lumbung.platform.broker import client_security

    ends = []
    for isolation in ("read_uncommitted", "read_committed"):
        consumer = KafkaConsumer(
            **client_security(),
            bootstrap_servers=kafka_bootstrap,
            enable_auto_commit=False,
            isolation_level=isolation,
        )
        try:
            partitions = [
                TopicPartition(topic, p)
                for topic in topics
                for p in consumer.partitions_for_topic(topic) or ()
            ]
            ends.append(consumer.end_offsets(partitions))
        finally:
            consumer.close()
    return bool(ends[0] != ends[1])


def encoded_sale(sale_id: str, qty: int, at: datetime, outlet_id: str = "IKN-01") -> bytes:
    """A sale of one AMPLANG line at Rp 25.000, encoded as it travels on `pos.sales`."""
    data = pos.SaleRecorded(
        sale_id=sale_id,
        outlet_id=outlet_id,
        sold_at=at,
        lines=[pos.SaleLine(sku="AMPLANG", qty=qty, unit_price_idr=25_000)],
    )
    event = make_event(
        data,
        event_id=sale_event_id(outlet_id, sale_id),
        occurred_at=at,
        producer=f"outlet:{outlet_id}",
        correlation_id=sale_id,
    )
    return encode(event)


def read_topic(kafka_bootstrap: str, topic: str) -> list[Any]:
    """Every message value on a topic now, parsed as JSON (None where it is not JSON), in
    partition order; no contract code, so tests can check the contracts with it."""
    out: list[Any] = []
    for record in read_records(kafka_bootstrap, topic):
        try:
            out.append(orjson.loads(record.value) if record.value else None)
        except orjson.JSONDecodeError:
            out.append(None)
    return out


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and "broker" in report.keywords:
        _BROKER_TESTS["passed" if report.passed else "failed"] += 1 if not report.skipped else 0


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    where = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "testcontainers or none")
    terminalreporter.write_line(
        f"broker-backed tests: {_BROKER_TESTS['passed']} passed, {_BROKER_TESTS['failed']} "
        f"failed (Kafka at {where}, Redis at {os.environ.get('REDIS_URL', '-')})"
    )
