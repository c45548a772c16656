"""An outlet that loses the inventory API keeps selling: its sales wait in the spool and
go in, once each and in order, when the API is back.

The module runs on a broker and Redis of its own: the gateway test stops and starts the
broker, and the suite's broker, holding the thousands of partitions the tests before made
by then, takes most of a minute to start again; an empty one takes seconds."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from lumbung.contracts import Registry, sale_event_id
from lumbung.contracts.events.pos import ReturnKind
from lumbung.inventory.outlet import GatewaySender, HttpSender, OutletClient, Spool, Unreachable
from tests.support.fixtures import ApiProcess, PrivateStack

pytestmark = pytest.mark.broker
OUTLET, SKU = "RA-KM47", "KERIPIK-PISANG-200"
VOID = ReturnKind.VOID


@pytest.fixture(scope="module")
def own_stack() -> Iterator[PrivateStack]:
    stack = PrivateStack().up()
    yield stack
    stack.down()


@pytest.fixture(scope="module")
def kafka_bootstrap(own_stack: PrivateStack) -> str:
    return own_stack.env["KAFKA_BOOTSTRAP_SERVERS"]


@pytest.fixture(scope="module")
def redis_url(own_stack: PrivateStack) -> str:
    return own_stack.env["REDIS_URL"]


@pytest.fixture
def broker_outage(
    own_stack: PrivateStack,
) -> Callable[[], contextlib.AbstractContextManager[None]]:
    """`with broker_outage(): ...`: the block runs with this module's broker stopped."""
    return own_stack.broker_stopped


def opening(events: Any, read_model: Any, outlet: str, qty: int) -> None:
    from lumbung.contracts.events import inventory as inv

    count = inv.StockCounted(
        count_id=f"OPEN-{outlet}",
        outlet_id=outlet,
        kind=inv.CountKind.OPENING,
        counted_at=events.clock,
        lines=[inv.CountedLine(sku=SKU, counted=qty)],
    )
    events.send("inventory.commands", outlet, events.envelope(count))
    events.flush()
    assert read_model.wait_for(lambda: SKU in read_model.outlet(outlet))


def applied_in_order(read_model: Any, outlet: str) -> list[str]:
    ledger = read_model.redis.lrange(f"{read_model.prefix}ledger:{outlet}:{SKU}", 0, -1)
    import orjson

    return [
        orjson.loads(line)["causation_id"]
        for line in reversed(ledger)
        if orjson.loads(line)["reason"] == "sale"
    ]


def test_sales_spooled_while_the_api_is_down_go_in_once_and_in_order(
    worker_env: dict[str, str],
    demo_catalog: dict[str, str],
    events: Any,
    workers: Any,
    read_model: Any,
    tmp_path: Path,
) -> None:
    workers()
    opening(events, read_model, OUTLET, 100)
    api = ApiProcess("inventory", worker_env, tmp_path / "api.log")
    api.start()
    client = OutletClient(
        OUTLET,
        Spool(tmp_path / "spool.sqlite"),
        HttpSender(f"http://127.0.0.1:{api.port}", demo_catalog[OUTLET]),
    )
    sale_ids = [
        client.record([(SKU, 1, 15000)], datetime.now().astimezone(), f"S-{n:02d}")
        for n in range(5)
    ]
    assert client.flush() == 5

    api.stop()
    for n in range(5, 25):
        sale_ids.append(client.record([(SKU, 2, None)], datetime.now().astimezone(), f"S-{n:02d}"))
        if n == 5:  # voided at once, offline: the void goes after its sale
            client.give_back("S-05", [(SKU, 2, None)], datetime.now().astimezone(), VOID)
    client.give_back("S-06", [(SKU, 1, None)], datetime.now().astimezone())
    with pytest.raises(Unreachable):
        client.flush()
    assert client.spool.counts()["pending"] == 22

    api.start()
    try:
        assert client.flush() == 22
        client.spool._db.execute("UPDATE sales SET state = 'pending' WHERE sale_id = 'S-07'")
        assert client.flush() == 1
    finally:
        api.stop()
        client.close()

    voided, returned = 2, 1
    assert read_model.wait_for(
        lambda: read_model.outlet(OUTLET)[SKU]["on_hand"] == 100 - 5 - 40 + voided + returned
    )
    assert applied_in_order(read_model, OUTLET) == [str(sale_event_id(OUTLET, s)) for s in sale_ids]


