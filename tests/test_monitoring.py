"""The monitoring files in ops/ checked with Debian's promtool and amtool (installed by
scripts/install-system.sh; missing, the tests fail), and against the code: every API and
worker is scraped where `make up` and compose run it, every metric a rule reads is one the
services expose, and the alerts reach the ops webhook."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import shutil
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support.fixtures import free_port
from tests.test_compose import COMPOSE, SERVICES, WORKERS, default_http_port, load_yaml

ROOT = Path(__file__).resolve().parent.parent
PROMETHEUS = ROOT / "ops" / "prometheus"
RULES = PROMETHEUS / "rules" / "lumbung.yml"
RULE_TESTS = PROMETHEUS / "tests" / "lumbung_test.yml"
ALERTMANAGER = ROOT / "ops" / "alertmanager"
ALERTMANAGER_CONFIG = ALERTMANAGER / "alertmanager.yml"
OPS_RECEIVER = "ops-webhook"
DEMO_OPS_WEBHOOK = "http://127.0.0.1:8025/ops"


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"{name} is missing: `make install` installs it (scripts/install-system.sh, "
            "Debian's prometheus and prometheus-alertmanager)"
        )
    return found


def run(*command: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, timeout=120, check=False, **kwargs
    )


def alerts() -> dict[str, dict[str, Any]]:
    return {
        rule["alert"]: rule
        for group in load_yaml(RULES)["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }


def apps_constant(name: str) -> Any:
    """A literal of stack/apps.py, read without importing it (it puts stack/ on sys.path)."""
    tree = ast.parse((ROOT / "stack" / "apps.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"stack/apps.py defines no {name}")


def scrape_targets(config: Path) -> dict[str, dict[str, Any]]:
    """job -> its targets (static or DNS) and the role label it gives them."""
    jobs: dict[str, dict[str, Any]] = {}
    for job in load_yaml(config)["scrape_configs"]:
        static = [t for c in job.get("static_configs", []) for t in c["targets"]]
        roles = {c.get("labels", {}).get("role") for c in job.get("static_configs", [])}
        dns = [f"{n}:{c['port']}" for c in job.get("dns_sd_configs", []) for n in c["names"]]
        roles |= {
            r["replacement"]
            for r in job.get("relabel_configs", [])
            if r.get("target_label") == "role"
        }
        jobs[job["job_name"]] = {"targets": static + dns, "role": roles - {None}}
    return jobs


def expected_jobs() -> dict[str, str]:
    return {
        **{name: "api" for name in SERVICES},
        **{f"{name}-worker": "worker" for name in WORKERS},
    }


# -- promtool and amtool ---------------------------------------------------------------


@pytest.mark.parametrize("config", ["prometheus.yml", "local.yml"])
def test_promtool_accepts_the_scrape_config_and_its_rules(config: str) -> None:
    checked = run(tool("promtool"), "check", "config", str(PROMETHEUS / config))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{RULES.relative_to(ROOT)}" in checked.stdout + checked.stderr, "rules not loaded"


def test_promtool_accepts_the_alert_rules() -> None:
    checked = run(tool("promtool"), "check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_alert_fires_and_resolves_in_the_rule_unit_tests() -> None:
    tested = run(tool("promtool"), "test", "rules", str(RULE_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    fired: set[str] = set()
    quiet: set[str] = set()
    for case in load_yaml(RULE_TESTS)["tests"]:
        for check in case.get("alert_rule_test", []):
            (fired if check.get("exp_alerts") else quiet).add(check["alertname"])
    assert set(alerts()) == fired, f"alerts no test fires: {set(alerts()) - fired}"
    assert set(alerts()) == quiet, f"alerts no test sees quiet: {set(alerts()) - quiet}"


def test_amtool_accepts_the_alertmanager_config() -> None:
    checked = run(tool("amtool"), "check-config", str(ALERTMANAGER_CONFIG))
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("alert", sorted(alerts()))
def test_every_alert_is_routed_to_the_ops_webhook(alert: str) -> None:
    severity = alerts()[alert]["labels"]["severity"]
    routed = run(
        tool("amtool"),
        "config",
        "routes",
        "test",
        f"--config.file={ALERTMANAGER_CONFIG}",
        f"--verify.receivers={OPS_RECEIVER}",
        f"alertname={alert}",
        f"severity={severity}",
    )
    assert routed.returncode == 0, routed.stdout + routed.stderr


def test_the_ops_webhook_is_the_one_make_up_gives_the_notifications_service() -> None:
    (receiver,) = load_yaml(ALERTMANAGER_CONFIG)["receivers"]
    (webhook,) = receiver["webhook_configs"]
    http_port, _ = apps_constant("RECEIVER_PORTS")
    assert webhook["url"] == DEMO_OPS_WEBHOOK == f"http://127.0.0.1:{http_port}/ops"
    apps = (ROOT / "stack" / "apps.py").read_text()
    assert '"LUMBUNG_NOTIFICATIONS_OPS_WEBHOOK_URL": f"http://127.0.0.1:{http}/ops"' in apps


# -- the scrape configs against the code -------------------------------------------------


def test_the_local_config_scrapes_every_api_and_worker_on_the_ports_make_up_gives_them() -> None:
    worker_ports = apps_constant("WORKER_PORTS")
    assert set(apps_constant("SERVICES")) == set(SERVICES)
    assert set(apps_constant("WORKERS")) == set(WORKERS) == set(worker_ports)
    expected = {
        **{name: [f"127.0.0.1:{default_http_port(name)}"] for name in SERVICES},
        **{f"{name}-worker": [f"127.0.0.1:{port}"] for name, port in worker_ports.items()},
    }
    jobs = scrape_targets(PROMETHEUS / "local.yml")
    assert {job: found["targets"] for job, found in jobs.items()} == expected
    assert {job: found["role"] for job, found in jobs.items()} == {
        job: {role} for job, role in expected_jobs().items()
    }


def test_make_up_refuses_a_worker_port_that_is_taken_instead_of_crash_looping() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        chosen = run(
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, 'stack'); import apps; "
            f"print(apps.chosen_port('w', {port}, 'auto')); "
            f"apps.chosen_port('w', {port}, 'default')",
        )
    assert chosen.returncode == 1
    assert int(chosen.stdout.splitlines()[0]) != port
    assert f"port {port} for w is taken" in chosen.stdout + chosen.stderr


def test_the_compose_config_scrapes_every_api_and_worker_of_docker_compose() -> None:
    compose = load_yaml(COMPOSE)["services"]
    expected = {}
    for job in expected_jobs():
        service = job.removesuffix("-worker")
        variable = "WORKER_HTTP_PORT" if job.endswith("-worker") else "HTTP_PORT"
        port = compose[job]["environment"][f"LUMBUNG_{service.upper()}_{variable}"]
        expected[job] = [f"{job}:{port}"]
    jobs = scrape_targets(PROMETHEUS / "prometheus.yml")
    assert {job: found["targets"] for job, found in jobs.items()} == expected
    assert {job: found["role"] for job, found in jobs.items()} == {
        job: {role} for job, role in expected_jobs().items()
    }


def rule_metrics() -> set[str]:
    """The metric names in the alert expressions: what is left without label values, label
    lists (`by (…)`, `on (…)`), function calls, keywords and numbers."""
    names: set[str] = set()
    for rule in alerts().values():
        expr = re.sub(r'"[^"]*"', "", rule["expr"])
        expr = re.sub(r"\b(?:by|on|without|ignoring)\s*\([^)]*\)", "", expr)
        expr = re.sub(r"\{[^}]*\}", "", expr)
        words = re.findall(r"(?<![\w.])([a-zA-Z_:][\w:]*)\b(?!\s*\()", expr)
        names |= set(words) - {"and", "or", "unless", "offset", "bool"}
    return names


def test_the_alert_rules_read_only_metrics_the_services_expose() -> None:
    from prometheus_client import REGISTRY

    import lumbung.catalog.adapters.outlet_hours
    import lumbung.platform.metrics  # noqa: F401

    exposed = {"up"}  # Prometheus' own, per target
    for family in REGISTRY.collect():
        suffixes = {"counter": ["_total"], "histogram": ["_count", "_sum", "_bucket"]}
        exposed |= {family.name + s for s in suffixes.get(family.type, [""])}
    used = rule_metrics()
    assert {"lumbung_consumer_lag", "lumbung_outlet_open", "up"} <= used, used
    assert used <= exposed, f"rules read metrics nothing exposes: {sorted(used - exposed)}"


# -- compose --------------------------------------------------------------------------------


def tool_version(name: str) -> str:
    shown = run(tool(name), "--version")
    found = re.search(r"version (\d+\.\d+)", shown.stdout + shown.stderr)
    assert found, shown.stdout + shown.stderr
    return found.group(1)


def test_the_monitoring_profile_runs_the_checked_versions_on_these_files() -> None:
    compose = load_yaml(COMPOSE)["services"]
    prometheus, alertmanager = compose["prometheus"], compose["alertmanager"]
    assert prometheus["profiles"] == alertmanager["profiles"] == ["monitoring"]
    assert prometheus["image"].startswith(f"prom/prometheus:v{tool_version('promtool')}.")
    assert alertmanager["image"].startswith(f"prom/alertmanager:v{tool_version('amtool')}.")
    assert "./ops/prometheus:/etc/lumbung/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/lumbung/prometheus/prometheus.yml" in prometheus["command"]
    assert "./ops/alertmanager:/etc/lumbung:ro" in alertmanager["volumes"]
    assert alertmanager["entrypoint"] == ["/bin/sh", "/etc/lumbung/start.sh"]
    assert alertmanager["environment"]["OPS_WEBHOOK_URL"] == "${OPS_WEBHOOK_URL:-}"
    notifications = compose["notifications-worker"]["environment"]
    assert notifications["LUMBUNG_NOTIFICATIONS_OPS_WEBHOOK_URL"] == "${OPS_WEBHOOK_URL:-}"
    (alertmanagers,) = load_yaml(PROMETHEUS / "prometheus.yml")["alerting"]["alertmanagers"]
    assert alertmanagers["static_configs"][0]["targets"] == ["alertmanager:9094"]
    assert "9094:9094" in alertmanager["ports"]


def start_alertmanager(tmp_path: Path, url: str | None) -> tuple[str, list[str], str]:
    """ops/alertmanager/start.sh outside the image: the config it writes, the arguments it
    starts Alertmanager with, and what it printed."""
    shim = tmp_path / "alertmanager"
    shim.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$(dirname "$0")/args"\n')
    shim.chmod(0o755)
    env = {"PATH": "/usr/bin:/bin", "CONFIG_DIR": str(ALERTMANAGER)}
    env |= {"OUT_DIR": str(tmp_path), "ALERTMANAGER": str(shim)}
    if url is not None:
        env["OPS_WEBHOOK_URL"] = url
    started = run("/bin/sh", str(ALERTMANAGER / "start.sh"), env=env)
    assert started.returncode == 0, started.stderr
    args = (tmp_path / "args").read_text().splitlines()
    return (tmp_path / "alertmanager.yml").read_text(), args, started.stderr


def test_compose_alertmanager_sends_alerts_to_OPS_WEBHOOK_URL(tmp_path: Path) -> None:
    url = r"https://ops.lumbung.test/hook?team=forum&key=a|b\c"
    config, args, _ = start_alertmanager(tmp_path, url)

    (receiver,) = load_yaml(tmp_path / "alertmanager.yml")["receivers"]
    assert receiver["webhook_configs"][0]["url"] == url
    assert config.replace(url, DEMO_OPS_WEBHOOK) == ALERTMANAGER_CONFIG.read_text()
    assert f"--config.file={tmp_path / 'alertmanager.yml'}" in args
    assert "--web.listen-address=:9094" in args
    checked = run(tool("amtool"), "check-config", str(tmp_path / "alertmanager.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_compose_alertmanager_without_OPS_WEBHOOK_URL_says_its_alerts_reach_no_one(
    tmp_path: Path,
) -> None:
    config, _, printed = start_alertmanager(tmp_path, None)

    assert config == ALERTMANAGER_CONFIG.read_text()
    assert "OPS_WEBHOOK_URL is not set" in printed


# -- the demo's ops webhook -----------------------------------------------------------------


def test_the_demo_receiver_logs_an_alertmanager_post_as_a_message(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("demo_receiver", ROOT / "stack" / "receiver.py")
    assert spec is not None
    assert spec.loader is not None
    receiver = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(receiver)
    log_file = tmp_path / "messages.log"
    server = receiver.http_server("127.0.0.1", free_port(), receiver.Log(log_file))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    body = {
        "version": "4",
        "groupKey": '{}:{alertname="LumbungWorkerDown"}',
        "status": "firing",
        "receiver": OPS_RECEIVER,
        "groupLabels": {"alertname": "LumbungWorkerDown"},
        "commonLabels": {"alertname": "LumbungWorkerDown", "severity": "critical"},
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9094",
        "truncatedAlerts": 0,
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "LumbungWorkerDown", "job": job},
                "annotations": {"summary": f"Worker {job} mati atau tidak menjawab"},
                "startsAt": "2026-07-14T10:15:02+08:00",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
                "fingerprint": job,
            }
            for job in ("inventory-worker", "orders-worker")
        ],
    }
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.server_address[1]}/ops",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
    finally:
        server.shutdown()
        server.server_close()

    (entry,) = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert entry["path"] == "/ops"
    assert entry["from"] == "alertmanager"
    assert entry["subject"] == "[FIRING:2] LumbungWorkerDown"
    assert entry["text"] == (
        "firing: Worker inventory-worker mati atau tidak menjawab\n"
        "firing: Worker orders-worker mati atau tidak menjawab"
    )
