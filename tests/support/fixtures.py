"""Fixtures shared by the service suites (a pytest plugin named in the root conftest):
contract events produced the way outlets and services do, worker processes, the demo
catalog loaded through the real catalog API, an ops key, and a reader of topics."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
import redis
from kafka import KafkaAdminClient, KafkaProducer, TopicPartition
from kafka.admin import OffsetSpec

from lumbung.contracts import KeyRole, Registry, encode, make_event, sale_event_id
from lumbung.contracts.events.common import Payload
from lumbung.platform.broker import durable_producer
from lumbung.platform.readiness import worker_group
from lumbung.platform.testing import read_topic
from stack.stack import free_port

WITA = ZoneInfo("Asia/Makassar")
CALL_FAILED = pytest.StashKey[bool]()
START = datetime.now(WITA).replace(microsecond=0) - timedelta(hours=3)


class Events:
    """Builds and produces contract events the way outlets and the ingest API do."""

    def __init__(self, producer: KafkaProducer, registry: Registry) -> None:
        self.producer = producer
        self.registry = registry
        self.sent: list[bytes] = []
        self._pending: list[tuple[Any, str, bytes, bytes]] = []
        self.clock = START

    def envelope(self, payload: Payload, event_id: Any = None, producer: str = "test") -> bytes:
        self.clock += timedelta(seconds=1)
        return encode(
            make_event(
                payload,
                event_id=event_id or uuid.uuid4(),
                occurred_at=self.clock,
                producer=producer,
                correlation_id=str(uuid.uuid4()),
            )
        )

    def sale_event_id(self, outlet: str, sale_id: str) -> Any:
        return sale_event_id(outlet, sale_id)

    def send(self, logical: str, key: str, raw: bytes) -> None:
        topic = self.registry.name(logical)
        future = self.producer.send(topic, key=key.encode(), value=raw)
        self._pending.append((future, topic, key.encode(), raw))
        self.sent.append(raw)

    def restock_requested(
        self, outlet_id: str, sku: str, supplier_id: str, qty: int = 24, event_id: Any = None
    ) -> tuple[str, bytes]:
        """A RestockRequested on restock.events, raised the way inventory does; returns
        (restock_id, the raw event)."""
        from lumbung.contracts.events import restock

        restock_id = f"RS-{uuid.uuid4().hex[:12]}"
        payload = restock.RestockRequested(
            restock_id=restock_id,
            outlet_id=outlet_id,
            sku=sku,
            supplier_id=supplier_id,
            suggested_qty=qty,
            available=3,
            reorder_point=5,
            par_level=qty + 3,
        )
        raw = self.envelope(payload, event_id=event_id)
        self.send("restock.events", outlet_id, raw)
        return restock_id, raw

    def opening_count(self, outlet_id: str, stock: dict[str, int]) -> None:
        """An opening count of `stock` ({sku: units}) at the outlet (sent, not flushed)."""
        from lumbung.contracts.events import inventory as inv

        count = inv.StockCounted(
            count_id="OPEN",
            outlet_id=outlet_id,
            kind=inv.CountKind.OPENING,
            counted_at=self.clock,
            lines=[inv.CountedLine(sku=sku, counted=n) for sku, n in stock.items()],
        )
        self.send("inventory.commands", outlet_id, self.envelope(count))

    def flush(self) -> None:
        """Wait until every send is acknowledged. A send that failed is sent again by a
        new producer, as an outlet's client would: kafka-python's idempotent producer whose
        producer-id request timed out (a broker frozen for 20 s) fails every send after,
        and the test's events went missing without a word."""
        for attempt in range(3):
            self.producer.flush(timeout=60)
            pending, self._pending = self._pending, []
            failed = [(f, t, k, v) for f, t, k, v in pending if f.failed()]
            if not failed:
                return
            if attempt == 2:
                raise AssertionError(f"{len(failed)} sends failed: {failed[0][0].exception}")
            bootstrap = self.producer.config["bootstrap_servers"]
            self.producer.close(timeout=5)
            self.producer = durable_producer(bootstrap)
            for _, topic, key, value in failed:
                future = self.producer.send(topic, key=key, value=value)
                self._pending.append((future, topic, key, value))


class Worker:
    def __init__(
        self, env: dict[str, str], log: Path, service: str = "inventory", *args: str
    ) -> None:
        self.service = service
        self.args = args
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.asked_to_stop = False

    def start(self) -> None:
        self.asked_to_stop = False
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", f"lumbung.{self.service}", "worker", *self.args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        """kill -9: no goodbye, no flush, no commit."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        self.ask_to_stop()
        if self.proc is not None:
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def ask_to_stop(self) -> None:
        """SIGTERM, once: workers asked together stop side by side (`stop` waits)."""
        if self.proc is not None and self.proc.poll() is None and not self.asked_to_stop:
            self.proc.terminate()
            self.asked_to_stop = True


