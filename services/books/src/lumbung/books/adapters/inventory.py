"""The inventory API, as the books service uses it to import a retailer's report: the
store's stock on hand, and the report's sales through the same ingest as any till. Each
call carries the key of the person importing, so the sales are theirs (an ops key)."""

from __future__ import annotations

from typing import Any

import httpx

from lumbung.books.domain import BooksError
from lumbung.platform.auth import KEY_HEADER

TIMEOUT_S = 30.0
BATCH = 25
"""Sales per request: what the ingest takes at once is 500; 25 keeps a request short."""


class InventoryUnavailable(BooksError):
    """The inventory API did not take the sales: nothing is recorded as imported."""


class InventoryApi:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    async def _call(self, method: str, path: str, key: str, body: Any = None) -> Any:
        try:
            async with httpx.AsyncClient(base_url=self.base_url, timeout=TIMEOUT_S) as client:
                answer = await client.request(method, path, json=body, headers={KEY_HEADER: key})
        except httpx.HTTPError as exc:
            raise InventoryUnavailable(
                "inventory", f"the inventory API is not reachable: {exc}"
            ) from None
        if answer.status_code >= 400:
            raise InventoryUnavailable(
                "inventory", f"the inventory API answered {answer.status_code}: {answer.text[:300]}"
            )
        return answer.json()

    async def stock(self, outlet_id: str, key: str) -> dict[str, Any]:
        found = await self._call("GET", f"/v1/outlets/{outlet_id}/stock", key)
        return dict(found.get("stock", {}))

    async def record_sales(self, outlet_id: str, body: dict[str, Any], key: str) -> None:
        """The sales in batches the ingest takes; a sale sent again is the same sale."""
        sales = body["sales"]
        for start in range(0, len(sales), BATCH):
            chunk = {"sales": sales[start : start + BATCH]}
            await self._call("POST", f"/v1/outlets/{outlet_id}/sales", key, chunk)
