"""Fixtures of the chaos runs (tests/support/chaos.py holds the load, the faults and the
checker): each test module gets a stack of its own (a cluster when it sets BROKERS = 3),
the whole system as processes on it with local receivers for the notification channels,
and `run(plan)`, which drives the load, injects the faults, checks and reports.

Each run writes its report to $LUMBUNG_CHAOS_REPORT_DIR (the test's tmp dir by default)
and prints it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from lumbung.contracts import Registry
from tests.support.chaos import Checker, Faults, Load, Plan, Report, Urls, received_ids
from tests.support.fixtures import ApiProcess, PrivateStack
from tests.support.receivers import Receiver, SmtpServer

APIS = ("catalog", "inventory", "orders", "notifications")
WORKERS = ("inventory", "orders", "notifications")


@pytest.fixture(scope="module")
def own_stack(request: pytest.FixtureRequest) -> Iterator[PrivateStack]:
    """A broker and Redis of the chaos run's own: it restarts the broker, and a broker
    holding the thousands of partitions the rest of the suite made takes minutes to.
    A module that sets BROKERS = 3 gets a cluster."""
    stack = PrivateStack(brokers=getattr(request.module, "BROKERS", 1)).up()
    with pytest.MonkeyPatch.context() as patch:
        # The test's own topics and every process it starts get the cluster's replication.
        replication = stack.env.get("LUMBUNG_REPLICATION_FACTOR")
        if replication:
            patch.setenv("LUMBUNG_REPLICATION_FACTOR", replication)
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
        api.launch()
    running = {service: workers(service) for service in WORKERS}
    try:
        for api in apis.values():
            api.wait_ready()
        yield apis, running
    finally:  # asked to stop together, they stop side by side
        for api in apis.values():
            if api.proc is not None:
                api.proc.terminate()
        for api in apis.values():
            if api.proc is not None:
                api.proc.wait(timeout=30)


@pytest.fixture
def run(
    system: Any,
    workers: Any,
    worker_env: dict[str, str],
    receivers: Any,
    own_stack: PrivateStack,
    ops_key: str,
    kafka_bootstrap: str,
    redis_url: str,
    registry: Registry,
    read_model: Any,
    tmp_path: Path,
) -> Iterator[Callable[[Plan], Report]]:
    """run(plan): the chaos run of `plan` on this test's system; its report."""
    progress = (tmp_path / "progress.txt").open("w")

    def run_plan(plan: Plan) -> Report:
        apis, running = system
        receiver, smtp = receivers

        def restart_worker(service: str) -> Callable[[], None]:
            def restart() -> None:
                running[service].kill()
                running[service] = workers(service)

            return restart

        def flush_redis() -> None:
            redis.Redis.from_url(redis_url).flushdb()

        urls = Urls(*(apis[name].url for name in APIS))
        load = Load(urls, ops_key, plan, tmp_path / "spools", progress)
        added: dict[str, Any] = {}

        def scale_out() -> None:
            """A second inventory worker and a second orders API join: partitions move."""
            added["worker"] = workers("inventory")
            api = added["api"] = ApiProcess("orders", worker_env, tmp_path / "orders-2.log")
            api.start()
            load.orders.apis.append(api.url)

        def scale_in() -> None:
            """The first inventory worker and the second orders API leave (a clean stop)."""
            first = running["inventory"]
            running["inventory"] = added["worker"]
            first.stop()
            load.orders.apis.remove(added["api"].url)
            added["api"].stop()

        actions: dict[str, Callable[[], None]] = {
            "kill inventory worker": restart_worker("inventory"),
            "kill orders worker": restart_worker("orders"),
            "kill notifications worker": restart_worker("notifications"),
            "restart broker": own_stack.restart_broker,
            "flush redis": flush_redis,
            "kill a broker for good": lambda: own_stack.kill_broker(own_stack.brokers),
            "scale out": scale_out,
            "scale in": scale_in,
        }
        faults = Faults(plan, actions)
        began = time.monotonic()
        load.start()
        faults.run(load)
        assert load.wait(1800), "the load ran to its end"
        assert not load.errors, load.errors
        load_ended = time.monotonic()
        load_seconds = load_ended - began

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
            converged_after_load_s=None if problems else time.monotonic() - load_ended,
            mismatches=problems
            + ([f"{load.unsent} sales never left the outlets"] if load.unsent else []),
        )
        load.orders.close()
        text = report.render()
        out = Path(os.environ.get("LUMBUNG_CHAOS_REPORT_DIR") or tmp_path)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"chaos-report-{plan.sale_lines}.txt").write_text(text + "\n")
        print(text)
        return report

    yield run_plan
    progress.close()
