"""Every stream worker answers /healthz, /readyz and /metrics on its own port, like the
APIs: a real worker process on the real broker and Redis."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.support.fixtures import free_port
from tests.support.receivers import wait_until

pytestmark = pytest.mark.broker


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()
    except OSError:
        return 0, ""


@pytest.mark.parametrize("service", ["inventory", "orders", "notifications"])
def test_a_worker_reports_its_health_readiness_and_lag(
    service: str, worker_env: dict[str, str], workers: Any
) -> None:
    port = free_port()
    worker_env[f"LUMBUNG_{service.upper()}_WORKER_HTTP_PORT"] = str(port)
    workers(service)
    base = f"http://127.0.0.1:{port}"

    assert wait_until(lambda: get(f"{base}/healthz")[0] == 200, seconds=60)
    assert wait_until(lambda: get(f"{base}/readyz")[0] == 200, seconds=60), get(f"{base}/readyz")
    status, body = get(f"{base}/readyz")
    assert '"consumer":true' in body.replace(" ", "")
    status, metrics = get(f"{base}/metrics")
    assert status == 200
    assert "lumbung_consumer_lag" in metrics
