"""A small HTTP client of the catalog API, for the CLI: load the demo, import a sheet."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from lumbung.catalog import demo


class CatalogClient:
    def __init__(self, base_url: str, key: str) -> None:
        self._http = httpx.Client(base_url=base_url, headers={"X-API-Key": key}, timeout=30)

    def wait_until_key_accepted(self, timeout_s: float = 15.0) -> None:
        """A key written straight to Kafka reaches the API's key view within a moment; an
        API still starting (compose starts the jobs beside it) is waited for likewise."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if self._http.get("/v1/whoami").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the catalog API did not accept the key within {timeout_s:.0f} s")
            time.sleep(0.2)

    def put(self, collection: str, entity_id: str, body: dict[str, Any]) -> httpx.Response:
        answer = self._http.put(f"/v1/{collection}/{entity_id}", json=body)
        if answer.status_code >= 400:
            raise SystemExit(f"{collection}/{entity_id}: {answer.status_code} {answer.text}")
        return answer

    def count(self, collection: str) -> int:
        """How many entities of a collection the catalog holds (0 in a new system)."""
        answer = self._http.get(f"/v1/{collection}", params={"limit": 1})
        if answer.status_code >= 400:
            raise SystemExit(f"{collection}: {answer.status_code} {answer.text}")
        return int(answer.json()["total"])

    def close(self) -> None:
        self._http.close()

    def load_demo(self, today: date) -> int:
        entities = demo.catalog(today)
        for collection, entity_id, body in entities:
            self.put(collection, entity_id, body)
        return len(entities)

    def import_sheet(self, sheet: str, path: Path, dry_run: bool) -> dict[str, Any]:
        answer = self._http.post(
            f"/v1/import/{sheet}",
            params={"dry_run": dry_run},
            content=path.read_bytes(),
            headers={"Content-Type": "text/csv"},
        )
        if answer.status_code >= 400:
            raise SystemExit(f"{path}: {answer.json().get('detail', answer.text)}")
        report: dict[str, Any] = answer.json()
        return report
