"""The local stack as a newcomer uses it: topics visible with kcat, a hand-written event
produced with kcat validates, and `make up` / `make down` leave nothing behind."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

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


def test_make_up_then_make_down_twice_leaves_no_process_and_no_port(tmp_path: Path) -> None:
    name = f"updown-{uuid.uuid4().hex[:6]}"
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL")}
    env.update(
        LUMBUNG_STACK_NAME=name,
        LUMBUNG_STACK_DIR=str(tmp_path),
        LUMBUNG_KAFKA_PORT="auto",
        LUMBUNG_REDIS_PORT="auto",
        LUMBUNG_APPS_PORTS="auto",
        LUMBUNG_SIMULATE_HOURS="0.5",
    )
    home = tmp_path / name
    try:
        for _ in range(2):
            subprocess.run(
                ["make", "-s", "up"],
                cwd=ROOT,
                env=env,
                check=True,
                timeout=300,
                capture_output=True,
            )
            pids = [int(p.read_text()) for p in home.glob("*.pid") if p.stem != "simulator"]
            ports = [int(p.read_text()) for p in home.glob("*.port")]
            # Kafka, Redis, five APIs, three workers, the demo's notification receiver
            assert len(pids) == 11
            assert all(alive(pid) for pid in pids)
            simulator = home / "logs" / "simulator.log"
            deadline = time.monotonic() + 180
            while "simulated:" not in simulator.read_text() and time.monotonic() < deadline:
                time.sleep(1)
            assert "simulated:" in simulator.read_text(), "the simulator ran to the end"
            dashboard = int((home / "dashboard.port").read_text())
            with urllib.request.urlopen(f"http://127.0.0.1:{dashboard}/healthz", timeout=5) as r:
                assert r.status == 200

            subprocess.run(
                ["make", "-s", "down"],
                cwd=ROOT,
                env=env,
                check=True,
                timeout=120,
                capture_output=True,
            )
            deadline = time.monotonic() + 10
            while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert [pid for pid in pids if alive(pid)] == []
            assert [port for port in ports if port_open(port)] == []
    finally:
        subprocess.run(["make", "-s", "down"], cwd=ROOT, env=env, timeout=120, capture_output=True)
