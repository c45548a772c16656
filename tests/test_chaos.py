"""The chaos run (see tests/support/chaos.py): the whole system as its own processes on
the real broker and Redis, a busy simulated day and orders through the APIs, while the
workers are killed with `kill -9`, the broker restarts and Redis is flushed. Afterwards
every (outlet, SKU), every order and every alert is checked against the event log.

The short run is part of `make test` (one fault of every kind); the full run (50,000 sale
lines, 2,000 orders, the inventory worker killed five times) is `make chaos`. Each
writes its report to $LUMBUNG_CHAOS_REPORT_DIR (the test's tmp dir by default) and
prints it."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from lumbung.contracts import Registry
from tests.support.chaos import Checker, Faults, Load, Plan, Report, Urls, received_ids
from tests.support.fixtures import ApiProcess, PrivateStack
from tests.support.receivers import Receiver, SmtpServer

pytestmark = pytest.mark.broker
APIS = ("catalog", "inventory", "orders", "notifications")
WORKERS = ("inventory", "orders", "notifications")

SHORT = Plan(sale_lines=1500, orders=150, intensity=1, hours=3.5, inventory_kills=1)
FULL = Plan(sale_lines=50_000, orders=2_000, intensity=7, hours=None)


@pytest.fixture(scope="module")
def own_stack() -> Iterator[PrivateStack]:
    """A broker and Redis of the chaos run's own: it restarts the broker, and a broker
    holding the thousands of partitions the rest of the suite made takes minutes to."""
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
def receivers() -> Iterator[tuple[Receiver, SmtpServer]]:
    receiver, smtp = Receiver(), SmtpServer()
    yield receiver, smtp
    receiver.close()
    smtp.close()


@pytest.fixture
def system(
    worker_env: dict[str, str],
    tmp_path: Path,
    workers: Any,
    demo_catalog: dict[str, str],
    receivers: tuple[Receiver, SmtpServer],
) -> Iterator[tuple[dict[str, ApiProcess], dict[str, Any]]]:
    receiver, smtp = receivers
    worker_env.update(
        {
            "LUMBUNG_NOTIFICATIONS_WHATSAPP_GATEWAY_URL": f"{receiver.url}/wa",
            "LUMBUNG_NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
            "LUMBUNG_NOTIFICATIONS_SMTP_PORT": str(smtp.port),
            "LUMBUNG_NOTIFICATIONS_OPS_WEBHOOK_URL": f"{receiver.url}/ops",
            "LUMBUNG_NOTIFICATIONS_OPS_EMAIL": "ops@lumbung.test",
            "LUMBUNG_NOTIFICATIONS_DIGEST_WINDOW_S": "5",
            # The receivers never fail: a message is only late, never given up, here.
            "LUMBUNG_NOTIFICATIONS_ATTEMPTS": "12",
            "LUMBUNG_NOTIFICATIONS_BACKOFF_S": "0.5",
            "LUMBUNG_NOTIFICATIONS_BACKOFF_MAX_S": "5",
        }
    )
    apis = {name: ApiProcess(name, worker_env, tmp_path / f"{name}.log") for name in APIS}
    for api in apis.values():
        api.start()
    running = {service: workers(service) for service in WORKERS}
    yield apis, running
    for api in apis.values():
        api.stop()


def chaos_run(
    plan: Plan,
    system: tuple[dict[str, ApiProcess], dict[str, Any]],
    workers: Any,
    receivers: tuple[Receiver, SmtpServer],
    own_stack: PrivateStack,
    ops_key: str,
    kafka_bootstrap: str,
    redis_url: str,
    registry: Registry,
    read_model: Any,
    tmp_path: Path,
) -> Report:
    apis, running = system
    receiver, smtp = receivers

    def restart_worker(service: str) -> None:
        running[service].kill()
        running[service] = workers(service)

    def flush_redis() -> None:
        redis.Redis.from_url(redis_url).flushdb()

    urls = Urls(*(apis[name].url for name in APIS))
    progress = (tmp_path / "progress.txt").open("w")
    load = Load(urls, ops_key, plan, tmp_path / "spools", progress)
    faults = Faults(plan, restart_worker, own_stack.restart_broker, flush_redis)
    began = time.monotonic()
    load.start()
    faults.run(load)
    assert load.wait(1800), "the load ran to its end"
    assert not load.errors, load.errors
    load_seconds = time.monotonic() - began

    checker = Checker(
        kafka_bootstrap,
        registry,
        read_model,
        apis["orders"].url,
        ops_key,
        lambda: received_ids(receiver, smtp),
    )
    problems = checker.converge(load.orders.placed, seconds=300)
    tally = load.simulation.tally
    report = Report(
        plan,
        sale_lines=tally.sale_lines,
        sales=tally.sales,
        unsent=load.unsent,
        outlet_errors=[e[:160] for e in tally.errors],
        orders_placed=len(load.orders.placed),
        orders_fulfilled=len(load.orders.fulfilled),
        orders_cancelled=len(load.orders.cancelled),
        order_retries=load.orders.retries,
        records_in=checker.log.records_in,
        applied=checker.log.applied,
        duplicates=checker.log.duplicates,
        alerts=sum(1 for channels in checker.sent.expected.values() if channels),
        messages=checker.sent.messages,
        faults=faults.injected,
        load_seconds=load_seconds,
        converged_after_s=None if problems else time.monotonic() - faults.last_at,
        mismatches=problems
        + ([f"{load.unsent} sales never left the outlets"] if load.unsent else []),
    )
    progress.close()
    load.orders.close()
    text = report.render()
    out = Path(os.environ.get("LUMBUNG_CHAOS_REPORT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"chaos-report-{plan.sale_lines}.txt").write_text(text + "\n")
    print(text)
    return report


def test_a_short_chaos_run_with_every_kind_of_fault_leaves_nothing_mismatched(
    system: Any,
    workers: Any,
    receivers: Any,
    own_stack: PrivateStack,
    ops_key: str,
    kafka_bootstrap: str,
    redis_url: str,
    registry: Registry,
    read_model: Any,
    tmp_path: Path,
) -> None:
    report = chaos_run(
        SHORT,
        system,
        workers,
        receivers,
        own_stack,
        ops_key,
        kafka_bootstrap,
        redis_url,
        registry,
        read_model,
        tmp_path,
    )
    assert {f.kind for f in report.faults} == set(SHORT.faults())
    assert report.sale_lines >= SHORT.sale_lines
    assert report.orders_placed == SHORT.orders
    assert report.alerts > 0, "alerts and restock requests went out during the run"
    assert report.mismatches == [], report.render()


@pytest.mark.chaos
def test_the_full_chaos_run_leaves_nothing_mismatched(
    system: Any,
    workers: Any,
    receivers: Any,
    own_stack: PrivateStack,
    ops_key: str,
    kafka_bootstrap: str,
    redis_url: str,
    registry: Registry,
    read_model: Any,
    tmp_path: Path,
) -> None:
    report = chaos_run(
        FULL,
        system,
        workers,
        receivers,
        own_stack,
        ops_key,
        kafka_bootstrap,
        redis_url,
        registry,
        read_model,
        tmp_path,
    )
    assert len(report.faults) == len(FULL.faults())
    assert report.sale_lines >= FULL.sale_lines
    assert report.orders_placed == FULL.orders
    assert report.mismatches == [], report.render()
