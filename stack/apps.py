"""Start and stop Lumbung's services on this machine, next to the local stack.

    python stack/apps.py up   [--name dev] [--ports auto] [--demo]
    python stack/apps.py demo [--name dev]      # load the demo catalog and run a day
    python stack/apps.py down [--name dev]

Each service runs as `lumbung-<service> api` in its own process group, logs to
`.stack/<name>/logs/<service>.log`, and is up when its /healthz answers. The broker and
Redis come from KAFKA_BOOTSTRAP_SERVERS and REDIS_URL, or from the stack's env file.

`up` resumes a system that holds data: the demo catalog is loaded, and an event day
simulated, only when the catalog holds no product yet, or when asked (`--demo`, `demo`).
The simulator counts opening stock only where an outlet has none of a product, so
nothing `up` does ever re-counts stock that exists.
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

from stack import Stack, fail, free_port, pid_alive, port_open, say

SERVICES = ("catalog", "inventory", "orders", "notifications", "books", "dashboard")
WORKERS = ("inventory", "orders", "notifications", "books")
"""Services that also run a stream worker process (`lumbung-<service> worker`)."""
WORKER_PORTS = {"inventory": 8102, "orders": 8103, "notifications": 8104, "books": 8105}
"""Where each worker answers /healthz, /readyz and /metrics, unless `--ports auto`:
ops/prometheus/local.yml scrapes these (the APIs' ports plus 100)."""
RECEIVER_PORTS = (8025, 8026)
"""The demo receiver's HTTP and SMTP ports, unless `--ports auto`: ops/alertmanager's
config sends alerts to its ops webhook, like the notifications worker."""
BIN = Path(sys.executable).parent
MAX_PAUSE_S = 30.0
"""The longest wait before a supervised worker that keeps exiting is started again."""


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


def chosen_port(what: str, default: int, ports: str) -> int:
    """A free port with `--ports auto`, else `default`, refused if something holds it (a
    worker would crash on it at every start, and its supervisor start it again for ever)."""
    if ports == "auto":
        return free_port()
    if port_open(default):
        fail(f"port {default} for {what} is taken; free it, or run with --ports auto")
    return default


def up(stack: Stack, ports: str, demo: bool = False) -> None:
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
        if service in ("dashboard", "books"):  # restock buttons; a report's sales
            inventory = stack.file("inventory.port").read_text()
            service_env[f"LUMBUNG_{service.upper()}_INVENTORY_URL"] = (
                f"http://127.0.0.1:{inventory}"
            )
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
    env.update(start_receiver(stack, logs, ports))
    for service in WORKERS:
        start_worker(stack, service, env, logs, ports)
    if load_demo(stack, env, demo) and os.environ.get("LUMBUNG_SIMULATE", "1") != "0":
        start_simulator(stack, env, logs)
    dashboard = stack.file("dashboard.port").read_text()
    key = stack.file("ops.key").read_text().strip()
    print(f"Dashboard: http://127.0.0.1:{dashboard}/?key={key}")
    print(f"Logs: {logs}/ (messages the suppliers and ops got: {logs}/messages.log)")


def start_receiver(stack: Stack, logs: Path, ports: str) -> dict[str, str]:
    """The demo's WhatsApp gateway, mail server and ops webhook, all logging to
    messages.log; returns the notifications settings that point there."""
    pid_file = stack.file("receiver.pid")
    if not pid_alive(pid_file):
        http = chosen_port("the demo receiver", RECEIVER_PORTS[0], ports)
        smtp = chosen_port("the demo receiver's mail", RECEIVER_PORTS[1], ports)
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


def start_worker(stack: Stack, service: str, env: dict[str, str], logs: Path, ports: str) -> None:
    pid_file = stack.file(f"{service}-worker.pid")
    if pid_alive(pid_file):
        say(f"{service} worker already runs")
        return
    log = logs / f"{service}-worker.log"
    port = chosen_port(f"the {service} worker", WORKER_PORTS[service], ports)
    stack.file(f"{service}-worker.port").write_text(str(port))
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "supervise",
                "--",
                str(BIN / f"lumbung-{service}"),
                "worker",
            ],
            env={
                **env,
                "LUMBUNG_DATA_DIR": str(stack.file("data")),
                # /healthz, /readyz and /metrics of the worker
                f"LUMBUNG_{service.upper()}_WORKER_HTTP_PORT": str(port),
                # The one worker of this service here keeps its name across the
                # supervisor's restarts: a crashed worker takes its partitions back at once.
                "LUMBUNG_WORKER_INSTANCE": f"{service}-0",
            },
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pid_file.write_text(str(proc.pid))
    stack.file(f"{service}-worker.port").write_text(str(port))
    say(f"{service} worker started (pid {proc.pid}, metrics on :{port}, log {log})")


