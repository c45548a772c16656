"""Workers started while a broker of the cluster has just died for good, before the
cluster has fenced it and moved its partitions' leaders. In CI the cluster chaos run's
last faults came one right after another like this: the restarted notifications worker
asked the dead broker which node was the controller, stopped, and two restock requests
were never sent. The test is in `make test`."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from lumbung.contracts.events import restock
from tests.support.fixtures import PrivateStack, log_tail
from tests.support.receivers import wait_until

pytestmark = pytest.mark.broker
BROKERS = 3


def test_workers_started_right_after_a_broker_died_come_up_and_send_every_request(
    own_stack: PrivateStack, system: Any, workers: Any, events: Any, on_topic: Any
) -> None:
    _, running = system

    def request(supplier_id: str, outlet_id: str, sku: str) -> str:
        event_id = uuid.uuid4()
        payload = restock.RestockRequested(
            restock_id=f"RS-{uuid.uuid4().hex[:12]}",
            outlet_id=outlet_id,
            sku=sku,
            supplier_id=supplier_id,
            suggested_qty=24,
            available=3,
            reorder_point=5,
            par_level=27,
        )
        events.send("restock.events", outlet_id, events.envelope(payload, event_id=event_id))
        events.flush()
        return str(event_id)

    def delivered(cause: str) -> set[str]:
        found = on_topic("notifications.deliveries", "notifications.NotificationDelivered")
        return {d["data"]["channel"] for d in found if cause in d["data"]["causes"]}

    before = request("SUP-SARI", "IKN-01", "AMPLANG-IKAN-250")
    assert wait_until(lambda: delivered(before) == {"email", "whatsapp"}, 120)

    own_stack.kill_broker(own_stack.brokers)
    for service in list(running):
        running[service].kill()
        running[service] = workers(service)
    after = [
        request("SUP-KOPI", "IKN-01", "KOPI-LIBERIKA-200"),
        request("SUP-SARI", "RA-KM47", "AMPLANG-IKAN-250"),
    ]

    assert wait_until(lambda: all(delivered(c) == {"email", "whatsapp"} for c in after), 180)
    for service, worker in running.items():
        assert worker.proc.poll() is None, f"{service} worker stopped:\n{log_tail(worker.log)}"
