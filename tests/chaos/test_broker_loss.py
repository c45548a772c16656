"""Workers started while a broker of the cluster has just died for good, before the
cluster has fenced it and moved its partitions' leaders. In CI the cluster chaos run's
last faults came one right after another like this: the restarted notifications worker
asked the dead broker which node was the controller, stopped, and two restock requests
were never sent. The test is in `make test`."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from lumbung.catalog import demo
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

    def reached(supplier: str) -> tuple[int, int]:
        """(WhatsApp messages, emails) the local receivers got for `supplier`."""
        numbers = [orjson.loads(r.body)["to"] for r in receiver.to("/wa")]
        return numbers.count(contacts[supplier]["whatsapp"]), len(
            smtp.mailbox.to(contacts[supplier]["email"])
        )

    events.restock_requested("IKN-01", "AMPLANG-IKAN-250", "SUP-SARI")
    events.flush()
    assert wait_until(lambda: reached("SUP-SARI") == (1, 1), 120), reached("SUP-SARI")

    own_stack.kill_broker(own_stack.brokers)
    for service in list(running):
        running[service].kill()
        running[service] = workers(service)
    events.restock_requested("IKN-01", "KOPI-LIBERIKA-200", "SUP-KOPI")
    events.restock_requested("RA-KM47", "AMPLANG-IKAN-250", "SUP-SARI")
    events.flush()

    def after() -> dict[str, tuple[int, int]]:
        return {supplier: reached(supplier) for supplier in ("SUP-SARI", "SUP-KOPI")}

    assert wait_until(lambda: after() == {"SUP-SARI": (2, 2), "SUP-KOPI": (1, 1)}, 180), after()
    for service, worker in running.items():
        assert worker.proc.poll() is None, f"{service} worker stopped:\n{log_tail(worker.log)}"
