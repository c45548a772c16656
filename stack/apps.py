"""Start and stop Lumbung's services on this machine, next to the local stack.

    python stack/apps.py up   [--name dev] [--ports auto]
    python stack/apps.py down [--name dev]

Each service runs as `lumbung-<service> api` in its own process group, logs to
`.stack/<name>/logs/<service>.log`, and is up when its /healthz answers. The broker and
Redis come from KAFKA_BOOTSTRAP_SERVERS and REDIS_URL, or from the stack's env file.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import Stack, fail, free_port, pid_alive, say

SERVICES = ("catalog", "inventory", "orders", "notifications", "dashboard")
WORKERS = ("inventory", "orders", "notifications")
"""Services that also run a stream worker process (`lumbung-<service> worker`)."""
BIN = Path(sys.executable).parent


def stack_env(stack: Stack) -> dict[str, str]:
    env = dict(os.environ)
    if not (env.get("KAFKA_BOOTSTRAP_SERVERS") and env.get("REDIS_URL")):
        env_file = stack.file("env")
        if not env_file.exists():
            fail(f"stack {stack.name} is not running: start it with `make stack` first")
        for line in env_file.read_text().splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            env[key] = value
    return env


def default_port(service: str) -> int:
    settings = importlib.import_module(f"lumbung.{service}.settings")
    return int(settings.Settings.model_fields["http_port"].default)


def wait_healthy(service: str, port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            fail(f"{service} exited at start; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    fail(f"{service} did not answer /healthz on port {port} within 60s; see {log}")


def up(stack: Stack, ports: str) -> None:
    env = stack_env(stack)
    logs = stack.file("logs")
    logs.mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        pid_file = stack.file(f"{service}.pid")
        port_file = stack.file(f"{service}.port")
        if pid_alive(pid_file) and port_file.exists():
            say(f"{service} already runs on http://127.0.0.1:{port_file.read_text()}")
            continue
        port = free_port() if ports == "auto" else default_port(service)
        log = logs / f"{service}.log"
        service_env = {
            **env,
            f"LUMBUNG_{service.upper()}_HTTP_PORT": str(port),
            f"LUMBUNG_{service.upper()}_HTTP_HOST": "127.0.0.1",
        }
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [str(BIN / f"lumbung-{service}"), "api"],
                env=service_env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        pid_file.write_text(str(proc.pid))
        port_file.write_text(str(port))
        wait_healthy(service, port, proc, log)
        say(f"{service} runs on http://127.0.0.1:{port} (docs at /docs)")
    notifications = stack.file("notifications.port").read_text()
    env["LUMBUNG_NOTIFICATIONS_PUBLIC_URL"] = f"http://127.0.0.1:{notifications}"
    env.update(start_receiver(stack, logs))
    for service in WORKERS:
        start_worker(stack, service, env, logs)
    load_demo(stack, env)
    if os.environ.get("LUMBUNG_SIMULATE", "1") != "0":
        start_simulator(stack, env, logs)
    dashboard = stack.file("dashboard.port").read_text()
    key = stack.file("ops.key").read_text().strip()
    print(f"Dashboard: http://127.0.0.1:{dashboard}/?key={key}")
    print(f"Logs: {logs}/ (messages the suppliers and ops got: {logs}/messages.log)")


def start_receiver(stack: Stack, logs: Path) -> dict[str, str]:
    """The demo's WhatsApp gateway, mail server and ops webhook, all logging to
    messages.log; returns the notifications settings that point there."""
    pid_file = stack.file("receiver.pid")
    if not pid_alive(pid_file):
        http, smtp = free_port(), free_port()
        with open(logs / "receiver.log", "ab") as out:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    str(Path(__file__).resolve().parent / "receiver.py"),
                    "--http-port",
                    str(http),
                    "--smtp-port",
                    str(smtp),
                    "--log",
                    str(logs / "messages.log"),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        pid_file.write_text(str(proc.pid))
        stack.file("receiver.port").write_text(f"{http}")
        stack.file("receiver.smtp").write_text(f"{smtp}")
        say(f"demo receiver for WhatsApp, email and ops webhooks on {http}/{smtp}")
    http = stack.file("receiver.port").read_text()
    smtp = stack.file("receiver.smtp").read_text()
    return {
        "LUMBUNG_NOTIFICATIONS_WHATSAPP_GATEWAY_URL": f"http://127.0.0.1:{http}/wa",
        "LUMBUNG_NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
        "LUMBUNG_NOTIFICATIONS_SMTP_PORT": smtp,
        "LUMBUNG_NOTIFICATIONS_OPS_WEBHOOK_URL": f"http://127.0.0.1:{http}/ops",
        "LUMBUNG_NOTIFICATIONS_OPS_EMAIL": "ops@lumbung.local",
        "LUMBUNG_NOTIFICATIONS_DIGEST_WINDOW_S": "20",
    }


def start_simulator(stack: Stack, env: dict[str, str], logs: Path) -> None:
    """An event day in the background (`lumbung simulate`), at LUMBUNG_SIMULATE_SPEED."""
    pid_file = stack.file("simulator.pid")
    if pid_alive(pid_file):
        say("the simulator already runs")
        return
    port = {s: stack.file(f"{s}.port").read_text() for s in SERVICES}
    command = [
        str(BIN / "lumbung"),
        "simulate",
        "--key",
        stack.file("ops.key").read_text().strip(),
        "--speed",
        os.environ.get("LUMBUNG_SIMULATE_SPEED", "600"),
        *(
            f"--{s}=http://127.0.0.1:{port[s]}"
            for s in ("catalog", "inventory", "orders", "notifications")
        ),
    ]
    if os.environ.get("LUMBUNG_SIMULATE_HOURS"):
        command += ["--hours", os.environ["LUMBUNG_SIMULATE_HOURS"]]
    log = logs / "simulator.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            command,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pid_file.write_text(str(proc.pid))
    say(f"the event-day simulator runs (pid {proc.pid}); its progress: tail -f {log}")


def start_worker(stack: Stack, service: str, env: dict[str, str], logs: Path) -> None:
    pid_file = stack.file(f"{service}-worker.pid")
    if pid_alive(pid_file):
        say(f"{service} worker already runs")
        return
    log = logs / f"{service}-worker.log"
    port = free_port()
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [str(BIN / f"lumbung-{service}"), "worker"],
            env={
                **env,
                "LUMBUNG_DATA_DIR": str(stack.file("data")),
                # /healthz, /readyz and /metrics of the worker
                f"LUMBUNG_{service.upper()}_WORKER_HTTP_PORT": str(port),
            },
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pid_file.write_text(str(proc.pid))
    stack.file(f"{service}-worker.port").write_text(str(port))
    say(f"{service} worker started (pid {proc.pid}, metrics on :{port}, log {log})")


def load_demo(stack: Stack, env: dict[str, str]) -> None:
    """Issue the ops key once (kept in .stack/<name>/ops.key) and load the demo catalog."""
    key_file = stack.file("ops.key")
    if not key_file.exists():
        issued = subprocess.run(
            [str(BIN / "lumbung-catalog"), "keys", "issue", "--role", "ops", "--label", "make up"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        key_file.write_text(issued.stdout.strip())
        key_file.chmod(0o600)
    url = f"http://127.0.0.1:{stack.file('catalog.port').read_text()}"
    loaded = subprocess.run(
        [str(BIN / "lumbung-catalog"), "demo", "--url", url, "--key", key_file.read_text().strip()],
        env=env,
        capture_output=True,
        text=True,
    )
    if loaded.returncode != 0:
        fail(f"loading the demo catalog failed: {loaded.stdout}{loaded.stderr}")
    say(f"{loaded.stdout.strip()}; the ops key is in {key_file}")


def down(stack: Stack) -> None:
    for name in ("simulator", *(f"{w}-worker" for w in WORKERS), *SERVICES, "receiver"):
        pid_file = stack.file(f"{name}.pid")
        pid = pid_alive(pid_file)
        if pid is not None:
            os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            while pid_alive(pid_file) and time.monotonic() < deadline:
                time.sleep(0.2)
            if pid_alive(pid_file):
                os.killpg(pid, signal.SIGKILL)
            say(f"{name} stopped")
        pid_file.unlink(missing_ok=True)
        stack.file(f"{name}.port").unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("command", choices=["up", "down"])
    parser.add_argument("--name", default=os.environ.get("LUMBUNG_STACK_NAME", "dev"))
    parser.add_argument(
        "--ports",
        default=os.environ.get("LUMBUNG_APPS_PORTS", "default"),
        choices=["default", "auto"],
    )
    args = parser.parse_args(argv)
    stack = Stack.named(args.name)
    if args.command == "up":
        up(stack, args.ports)
    else:
        down(stack)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
