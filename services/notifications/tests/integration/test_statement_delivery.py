"""An issued consignment statement through the real broker and notifications worker to its
supplier's webhook and WhatsApp, once however often it is issued."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest

from lumbung.contracts.events import books
from tests.support.receivers import wait_until

pytestmark = pytest.mark.broker
SUPPLIER, SHOP = "SUP-KERIPIK", "IDM-GROGOT-1"


def test_an_issued_statement_reaches_its_supplier_once_on_every_channel(
    events: Any, workers: Any, notify_env: dict[str, str], suppliers: Any, receiver: Any
) -> None:
    path = suppliers.point(SUPPLIER)
    workers("notifications")
    number = f"ST-2026-11-{SUPPLIER}-{SHOP}"
    issued = books.StatementIssued(
        number=number,
        period="2026-11",
        supplier_id=SUPPLIER,
        outlet_id=SHOP,
        sold=12,
        returned=2,
        gross_idr=150_000,
        commission_idr=22_500,
        net_idr=127_500,
        refunds_idr=29_000,
    )
    event_id = uuid.uuid4()
    for _ in range(2):  # issued twice: the same event
        events.send("books.events", SUPPLIER, events.envelope(issued, event_id))
    events.flush()

    assert wait_until(lambda: len(receiver.to(path)) == 1 and len(receiver.to("/wa")) == 1)
    body = orjson.loads(receiver.to(path)[0].body)
    assert body["subject"] == (
        f"Nota konsinyasi {number}: Indomaret Jl. Sultan Ibrahim Khaliludin, Nov 2026"
    )
    assert body["text"].startswith("Halo Nur Hasanah,\nNota konsinyasi Anda untuk Indomaret")
    assert "Dibayarkan ke Anda: Rp 127.500." in body["text"]
    assert (body["data"]["kind"], body["data"]["number"]) == ("statement", number)
    assert [orjson.loads(r.body)["to"] for r in receiver.to("/wa")] == ["+6281250011006"]
    wait_until(lambda: False, seconds=4)  # the second issue: no second message
    assert (len(receiver.to(path)), len(receiver.to("/wa"))) == (1, 1)
