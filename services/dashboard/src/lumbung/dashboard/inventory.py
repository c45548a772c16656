"""The inventory API, as the dashboard page reaches it: a suggested restock's quantity,
changed and sent by ops (`PUT /v1/outlets/{outlet_id}/restocks/{restock_id}`), and the
transfer suggestions, listed and accepted (`/v1/transfers/suggestions`).

The page's ops key goes along as it came, so inventory checks it and records who it
was; the dashboard holds no key of its own and writes no topic (inventory's API does).
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from lumbung.platform.auth import KEY_HEADER

TIMEOUT_S = 10.0
"""Inventory answers once Kafka has the command (acks=all): well under a second, unless
the broker is down, and then the page should hear so, not wait."""


class InventoryUnreachable(Exception):
    """The inventory API did not answer."""


class InventoryApi:
    def __init__(self, base_url: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT_S, transport=transport)

    async def set_restock_qty(
        self, key: str, outlet_id: str, restock_id: str, body: dict[str, Any]
    ) -> tuple[int, Any]:
        """(status, body) of inventory's answer, passed on to the page as it is."""
        return await self.forward(
            key, "PUT", f"/v1/outlets/{outlet_id}/restocks/{restock_id}", body
        )

    async def transfer_suggestions(self, key: str) -> tuple[int, Any]:
        return await self.forward(key, "GET", "/v1/transfers/suggestions")

    async def accept_transfer(
        self, key: str, suggestion_id: str, body: dict[str, Any]
    ) -> tuple[int, Any]:
        path = f"/v1/transfers/suggestions/{suggestion_id}/accept"
        return await self.forward(key, "POST", path, body)

    async def forward(
        self, key: str, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        """(status, body) of inventory's answer to the call made with the page's key."""
        headers = {KEY_HEADER: key}
        content = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            content = orjson.dumps(body)
        try:
            answer = await self._http.request(method, path, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise InventoryUnreachable(f"{type(exc).__name__}: {exc}") from exc
        try:
            return answer.status_code, answer.json()
        except ValueError:
            return answer.status_code, {"detail": answer.text}

    async def close(self) -> None:
        await self._http.aclose()
