"""A page's EventSource, in Python: reads Server-Sent Events off the dashboard."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson


class Stream:
    """A page's EventSource, in Python: reads events off /v1/stream."""

    def __init__(self, url: str, key: str, last_event_id: str | None = None) -> None:
        headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
        self.client = httpx.Client(timeout=httpx.Timeout(60, read=60))
        self.response = self.client.send(
            self.client.build_request(
                "GET", f"{url}/v1/stream", params={"key": key}, headers=headers
            ),
            stream=True,
        )
        self.lines = self.response.iter_lines()
        self.last_id: str | None = None

    def next(self, seconds: float = 60) -> tuple[str, dict[str, Any]]:
        kind, data = "", b""
        deadline = time.monotonic() + seconds
        for line in self.lines:
            if time.monotonic() > deadline:
                raise AssertionError(f"no update within {seconds}s")
            if line.startswith("id: "):
                self.last_id = line[4:]
            elif line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data = line[6:].encode()
            elif line == "" and kind:
                return kind, orjson.loads(data)
        raise AssertionError("the stream ended")

    def until(self, kind: str, check: Any = lambda _: True, seconds: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            got, data = self.next()
            if got == kind and check(data):
                return data
        raise AssertionError(f"no {kind} update within {seconds}s")

    def close(self) -> None:
        self.response.close()
        self.client.close()
