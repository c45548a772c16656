"""Real local receivers of notifications for tests: an HTTP server (webhooks, the WhatsApp
gateway) and an SMTP server, both on 127.0.0.1, recording what arrives."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session

from tests.support.fixtures import free_port


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """An HTTP server that records every POST and answers as told: `answers` is a queue of
    statuses for any path, `script[path]` a queue for one path, `down` paths answer 500."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.answers: list[int] = []
        self.script: dict[str, list[int]] = {}
        self.down: set[str] = set()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(receiver._record(self.path, dict(self.headers), body))
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # the default 5 refuses a worker's burst of messages
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _record(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            self.requests.append(Request(path, headers, body))
            if path in self.down:
                return 500
            queued = self.script.get(path)
            if queued:
                return queued.pop(0)
            return self.answers.pop(0) if self.answers else 200

    def to(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Mailbox:
    """The aiosmtpd handler: records every message; refuses recipients when told to."""

    rcpt_answer: str = "250 OK"

    def __post_init__(self) -> None:
        self.received: list[EmailMessage] = []

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_answer.startswith("250"):
            envelope.rcpt_tos.append(address)
        return self.rcpt_answer

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if m["To"] == address]


class SmtpServer:
    def __init__(self) -> None:
        self.mailbox = Mailbox()
        # aiosmtpd's Controller connects to its own port once started: it cannot take 0.
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


def wait_until(check: Callable[[], bool], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True
