"""The demo's stand-in for WhatsApp, email and ops webhooks: `make up` points every
notification channel here, so alerts are really delivered and can be read.

    python stack/receiver.py --http-port 8025 --smtp-port 8026 --log messages.log

In a container (the compose file's `demo` profile) it listens on every interface
(`--host 0.0.0.0`) and logs to its standard output (`--log -`): `docker compose logs
receiver`.

Every message becomes one JSON line in the log: the channel, where it went, its delivery
id and its text. Alertmanager posts to the same ops webhook (ops/alertmanager): its
alerts are logged with a subject and a text like the notifications service's messages.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class Log:
    """A file of JSON lines; `-`: standard output."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()

    def write(self, entry: dict[str, Any]) -> None:
        line = json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **entry}, ensure_ascii=False)
        with self._lock:
            if str(self._path) == "-":
                print(line, flush=True)
                return
            with self._path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")


def from_alertmanager(data: Any) -> dict[str, Any] | None:
    """An Alertmanager webhook body (version 4) as a message: '[FIRING:2] LumbungWorkerDown'
    and one line per alert with its summary; None for any other body."""
    if not isinstance(data, dict) or data.get("version") != "4" or "alerts" not in data:
        return None
    alerts = data["alerts"]
    name = {**data.get("commonLabels", {}), **data.get("groupLabels", {})}.get("alertname", "?")
    lines = []
    for alert in alerts:
        summary = alert.get("annotations", {}).get("summary") or alert.get("labels", {})
        lines.append(f"{alert.get('status', '?')}: {summary}")
    return {
        "delivery_id": data.get("groupKey"),
        "subject": f"[{str(data.get('status', '?')).upper()}:{len(alerts)}] {name}",
        "text": "\n".join(lines),
        "from": "alertmanager",
    }


def http_server(host: str, port: int, log: Log) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                data = json.loads(body)
            except ValueError:
                data = {"raw": body.decode(errors="replace")}
            entry = {
                "channel": "whatsapp" if self.path.startswith("/wa") else "webhook",
                "path": self.path,
                "delivery_id": self.headers.get("X-Lumbung-Delivery") or data.get("reference"),
                "to": data.get("to"),
                "subject": data.get("subject"),
                "text": data.get("text"),
            }
            log.write({**entry, **(from_alertmanager(data) or {})})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 256
        daemon_threads = True

    return Server((host, port), Handler)


class Mailbox:
    def __init__(self, log: Log) -> None:
        self.log = log

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(("plain",))
        self.log.write(
            {
                "channel": "email",
                "to": message["To"],
                "delivery_id": (message["Message-ID"] or "").strip("<>").split("@")[0],
                "subject": message["Subject"],
                "text": body.get_content() if body is not None else "",
            }
        )
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True, help="a file, or - for stdout")
    args = parser.parse_args()
    log = Log(args.log)
    smtp = Controller(Mailbox(log), hostname=args.host, port=args.smtp_port)
    smtp.start()
    server = http_server(args.host, args.http_port, log)
    try:
        server.serve_forever()
    finally:
        smtp.stop()


if __name__ == "__main__":
    main()
