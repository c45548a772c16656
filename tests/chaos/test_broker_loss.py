"""Workers started while a broker of the cluster has just died for good, before the
cluster has fenced it and moved its partitions' leaders. In CI the cluster chaos run's
last faults came one right after another like this: the restarted notifications worker
asked the dead broker which node was the controller, stopped, and two restock requests
were never sent. The test is in `make test`."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest

from lumbung.catalog import demo
from lumbung.contracts.events import restock
from tests.support.fixtures import PrivateStack, log_tail
from tests.support.receivers import Receiver, SmtpServer, wait_until

pytestmark = pytest.mark.broker
BROKERS = 3


def test_workers_started_right_after_a_broker_died_come_up_and_send_every_request(
    own_stack: PrivateStack,
    system: Any,
    workers: Any,
    events: Any,
    receivers: tuple[Receiver, SmtpServer],
) -> None:
    _, running = system
    receiver, smtp = receivers
    contacts = {supplier: body["contacts"] for supplier, body in demo.suppliers()}

    def request(supplier_id: str, outlet_id: str, sku: str) -> None:
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
        events.send("restock.events", outlet_id, events.envelope(payload))
        events.flush()

    def reached() -> dict[str, tuple[int, int]]:
        """Per supplier: (WhatsApp messages, emails) the local receivers got."""
        numbers = [orjson.loads(r.body)["to"] for r in receiver.to("/wa")]
        return {
            supplier: (numbers.count(c["whatsapp"]), len(smtp.mailbox.to(c["email"])))
            for supplier, c in contacts.items()
            if supplier in ("SUP-SARI", "SUP-KOPI")
        }

    request("SUP-SARI", "IKN-01", "AMPLANG-IKAN-250")
    assert wait_until(lambda: reached()["SUP-SARI"] == (1, 1), 120), reached()

    own_stack.kill_broker(own_stack.brokers)
    for service in list(running):
        running[service].kill()
        running[service] = workers(service)
    request("SUP-KOPI", "IKN-01", "KOPI-LIBERIKA-200")
    request("SUP-SARI", "RA-KM47", "AMPLANG-IKAN-250")

    expected = {"SUP-SARI": (2, 2), "SUP-KOPI": (1, 1)}
    assert wait_until(lambda: reached() == expected, 180), reached()
    for service, worker in running.items():
        assert worker.proc.poll() is None, f"{service} worker stopped:\n{log_tail(worker.log)}"