def test_a_gateway_spools_while_the_broker_is_down_and_sends_each_sale_once_after(
    kafka_bootstrap: str,
    registry: Registry,
    events: Any,
    workers: Any,
    read_model: Any,
    broker_outage: Any,
    tmp_path: Path,
) -> None:
    workers()
    opening(events, read_model, "IDM-KUARO", 30)
    gateway = OutletClient(
        "IDM-KUARO",
        Spool(tmp_path / "gw.sqlite"),
        GatewaySender(kafka_bootstrap, registry, timeout_s=5),
    )
    sale_ids = [
        gateway.record([(SKU, 1, 14000)], datetime.now().astimezone(), f"G-{n}") for n in range(3)
    ]
    try:
        assert gateway.flush() == 3
        with broker_outage():
            sale_ids += [
                gateway.record([(SKU, 1, 14000)], datetime.now().astimezone(), f"G-{n}")
                for n in range(3, 10)
            ]
            with pytest.raises(Unreachable):
                gateway.flush()
            assert gateway.spool.counts()["pending"] == 7
        deadline = time.monotonic() + 60
        while gateway.spool.counts().get("pending") and time.monotonic() < deadline:
            try:
                gateway.flush()
            except Unreachable:
                time.sleep(1)
    finally:
        gateway.close()
    assert read_model.wait_for(lambda: read_model.outlet("IDM-KUARO")[SKU]["on_hand"] == 20)
    assert applied_in_order(read_model, "IDM-KUARO") == [
        str(sale_event_id("IDM-KUARO", s)) for s in sale_ids
    ]


def test_a_key_for_another_outlet_sets_the_sales_aside_as_refused_not_offline(
    worker_env: dict[str, str], demo_catalog: dict[str, str], tmp_path: Path
) -> None:
    api = ApiProcess("inventory", worker_env, tmp_path / "api.log")
    api.start()
    client = OutletClient(
        OUTLET,
        Spool(tmp_path / "spool.sqlite"),
        HttpSender(f"http://127.0.0.1:{api.port}", demo_catalog["IKN-01"]),
    )
    try:
        client.record([(SKU, 1, 15000)], datetime.now().astimezone(), "S-WRONG-KEY")
        assert client.flush() == 0
        assert client.spool.counts() == {"pending": 0, "sent": 0, "refused": 1}
        [refused] = client.spool.refused()
    finally:
        api.stop()
        client.close()

    assert refused.reason.startswith("403: ")
    assert "IKN-01" in refused.reason


def test_a_booth_s_closing_count_waits_for_its_spooled_sales_then_goes(
    worker_env: dict[str, str],
    demo_catalog: dict[str, str],
    events: Any,
    workers: Any,
    read_model: Any,
    on_topic: Any,
    tmp_path: Path,
) -> None:
    """`lumbung-outlet close-out`: offline, the count is not sent (a sale applied after it
    would take from what was counted); back online, the sales go first, then the count,
    and the booth's close-out report follows."""
    from lumbung.inventory.outlet_cli import OFFLINE, main

    booth = "BOOTH-STADION"
    workers()
    opening(events, read_model, booth, 10)
    api = ApiProcess("inventory", worker_env, tmp_path / "api.log")
    spool = tmp_path / "booth.sqlite"
    cli = ["--outlet", booth, "--spool", str(spool), "--key", demo_catalog[booth]]
    client = OutletClient(booth, Spool(spool))
    client.record([(SKU, 3, 15000)], datetime.now().astimezone(), "S-LAST")
    client.close()

    closing = ["close-out", "--count", f"{SKU}:6", "--close-id", "CLOSE-B1"]
    assert main([*cli, "--url", "http://127.0.0.1:9", *closing]) == OFFLINE
    api.start()
    try:
        assert main([*cli, "--url", f"http://127.0.0.1:{api.port}", *closing]) == 0
    finally:
        api.stop()
    [report] = on_topic("inventory.alerts", "inventory.BoothClosedOut", wait_for=1)
    [line] = report["data"]["lines"]
    assert (line["sold"], line["left_over"], line["difference"]) == (3, 6, -1)