@pytest.fixture
def events(kafka_bootstrap: str, registry: Registry) -> Iterator[Events]:
    events = Events(durable_producer(kafka_bootstrap), registry)
    yield events
    events.producer.close()


@pytest.fixture
def worker_env(
    kafka_bootstrap: str, redis_url: str, registry: Registry, tmp_path: Path
) -> dict[str, str]:
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "REDIS_URL": redis_url,
        "LUMBUNG_TOPIC_PREFIX": registry.prefix,
        "LUMBUNG_DATA_DIR": str(tmp_path / "data"),
        "LUMBUNG_LOG_LEVEL": os.environ.get("LUMBUNG_WORKER_LOG_LEVEL", "WARNING"),
        # Workers' time: the system clock plus the seconds in this file (see `shift_clock`).
        "LUMBUNG_CLOCK_FILE": str(tmp_path / "clock"),
    }


@pytest.fixture
def shift_clock(worker_env: dict[str, str]) -> Callable[[float], None]:
    """shift_clock(seconds): move the time of every worker (and API) of this test."""

    def shift(seconds: float) -> None:
        Path(worker_env["LUMBUNG_CLOCK_FILE"]).write_text(str(seconds))

    return shift


@pytest.fixture
def noon(shift_clock: Callable[[float], None], worker_env: dict[str, str]) -> datetime:
    """The workers' and APIs' time moved to the next noon in WITA, when a kiosk trades (the
    forecast knows a kiosk sells nothing at night, and CI runs at any hour), with the
    inventory worker's stockout forecast made every second."""
    now = datetime.now(WITA)
    at = datetime.combine(now.date(), datetime.min.time(), WITA) + timedelta(hours=12)
    if at <= now + timedelta(minutes=5):
        at += timedelta(days=1)
    shift_clock((at - datetime.now(WITA)).total_seconds())
    worker_env["LUMBUNG_INVENTORY_FORECAST_EVERY_S"] = "1"
    return at


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


def log_tail(log: Path, lines: int = 40) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


@pytest.fixture
def workers(
    worker_env: dict[str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Worker]]:
    """start(service): a worker process; when the test fails, the tail of every worker's
    log is printed, so a failure in CI says what the workers saw."""
    started: list[Worker] = []

    def start(service: str = "inventory", *args: str) -> Worker:
        """Start a worker process of `service` (inventory by default), with `args`."""
        log = tmp_path / f"{service}-worker-{len(started)}.log"
        worker = Worker(worker_env, log, service, *args)
        worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.ask_to_stop()
    for worker in started:
        worker.stop()
    if request.node.stash.get(CALL_FAILED, False):
        for worker in started:
            print(f"--- {worker.log.name} (last lines) ---\n{log_tail(worker.log)}")


@pytest.fixture
def on_topic(kafka_bootstrap: str, registry: Registry) -> Callable[..., list[dict[str, Any]]]:
    """on_topic(logical, event_type=None, wait_for=0): the events on a registry topic,
    waiting up to 60 s until at least `wait_for` of them are there."""

    def read(logical: str, event_type: str | None = None, wait_for: int = 0) -> Any:
        deadline = time.monotonic() + 60
        while True:
            events = [
                e
                for e in read_topic(kafka_bootstrap, registry.name(logical))
                if isinstance(e, dict) and (event_type is None or e["event_type"] == event_type)
            ]
            if len(events) >= wait_for or time.monotonic() > deadline:
                return events
            time.sleep(0.5)

    return read


@pytest.fixture
def consumed(kafka_bootstrap: str, registry: Registry) -> Callable[..., bool]:
    """consumed(logical, service="inventory"): wait up to 60 s until the service's workers
    have committed every event on a registry topic. A worker commits a position on its
    changelog in the transaction that applies the event, and to its group once that has
    committed (`Kernel._share_offsets`), so a command that emits nothing (a declined
    restock) can be waited for before an event on another topic depends on it. For topics
    written outside transactions (the end offset of a transactional one counts its markers)."""

    def wait(logical: str, service: str = "inventory") -> bool:
        topic = registry.name(logical)
        group = worker_group(service, registry)
        admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                (found,) = admin.describe_topics([topic])
                parts = [TopicPartition(topic, p) for p in range(len(found["partitions"]))]
                ends = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in parts})
                listed = [str(x["group_id"]) for x in admin.list_groups()]
                groups = [g for g in listed if g == group or g.startswith(f"{group}-")]
                committed: dict[TopicPartition, int] = {}
                for offsets in admin.list_group_offsets({g: None for g in groups}).values():
                    for tp, meta in offsets.items():
                        if tp.topic == topic:
                            committed[tp] = max(committed.get(tp, -1), meta.offset)
                if all(committed.get(tp, 0) >= ends[tp].offset for tp in parts):
                    return True
                time.sleep(0.3)
            return False
        finally:
            admin.close()

    return wait


