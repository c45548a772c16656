"""Schemathesis against every service's OpenAPI, with a key of every role (ops, outlet,
supplier), on the real broker and Redis: no answer is a 5xx, every 4xx names the problem
(a `detail`), and no answer shows a key what its role may not read: an outlet key sees no
supplier's contact details, a supplier key none of another supplier's (the checks are in
tests/support/schemathesis_hooks.py). Schemathesis runs from the tools environment
(.tools/, `make install`), where its dependencies do not meet faust's."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import pytest

from lumbung.catalog import demo
from lumbung.catalog.bootstrap import issue_key_directly
from lumbung.catalog.settings import Settings as CatalogSettings
from lumbung.contracts import KeyRole
from tests.support.fixtures import ApiProcess, require_tool

pytestmark = pytest.mark.broker
ROOT = Path(__file__).resolve().parent.parent
SCHEMATHESIS = ROOT / ".tools" / "bin" / "schemathesis"
SERVICES = ("catalog", "inventory", "orders", "notifications", "books", "dashboard")
OUTLET = "IKN-01"
SUPPLIER = "SUP-SARI"


def contact_details(but: str | None = None) -> list[str]:
    """The demo suppliers' owner names, phones and e-mail addresses, except `but`'s own."""
    return [
        text
        for supplier_id, body in demo.suppliers()
        if supplier_id != but
        for text in (body["owner_name"], *body["contacts"].values())
    ]


def key_of(role: KeyRole, worker_env: dict[str, str], ops_key: str, outlet_key: str) -> str:
    if role is KeyRole.OPS:
        return ops_key
    if role is KeyRole.OUTLET:
        return outlet_key
    settings = CatalogSettings(
        kafka_bootstrap_servers=worker_env["KAFKA_BOOTSTRAP_SERVERS"],
        redis_url=worker_env["REDIS_URL"],
        topic_prefix=worker_env["LUMBUNG_TOPIC_PREFIX"],
    )
    return asyncio.run(issue_key_directly(settings, KeyRole.SUPPLIER, SUPPLIER, "fuzz"))


# What each role may not read (ops reads everything).
FORBIDDEN = {
    KeyRole.OPS: [],
    KeyRole.OUTLET: contact_details(),
    KeyRole.SUPPLIER: contact_details(but=SUPPLIER),
}


@pytest.mark.parametrize("role", list(KeyRole), ids=lambda role: role.value)
@pytest.mark.parametrize("service", SERVICES)
def test_no_generated_request_gets_a_server_error_or_reads_beyond_its_key(
    service: str,
    role: KeyRole,
    worker_env: dict[str, str],
    demo_catalog: dict[str, str],
    ops_key: str,
    tmp_path: Path,
) -> None:
    require_tool(SCHEMATHESIS)
    key = key_of(role, worker_env, ops_key, demo_catalog[OUTLET])
    env, behind = worker_env, None
    if service == "dashboard":  # its restock buttons pass on to inventory's API
        behind = ApiProcess("inventory", worker_env, tmp_path / "inventory.log")
        behind.start()
        env = {**worker_env, "LUMBUNG_DASHBOARD_INVENTORY_URL": behind.url}
    api = ApiProcess(service, env, tmp_path / f"{service}.log")
    try:
        api.start()
        result = subprocess.run(
            [
                str(SCHEMATHESIS),
                "run",
                f"{api.url}/openapi.json",
                "--header",
                f"X-API-Key: {key}",
                "--checks",
                "not_a_server_error,four_xx_names_the_problem,no_read_beyond_the_key",
                "--max-examples",
                "15",
                "--seed",
                "2026",
                "--request-timeout",
                "15",
                # The live stream never ends: its own tests cover it.
                "--exclude-path",
                "/v1/stream",
                # 503 is /readyz's answer while the service's workers do not run (none do
                # here): the truth, not a server error (tests/test_local_stack.py).
                "--exclude-path",
                "/readyz",
            ],
            env={
                **os.environ,
                "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
                "PYTHONPATH": str(ROOT / "tests" / "support"),
                "LUMBUNG_FUZZ_FORBIDDEN": json.dumps(FORBIDDEN[role]),
            },
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=900,
        )
    finally:
        api.stop()
        if behind is not None:
            behind.stop()
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
