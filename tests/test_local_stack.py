"""The local stack as a newcomer uses it: topics visible with kcat, a hand-written event
produced with kcat validates, and `make up` / `make down` leave nothing behind."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from lumbung.contracts import DEFAULT, Registry
from lumbung.platform.broker import ensure_topics

pytestmark = pytest.mark.broker
ROOT = Path(__file__).resolve().parent.parent
HAND_WRITTEN = (
    '{"event_id": "%s", "event_type": "pos.SaleRecorded", "schema_version": 1,'
    ' "occurred_at": "2026-07-14T10:15:02+08:00", "producer": "outlet:IKN-01",'
    ' "correlation_id": "S-9", "data": {"sale_id": "S-9", "outlet_id": "IKN-01",'
    ' "lines": [{"sku": "KOPI-PASER", "qty": 1, "unit_price_idr": 30000}],'
    ' "sold_at": "2026-07-14T10:15:00+08:00"}}'
)


def kcat(*args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        ["kcat", *args], input=stdin, capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout


def test_kcat_lists_every_registry_topic_with_its_partitions(kafka_bootstrap: str) -> None:
    ensure_topics(kafka_bootstrap, DEFAULT)

    metadata = json.loads(kcat("-b", kafka_bootstrap, "-L", "-J"))

    partitions = {t["topic"]: len(t["partitions"]) for t in metadata["topics"]}
    for name, spec in DEFAULT.physical():
        assert partitions.get(name) == spec.partitions, name


def test_an_event_written_by_hand_and_produced_with_kcat_validates(
    kafka_bootstrap: str, registry: Registry
) -> None:
    topic = registry.name("pos.sales")
    event_id = str(uuid.uuid4())

    kcat("-b", kafka_bootstrap, "-P", "-t", topic, "-k", "IKN-01", stdin=HAND_WRITTEN % event_id)
    raw = kcat(
        "-b", kafka_bootstrap, "-C", "-t", topic, "-o", "beginning", "-c", "1", "-e", "-f", "%s"
    )

    event = registry.parse(raw.encode())
    assert str(event.event_id) == event_id
    assert event.data.lines[0].sku == "KOPI-PASER"


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


class LocalSystem:
    """`make up` / `make down` on a stack of the test's own, with free ports."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home, self.env = home, env

    def make(self, target: str) -> None:
        done = subprocess.run(
            ["make", "-s", target], cwd=ROOT, env=self.env, timeout=300, capture_output=True
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]

    def down_leaves_nothing(self) -> None:
        pids = self.processes()
        ports = [int(p.read_text()) for p in self.home.glob("*.port")]
        # Kafka, Redis, six APIs, four workers, the demo's notification receiver
        assert len(pids) == 13
        assert all(alive(pid) for pid in pids)
        self.make("down")
        assert wait(lambda: not any(alive(pid) for pid in pids), 10)
        assert [port for port in ports if port_open(port)] == []

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{(self.home / f'{service}.port').read_text()}"

    def call(self, method: str, url: str, body: object = None) -> tuple[int, object]:
        request = urllib.request.Request(
            url,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "X-API-Key": (self.home / "ops.key").read_text().strip(),
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as refused:
            return refused.code, refused.read().decode()
        except OSError as exc:
            return 0, repr(exc)

    def stock(self, outlet: str) -> dict[str, dict[str, int]]:
        status, body = self.call("GET", f"{self.url('inventory')}/v1/outlets/{outlet}/stock")
        return body["stock"] if status == 200 and isinstance(body, dict) else {}

    def processes(self) -> list[int]:
        return [int(p.read_text()) for p in self.home.glob("*.pid") if p.stem != "simulator"]

    def days_simulated(self) -> int:
        log = self.home / "logs" / "simulator.log"
        return log.read_text().count("simulated:") if log.exists() else 0

    def wait_for_simulator(self) -> None:
        deadline = time.monotonic() + 180
        pid_file = self.home / "simulator.pid"
        while pid_file.exists() and alive(int(pid_file.read_text())):
            assert time.monotonic() < deadline, "the simulated day did not end within 180 s"
            time.sleep(0.2)


def wait(check: Callable[[], bool], seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


@pytest.fixture(scope="module")
def made_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSystem]:
    """A fresh `make up` on a stack of its own (the demo and a short simulated day), shared
    by the two tests below: each starts from a running system that holds the demo and
    leaves it running, and a `make up` from nothing (the broker, six APIs, four workers,
    the demo and its day) is the slowest step of both. At the end `make down` must leave
    no process and no port behind."""
    tmp_path = tmp_path_factory.mktemp("local-stack")
    name = f"updown-{uuid.uuid4().hex[:6]}"
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL")}
    env.update(
        LUMBUNG_STACK_NAME=name,
        LUMBUNG_STACK_DIR=str(tmp_path),
        LUMBUNG_KAFKA_PORT="auto",
        LUMBUNG_REDIS_PORT="auto",
        LUMBUNG_APPS_PORTS="auto",
        LUMBUNG_SIMULATE_HOURS="0.2",
    )
    system = LocalSystem(tmp_path / name, env)
    try:
        system.make("up")
        system.wait_for_simulator()
        yield system
        system.down_leaves_nothing()
    finally:
        subprocess.run(["make", "-s", "down"], cwd=ROOT, env=env, timeout=120, capture_output=True)


def test_make_up_again_resumes_the_system_with_what_people_changed(made_up: LocalSystem) -> None:
    """A second `make up`, on the running system and after `make down`, keeps a person's
    own counts and catalog changes: no demo reload, no re-count, no new simulated day.
    `make down` leaves no process and no port behind."""
    system = made_up
    assert system.days_simulated() == 1, "a new system gets the demo and a simulated day"
    catalog, inventory = system.url("catalog"), system.url("inventory")
    # What a person does with it: a supplier replaced (no email), a shelf counted.
    status, _ = system.call(
        "PUT",
        f"{catalog}/v1/suppliers/SUP-SARI",
        {
            "name": "Amplang Bu Sari",
            "owner_name": "Sari",
            "contacts": {"whatsapp": "+6281234567890"},
        },
    )
    assert status == 200
    status, _ = system.call(
        "POST",
        f"{inventory}/v1/outlets/IKN-01/counts",
        {
            "count_id": "MY-COUNT",
            "kind": "spot",
            "lines": [{"sku": "AMPLANG-IKAN-250", "counted": 7}],
        },
    )
    assert status == 202
    counted = lambda: system.stock("IKN-01").get("AMPLANG-IKAN-250", {}).get("on_hand") == 7  # noqa: E731
    assert wait(counted)

    system.make("up")  # on the running system
    system.wait_for_simulator()
    assert counted()

    system.down_leaves_nothing()

    system.make("up")  # on the stopped system: Redis comes back empty
    system.wait_for_simulator()
    assert wait(lambda: "AMPLANG-IKAN-250" in system.stock("IKN-01")), "stock rebuilt"
    assert counted(), system.stock("IKN-01").get("AMPLANG-IKAN-250")
    status, supplier = system.call("GET", f"{system.url('catalog')}/v1/suppliers/SUP-SARI")
    assert status == 200
    assert isinstance(supplier, dict)
    assert not supplier["contacts"].get("email"), "the demo's supplier came back"
    assert system.days_simulated() == 1, "no new day, no re-count"
    # ...and `made_up` checks, once the module's tests are done, that `make down` leaves
    # nothing behind (the next test goes on with this system).


def readyz(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"{}")
    except OSError as exc:
        return 0, {"error": repr(exc)}


def test_under_make_up_workers_come_back_after_the_broker_restarts_and_readyz_tells_a_rebuild(
    made_up: LocalSystem,
) -> None:
    """Kafka and Redis stopped and started under a running `make up`: without any command
    every worker is back and the stock view is whole. Redis wiped: the APIs answer 503
    naming the read model being rebuilt, then 200 with the same stock."""
    from lumbung.catalog import demo

    system = made_up
    name, env = system.env["LUMBUNG_STACK_NAME"], system.env
    outlets = [outlet for outlet, _ in demo.outlets(time_today())]
    apis = ("inventory", "orders", "notifications", "books", "dashboard")
    assert wait(lambda: all(readyz(system.url(api))[0] == 200 for api in apis)), [
        readyz(system.url(api)) for api in apis
    ]
    before = {outlet: system.stock(outlet) for outlet in outlets}
    assert sum(len(stock) for stock in before.values()) > 50

    # `make stack-down` and `make stack` under it: the broker stops, Redis comes back empty.
    stack = [sys.executable, str(ROOT / "stack" / "stack.py")]
    workers = [f"{w}-worker" for w in ("inventory", "orders", "notifications", "books")]
    subprocess.run([*stack, "down", "--name", name], env=env, check=True, timeout=120)
    # Down until every worker has seen it (its /readyz no longer 200), for at most the
    # 10 s this waited before.
    wait(lambda: all(readyz(system.url(w))[0] != 200 for w in workers), 10)
    subprocess.run([*stack, "up", "--name", name], env=env, check=True, timeout=180)

    assert wait(lambda: all(readyz(system.url(w))[0] == 200 for w in workers), 240), [
        readyz(system.url(w)) for w in workers
    ]
    assert wait(lambda: all(readyz(system.url(api))[0] == 200 for api in apis), 120), [
        readyz(system.url(api)) for api in apis
    ]
    assert {outlet: system.stock(outlet) for outlet in outlets} == before

    redis_port = (system.home / "redis.port").read_text()
    wiped = subprocess.run(
        ["redis-cli", "-p", redis_port, "FLUSHALL"], capture_output=True, check=True
    )
    assert wiped.stdout.strip() == b"OK"
    seen: list[tuple[int, dict[str, object]]] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not seen or seen[-1][0] != 200):
        seen.append(readyz(system.url("inventory")))
    assert seen[-1][0] == 200, seen[-1]
    refused = [body for status, body in seen if status == 503]
    assert refused, "readyz said ready while the read model was gone"
    assert "rebuilt" in str(refused[0].get("reasons", {}).get("read_model", "")), refused[0]
    assert {outlet: system.stock(outlet) for outlet in outlets} == before


def time_today() -> date:
    return datetime.now(ZoneInfo("Asia/Makassar")).date()