@pytest.fixture
def ops_key(kafka_bootstrap: str, redis_url: str, registry: Registry) -> str:
    import asyncio

    from lumbung.catalog.bootstrap import issue_key_directly
    from lumbung.catalog.settings import Settings as CatalogSettings

    settings = CatalogSettings(
        kafka_bootstrap_servers=kafka_bootstrap, redis_url=redis_url, topic_prefix=registry.prefix
    )
    return asyncio.run(issue_key_directly(settings, KeyRole.OPS, "*", "tests"))


@pytest.fixture
def demo_catalog(
    kafka_bootstrap: str, redis_url: str, registry: Registry, ops_key: str
) -> dict[str, str]:
    """The demo catalog, loaded through the catalog API; returns outlet keys by outlet."""
    from fastapi.testclient import TestClient

    from lumbung.catalog import demo
    from lumbung.catalog.bootstrap import build_api
    from lumbung.catalog.settings import Settings as CatalogSettings

    settings = CatalogSettings(
        kafka_bootstrap_servers=kafka_bootstrap, redis_url=redis_url, topic_prefix=registry.prefix
    )
    keys = {}
    with TestClient(build_api(settings)) as client:
        client.headers["X-API-Key"] = ops_key
        for collection, entity_id, body in demo.catalog(datetime.now(WITA).date()):
            assert client.put(f"/v1/{collection}/{entity_id}", json=body).is_success
        for outlet in ("IKN-01", "RA-KM47", "BOOTH-STADION"):
            keys[outlet] = client.post(
                "/v1/keys", json={"role": "outlet", "subject": outlet}
            ).json()["key"]
    return keys


def until(check: Callable[[], Any], seconds: float = 90) -> Any:
    """What `check` returns once it is truthy, asked every 0.3 s for up to `seconds`."""
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.3)
    return found


class ReadModel:
    """A reader of inventory's stock read model in Redis (not the service's own code)."""

    def __init__(self, url: str, prefix: str) -> None:
        self.redis = redis.Redis.from_url(url)
        self.prefix = f"{prefix}:inv:"

    def outlet(self, outlet_id: str) -> dict[str, dict[str, Any]]:
        raw = self.redis.hgetall(f"{self.prefix}outlet:{outlet_id}")
        return {k.decode(): orjson.loads(v) for k, v in raw.items()}

    def on_hand(self, outlets: list[str]) -> dict[tuple[str, str], int]:
        return {(o, sku): s["on_hand"] for o in outlets for sku, s in self.outlet(o).items()}

    def wait_for(self, predicate: Callable[[], bool], seconds: float = 120) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.3)
        return predicate()


@pytest.fixture
def read_model(redis_url: str, registry: Registry) -> ReadModel:
    return ReadModel(redis_url, registry.prefix)


WORKER_CHECKS = ("workers", "read_model")
"""Readiness checks about the service's stream workers and the read models they keep."""


def serving(readyz: Any) -> bool:
    """An API that serves requests, whether or not its workers run yet: every readiness
    check passes but the workers' (a test starts the API before its workers)."""
    checks = readyz.get("checks", {}) if isinstance(readyz, dict) else {}
    return bool(checks) and all(ok for name, ok in checks.items() if name not in WORKER_CHECKS)


@contextlib.contextmanager
def in_process_api(
    service: str, env: dict[str, str], registry: Registry, key: str
) -> Iterator[Any]:
    """A service's API in this process (`lumbung.<service>.bootstrap.build_api`) on the test's
    broker and Redis, with the clock of the test's workers, once it serves, calling with
    `key`."""
    import importlib

    from fastapi.testclient import TestClient

    from lumbung.platform.clock import ShiftedClock

    build_api = importlib.import_module(f"lumbung.{service}.bootstrap").build_api
    settings = importlib.import_module(f"lumbung.{service}.settings").Settings(
        kafka_bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
        redis_url=env["REDIS_URL"],
        topic_prefix=registry.prefix,
    )
    clock = ShiftedClock(Path(env["LUMBUNG_CLOCK_FILE"]))
    with TestClient(build_api(settings, clock)) as client:
        client.headers["X-API-Key"] = key
        deadline = time.monotonic() + 30
        while not serving(client.get("/readyz").json()) and time.monotonic() < deadline:
            time.sleep(0.2)
        yield client