def supervise(command: list[str]) -> int:
    """Run `command`, and start it again whenever it exits: after 1 s, doubling up to
    MAX_PAUSE_S while it keeps failing, back to 1 s once a run lasted a minute. SIGTERM
    (`down` signals the whole process group) stops both. A worker that lost the broker
    and crashed used to stay down until someone ran `make up` again."""
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    pause = 0.0
    while not stopping:
        began = time.monotonic()
        child = subprocess.Popen(command)
        child.wait()
        if stopping:
            break
        ran = time.monotonic() - began
        pause = 1.0 if ran > 60 or not pause else min(pause * 2, MAX_PAUSE_S)
        name = " ".join([Path(command[0]).name, *command[1:]])
        say(f"{name} exited ({child.returncode}) after {ran:.0f}s; starting it in {pause:.0f}s")
        until = time.monotonic() + pause
        while not stopping and time.monotonic() < until:
            time.sleep(0.2)
    return child.wait() if child is not None else 0


def load_demo(stack: Stack, env: dict[str, str], asked: bool) -> bool:
    """Issue the ops key once (kept in .stack/<name>/ops.key) and load the demo catalog
    when asked or into an empty catalog; returns whether it was loaded."""
    from lumbung.catalog.client import CatalogClient
    from lumbung.platform.clock import SystemClock

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
    catalog = CatalogClient(url, key_file.read_text().strip())
    try:
        catalog.wait_until_key_accepted()
        products = catalog.count("products")
        if products and not asked:
            say(
                f"the catalog holds {products} products: resuming with the data kept "
                f"(`make demo` loads the demo again; the ops key is in {key_file})"
            )
            return False
        count = catalog.load_demo(SystemClock().now().date())
    except SystemExit as refused:
        fail(f"loading the demo catalog failed: {refused}")
    finally:
        catalog.close()
    say(f"demo catalog loaded: {count} entities; the ops key is in {key_file}")
    return True


def demo(stack: Stack) -> None:
    """Load the demo catalog again (its suppliers, products and outlets as shipped) and
    run an event day, on a system `up` started."""
    if not stack.file("catalog.port").exists():
        fail(f"the services of stack {stack.name} do not run: start them with `make up`")
    env = stack_env(stack)
    env["LUMBUNG_NOTIFICATIONS_PUBLIC_URL"] = (
        f"http://127.0.0.1:{stack.file('notifications.port').read_text()}"
    )
    load_demo(stack, env, asked=True)
    start_simulator(stack, env, stack.file("logs"))


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
    if argv is None:
        argv = sys.argv[1:]
    if argv[:2] == ["supervise", "--"]:  # how `up` runs each worker (see `supervise`)
        return supervise(argv[2:])
    parser.add_argument("command", choices=["up", "demo", "down"])
    parser.add_argument("--name", default=os.environ.get("LUMBUNG_STACK_NAME", "dev"))
    parser.add_argument(
        "--ports",
        default=os.environ.get("LUMBUNG_APPS_PORTS", "default"),
        choices=["default", "auto"],
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        default=os.environ.get("LUMBUNG_DEMO", "0") == "1",
        help="with up: load the demo catalog and run a day even when the catalog holds data",
    )
    args = parser.parse_args(argv)
    stack = Stack.named(args.name)
    if args.command == "up":
        up(stack, args.ports, args.demo)
    elif args.command == "demo":
        demo(stack)
    else:
        down(stack)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
