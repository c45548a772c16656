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


@pytest.mark.parametrize("service", ["inventory", "orders", "notifications", "books"])
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


def test_the_inventory_jobs_run_in_processes_of_their_own_and_count_sales_per_outlet(
    worker_env: dict[str, str], workers: Any, events: Any
) -> None:
    """A larger deployment runs the stream jobs and the read model apart
    (`worker --jobs ...`): a sale still reaches the read model, whose process counts the
    outlet's sale lines for the silent-outlet alert."""
    from lumbung.contracts import SaleLine, SaleRecorded

    streams, projection = free_port(), free_port()
    worker_env["LUMBUNG_INVENTORY_WORKER_HTTP_PORT"] = str(streams)
    workers("inventory", "--jobs", "stock,route-orders")
    worker_env["LUMBUNG_INVENTORY_WORKER_HTTP_PORT"] = str(projection)
    workers("inventory", "--jobs", "read-model")
    sale = SaleRecorded(
        sale_id="S-SPLIT-1",
        outlet_id="BOOTH-SPLIT",
        sold_at=events.clock,
        lines=[SaleLine(sku="KOPI-250", qty=2, unit_price_idr=45_000)],
    )
    raw = events.envelope(sale, event_id=events.sale_event_id("BOOTH-SPLIT", "S-SPLIT-1"))
    events.send("pos.sales", "BOOTH-SPLIT", raw)
    events.flush()

    counted = 'lumbung_outlet_sales_total{outlet_id="BOOTH-SPLIT",service="inventory"} 1.0'
    assert wait_until(lambda: counted in get(f"http://127.0.0.1:{projection}/metrics")[1], 90)
    status, body = get(f"http://127.0.0.1:{streams}/readyz")
    assert status == 200, body
    assert '"redis"' not in body  # the stream jobs do not depend on Redis
    assert "lumbung_outlet_sales_total{" not in get(f"http://127.0.0.1:{streams}/metrics")[1]
