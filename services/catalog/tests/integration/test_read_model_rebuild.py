"""The catalog's read model after its Redis goes away and comes back empty while the API
runs (a Redis crash, or `make stack-down` and `make stack` under `make up`): rebuilt
from Kafka, and `/readyz` says ready only once it is. The catalog gets a Redis server of
its own here, so that stopping it touches no other test."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from lumbung.catalog.bootstrap import build_api, issue_key_directly
from lumbung.catalog.settings import Settings
from lumbung.contracts import KeyRole, Registry

pytestmark = pytest.mark.broker
SUPPLIER = {
    "name": "Amplang Bu Sari",
    "owner_name": "Sari Wulandari",
    "contacts": {"whatsapp": "+6281234567890", "email": "sari@example.id"},
}
BACK_WITHIN_S = 30.0


class OwnRedis:
    """A redis-server on a free port, with no persistence: started again, it is empty."""

    def __init__(self, home: Path) -> None:
        binary = shutil.which("redis-server")
        assert binary, "Debian's redis-server, which the test stack runs too"
        self.binary, self.home = binary, home
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--save", "", "--appendonly", "no"],
            cwd=self.home,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port).ping():
                    return process
            except redis.ConnectionError:
                time.sleep(0.1)
        raise AssertionError(f"redis-server did not answer on port {self.port}")

    def crash_and_start_empty(self, down_s: float) -> None:
        self.process.kill()
        self.process.wait()
        time.sleep(down_s)
        self.process = self._start()

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def client(kafka_bootstrap: str, registry: Registry, own_redis: OwnRedis) -> Iterator[TestClient]:
    settings = Settings(
        kafka_bootstrap_servers=kafka_bootstrap,
        redis_url=own_redis.url,
        topic_prefix=registry.prefix,
    )
    key = asyncio.run(issue_key_directly(settings, KeyRole.OPS, "*", "tests"))
    with TestClient(build_api(settings)) as client:
        client.headers["X-API-Key"] = key
        yield client


def test_a_redis_that_comes_back_empty_under_the_running_api_is_filled_again_from_kafka(
    client: TestClient, own_redis: OwnRedis
) -> None:
    assert client.put("/v1/suppliers/SUP-SARI", json=SUPPLIER).status_code == 201
    assert client.get("/v1/suppliers/SUP-SARI").status_code == 200

    # Down long enough for the projector to meet it gone (it looks every fraction of a
    # second), as under `make stack-down`.
    own_redis.crash_and_start_empty(down_s=3)

    started = time.monotonic()
    answers: list[tuple[int, int]] = []
    while time.monotonic() - started < BACK_WITHIN_S:
        answers.append(
            (client.get("/readyz").status_code, client.get("/v1/suppliers/SUP-SARI").status_code)
        )
        if answers[-1] == (200, 200):
            break
        time.sleep(0.3)
    took = time.monotonic() - started
    assert answers[-1] == (200, 200), f"after {took:.0f} s: (readyz, supplier) {answers[-3:]}"
    missing = [ready for ready, found in answers if found == 404]
    assert 200 not in missing, "readyz said ready while the supplier was missing"
    supplier = client.get("/v1/suppliers/SUP-SARI").json()
    assert supplier["contacts"]["email"] == "sari@example.id"
