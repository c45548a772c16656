"""Delivery when things break: a receiver that fails for a while or for good, and the
notifications worker killed with `kill -9` in the middle of its work."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import orjson
import pytest

from lumbung.contracts.events import inventory as inv
from lumbung.notifications.signing import DELIVERY_HEADER
from lumbung.platform.dlq import DeadLetter
from lumbung.platform.testing import read_records
from tests.support.receivers import wait_until

from .conftest import OPS_EMAIL

pytestmark = pytest.mark.broker
OUTLET = "IKN-01"


def test_a_receiver_failing_three_times_gets_the_message_once_on_the_fourth_attempt(
    events: Any,
    workers: Any,
    notify_env: dict[str, str],
    suppliers: Any,
    receiver: Any,
    on_topic: Any,
    kafka_bootstrap: str,
    registry: Any,
    consumed: Any,
) -> None:
    flaky = suppliers.point("SUP-SARI")
    gone = suppliers.point("SUP-GROGOT")
    fine = suppliers.point("SUP-AREN")
    receiver.script[flaky] = [500, 500, 500]
    receiver.down.add(gone)
    workers("notifications")
    suppliers.request(OUTLET, "AMPLANG-IKAN-250", "SUP-SARI")
    _, lost = suppliers.request(OUTLET, "KERUPUK-IKAN-500", "SUP-GROGOT")
    events.flush()
    # While SUP-GROGOT's receiver keeps failing, another supplier's message goes through.
    suppliers.request("RA-KM47", "GULA-AREN-500", "SUP-AREN")
    events.flush()
    assert wait_until(lambda: len(receiver.to(fine)) == 1)
    assert len(on_topic("notifications.deliveries", "notifications.NotificationFailed")) == 0

    failed = on_topic("notifications.deliveries", "notifications.NotificationFailed", wait_for=1)
    assert [
        (f["data"]["recipient"], f["data"]["channel"], f["data"]["attempts"]) for f in failed
    ] == [("supplier:SUP-GROGOT", "webhook", 4)]
    assert len(receiver.to(gone)) == 4, "the configured attempts, then no more"
    letters = [
        DeadLetter.from_headers(r.key, r.value, list(r.headers))
        for r in read_records(kafka_bootstrap, registry.name("notifications.dlq"))
    ]
    assert [(d.value, d.topic) for d in letters] == [(lost, registry.name("restock.events"))]
    assert "not delivered" in letters[0].error

    # The receiver is fixed; a while later, ops produce the dead letter again onto its
    # topic (the worker forgets a failed message's causes when it reads the failure back).
    receiver.down.discard(gone)
    wait_until(lambda: False, seconds=3)
    # The failure travels on notifications.deliveries, the dead letter on restock.events:
    # only once the worker has read the failure back is the cause forgotten.
    assert consumed("notifications.deliveries", "notifications"), "the failure is read back"
    events.send("restock.events", letters[0].key.decode(), letters[0].value)
    events.flush()
    # Made anew, it goes at once (in about 2 s: the digest window), not after the worker's
    # hold on the failed message it replaces has run out (about 60 s).
    assert wait_until(lambda: len(receiver.to(gone)) == 5, seconds=20)

    assert wait_until(lambda: len(receiver.to(flaky)) == 4)
    attempts = receiver.to(flaky)
    assert len({a.headers[DELIVERY_HEADER] for a in attempts}) == 1, "one message, four tries"
    delivered = on_topic(
        "notifications.deliveries", "notifications.NotificationDelivered", wait_for=9
    )
    hooks = [d["data"] for d in delivered if d["data"]["channel"] == "webhook"]
    assert sorted((d["recipient"], d["attempts"]) for d in hooks) == [
        ("supplier:SUP-AREN", 1),
        ("supplier:SUP-GROGOT", 1),
        ("supplier:SUP-SARI", 4),
    ]
    assert Counter(d["data"]["delivery_id"] for d in delivered).most_common(1)[0][1] == 1


def test_a_worker_killed_mid_batch_loses_no_alert_and_resends_with_the_same_id(
    events: Any,
    workers: Any,
    notify_env: dict[str, str],
    suppliers: Any,
    receiver: Any,
    smtp: Any,
    on_topic: Any,
) -> None:
    suppliers.point("SUP-SARI")
    suppliers.point("SUP-KOPI")
    notify_env["LUMBUNG_NOTIFICATIONS_ATTEMPTS"] = "8"  # a busy machine: no give-up here
    worker = workers("notifications")
    # Ops hear of every negative stock: 150 alerts, each to the ops webhook and mailbox;
    # and restock requests for two suppliers, digested per supplier.
    for n in range(150):
        alert = inv.StockAlertRaised(
            alert=inv.AlertKind.NEGATIVE_STOCK,
            outlet_id=f"OUT-{n % 7}",
            sku="MADU-KELULUT-250",
            on_hand=-1 - n,
            available=-1 - n,
        )
        events.send("inventory.alerts", f"OUT-{n % 7}", events.envelope(alert))
        if n % 15 == 0:
            suppliers.request(f"OUT-{n % 7}", "AMPLANG-IKAN-250", "SUP-SARI")
            suppliers.request(f"OUT-{n % 7}", "KOPI-LIBERIKA-200", "SUP-KOPI")
    events.flush()
    assert wait_until(lambda: len(receiver.to("/ops")) >= 20, seconds=90)
    worker.kill()
    killed_at = len(receiver.to("/ops"))
    workers("notifications")

    expected = 150 * 2 + 2 * 3  # ops: webhook + email per alert; suppliers: a digest by 3
    ids: set[str] = set()

    def all_delivered() -> bool:
        # A message sent again after the crash is recorded again, under the same event id.
        found = on_topic("notifications.deliveries", "notifications.NotificationDelivered")
        ids.update(d["data"]["delivery_id"] for d in found)
        return len(ids) >= expected

    assert wait_until(all_delivered, seconds=120)
    assert len(ids) == expected, f"killed after {killed_at} ops webhooks"

    seen: dict[str, Counter[str]] = defaultdict(Counter)
    for r in receiver.requests:
        if r.path == "/wa":
            seen["whatsapp"][orjson.loads(r.body)["reference"]] += 1
        else:
            seen["webhook"][r.headers[DELIVERY_HEADER]] += 1
    for message in smtp.mailbox.received:
        seen["email"][message["Message-ID"].strip("<>").split("@")[0]] += 1
    reached = {i for counter in seen.values() for i in counter}
    assert reached == ids, "every alert reached each of its channels, counted by delivery id"
    assert len(seen["webhook"]) == 150 + 2
    assert len(seen["email"]) == 150 + 2
    assert len(seen["whatsapp"]) == 2
    assert len(smtp.mailbox.to(OPS_EMAIL)) >= 150