class ApiProcess:
    """A service's HTTP API as its own process (`lumbung-<service> api`) on a free port."""

    def __init__(self, service: str, env: dict[str, str], log: Path) -> None:
        self.service = service
        self.port = free_port()
        self.env = {**env, f"LUMBUNG_{service.upper()}_HTTP_PORT": str(self.port)}
        self.log = log
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the process without waiting for it (`wait_ready` waits): several APIs
        launched at once get ready in the time of the slowest, not of all of them."""
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", f"lumbung.{self.service}", "api"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if serving(self.readyz()[1]):
                return
            time.sleep(0.3)
        # A fixture that fails here never yields, so nothing else would stop the process:
        # left running, it kept a core busy through the tests after it.
        self.stop()
        raise AssertionError(f"the {self.service} API did not get ready; see {self.log}")

    def readyz(self) -> tuple[int, Any]:
        """(status, body) of the API's /readyz; (0, None) while it does not answer."""
        try:
            with urllib.request.urlopen(f"{self.url}/readyz", timeout=5) as answer:
                return answer.status, orjson.loads(answer.read())
        except urllib.error.HTTPError as refused:
            return refused.code, orjson.loads(refused.read() or b"null")
        except (OSError, ValueError):
            return 0, None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


@pytest.fixture
def inventory_api(
    kafka_bootstrap: str,
    redis_url: str,
    registry: Registry,
    ops_key: str,
    demo_catalog: dict[str, str],
) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from lumbung.inventory.bootstrap import build_api
    from lumbung.inventory.settings import Settings as InventorySettings

    settings = InventorySettings(
        kafka_bootstrap_servers=kafka_bootstrap, redis_url=redis_url, topic_prefix=registry.prefix
    )
    with TestClient(build_api(settings)) as client:
        client.headers["X-API-Key"] = ops_key
        deadline = time.monotonic() + 15
        while client.get("/v1/whoami").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        yield client


class PrivateStack:
    """A Kafka broker and Redis server of one test's own (`stack/stack.py` under a name of
    its own), for tests that stop the broker or need another set-up than the suite's.
    `env` holds the variables the system reads to reach it (credentials too, if secure)."""

    STACK = Path(__file__).resolve().parents[2] / "stack" / "stack.py"

    def __init__(self, secure: bool = False, brokers: int = 1) -> None:
        self.name = f"t-{uuid.uuid4().hex[:8]}"
        self.secure = secure
        self.brokers = brokers
        self.env: dict[str, str] = {}

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(self.STACK), *args, "--name", self.name],
            capture_output=True,
            text=True,
            timeout=300,
            env={
                k: v
                for k, v in os.environ.items()
                if k not in ("KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL")
            },
        )

    def up(self) -> PrivateStack:
        ports = ["--kafka-port", "auto", "--redis-port", "auto"]
        started = self._run(
            "up",
            *ports,
            *(["--secure"] if self.secure else []),
            *(["--brokers", str(self.brokers)] if self.brokers > 1 else []),
        )
        if started.returncode != 0:
            self.down()  # what did start (a node of a cluster, Redis) must not outlive the run
            raise AssertionError(started.stderr)
        for line in started.stdout.splitlines():
            if line.startswith("export "):
                key, _, value = line.removeprefix("export ").partition("=")
                self.env[key] = value
        return self

    def restart_broker(self, node: int = 1, down_s: float = 3.0) -> None:
        """Stop a broker (the only one, or `node` of a cluster), wait, start it again and
        wait until it answers."""
        assert self._run("kafka-stop", "--node", str(node)).returncode == 0
        time.sleep(down_s)
        started = self._run("kafka-start", "--node", str(node))
        assert started.returncode == 0, started.stderr

    @contextlib.contextmanager
    def broker_stopped(self, node: int = 1) -> Iterator[None]:
        """The block runs with a broker stopped; then it starts again and answers."""
        assert self._run("kafka-stop", "--node", str(node)).returncode == 0
        try:
            yield
        finally:
            started = self._run("kafka-start", "--node", str(node))
            assert started.returncode == 0, started.stderr

    @contextlib.contextmanager
    def frozen_broker(self, node: int = 1) -> Iterator[None]:
        """The block runs with a broker frozen (SIGSTOP): it holds every connection open
        and answers nothing, as on a starved machine; then it goes on (SIGCONT)."""
        assert self._run("kafka-freeze", "--node", str(node)).returncode == 0
        try:
            yield
        finally:
            assert self._run("kafka-thaw", "--node", str(node)).returncode == 0

    def kill_broker(self, node: int) -> None:
        """kill -9 of one broker of a cluster, not started again."""
        assert self._run("kafka-kill", "--node", str(node)).returncode == 0

    def down(self) -> None:
        self._run("down", "--wipe")


def require_tool(tool: Path) -> None:
    """Skip the test when a tool of the tools environment is missing (fail under CI)."""
    if tool.exists():
        return
    message = f"{tool} is missing: run `make install`"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
