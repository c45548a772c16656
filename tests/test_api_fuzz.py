"""Schemathesis against every service's OpenAPI, with a valid ops key, on the real broker
and Redis: no answer is a 5xx, and every 4xx names the problem (a `detail`; the check is in
tests/support/schemathesis_hooks.py). Schemathesis runs from the tools environment
(.tools/, `make install`), where its dependencies do not meet faust's."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.fixtures import ApiProcess, require_tool

pytestmark = pytest.mark.broker
ROOT = Path(__file__).resolve().parent.parent
SCHEMATHESIS = ROOT / ".tools" / "bin" / "schemathesis"
SERVICES = ("catalog", "inventory", "orders", "notifications", "dashboard")


@pytest.mark.parametrize("service", SERVICES)
def test_no_generated_request_gets_a_server_error_and_every_4xx_names_the_problem(
    service: str,
    worker_env: dict[str, str],
    demo_catalog: dict[str, str],
    ops_key: str,
    tmp_path: Path,
) -> None:
    require_tool(SCHEMATHESIS)
    api = ApiProcess(service, worker_env, tmp_path / f"{service}.log")
    api.start()
    try:
        result = subprocess.run(
            [
                str(SCHEMATHESIS),
                "run",
                f"{api.url}/openapi.json",
                "--header",
                f"X-API-Key: {ops_key}",
                "--checks",
                "not_a_server_error,four_xx_names_the_problem",
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
            },
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=900,
        )
    finally:
        api.stop()
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
