"""Suppliers' answers to restock requests: from the supplier API or from a link in a
message, each becomes one `RestockAccepted` / `RestockDeclined` on `restock.acks`, which
inventory applies.

A request takes one answer. The request's status in the view (folded from the topics)
refuses an answered one; a claim in Redis, taken before publishing, refuses the second of
two answers racing each other before the first is read back. A link is single-use for the
same reason: its answer closes the question.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import redis.asyncio as aioredis

from lumbung.contracts import make_event
from lumbung.contracts.events import restock
from lumbung.contracts.ids import LUMBUNG_NAMESPACE
from lumbung.platform.auth import AuthError
from lumbung.platform.publisher import EventPublisher
from lumbung.platform.restocks import RestockRequest, RestockStatus, RestockView
from lumbung.platform.web import FieldError

log = logging.getLogger(__name__)
PRODUCER = "notifications-api"
CLAIM_TTL_S = 90 * 24 * 3600
CLOCK_SKEW = timedelta(minutes=5)
"""How far in the past an arrival may be given and still be taken (a supplier's phone
clock a little behind ours); earlier is a mistake that would plan stock on goods that
already failed to come."""


class Answers:
    def __init__(
        self,
        view: RestockView,
        publisher: EventPublisher,
        redis: aioredis.Redis,
        prefix: str,
        now: Callable[[], datetime],
    ) -> None:
        self._view = view
        self._publisher = publisher
        self._redis = redis
        self._claims = f"{prefix}:ntf:answer:" if prefix else "ntf:answer:"
        self._now = now

    def visible(self, restock_id: str, supplier_id: str | None) -> RestockRequest:
        """The request, if `supplier_id` (None: ops) may see it."""
        request = self._view.get(restock_id)
        if request is None:
            raise FieldError(404, "restock_id", f"no restock request {restock_id!r}")
        if supplier_id is not None and request.supplier_id != supplier_id:
            raise AuthError(403, f"restock request {restock_id} is not for {supplier_id}")
        return request

    def of_supplier(self, supplier_id: str, status: RestockStatus | None) -> list[dict[str, Any]]:
        return [
            r.to_dict()
            for r in self._view.of_supplier(supplier_id)
            if status is None or r.status is status
        ]

    async def accept(
        self, request: RestockRequest, qty: int, expected_at: datetime, via: str
    ) -> dict[str, Any]:
        if expected_at < self._now() - CLOCK_SKEW:
            raise FieldError(
                422,
                "expected_at",
                f"expected_at {expected_at.isoformat()} is in the past: give when the goods "
                "will arrive",
            )
        payload = restock.RestockAccepted(
            restock_id=request.restock_id,
            outlet_id=request.outlet_id,
            sku=request.sku,
            supplier_id=request.supplier_id or "",
            qty=qty,
            expected_at=expected_at,
        )
        return await self._answer(request, payload, via)

    async def decline(self, request: RestockRequest, reason: str, via: str) -> dict[str, Any]:
        payload = restock.RestockDeclined(
            restock_id=request.restock_id,
            outlet_id=request.outlet_id,
            sku=request.sku,
            supplier_id=request.supplier_id or "",
            reason=reason,
        )
        return await self._answer(request, payload, via)

    async def _answer(
        self,
        request: RestockRequest,
        payload: restock.RestockAccepted | restock.RestockDeclined,
        via: str,
    ) -> dict[str, Any]:
        if request.status is not RestockStatus.OPEN:
            raise FieldError(
                409, "restock_id", f"restock request {request.restock_id} is {request.status}"
            )
        claim = self._claims + request.restock_id
        if not await self._redis.set(claim, via, nx=True, ex=CLAIM_TTL_S):
            raise FieldError(
                409, "restock_id", f"restock request {request.restock_id} is answered already"
            )
        event = make_event(
            payload,
            event_id=uuid.uuid5(LUMBUNG_NAMESPACE, f"restock-answer:{request.restock_id}"),
            occurred_at=self._now(),
            producer=PRODUCER,
            correlation_id=request.restock_id,
        )
        try:
            await self._publisher.publish("restock.acks", request.outlet_id, event)
        except Exception:
            await self._redis.delete(claim)  # not answered after all: it may be tried again
            raise
        log.info("restock %s %s via %s", request.restock_id, event.event_type, via)
        return {
            "restock_id": request.restock_id,
            "event_id": str(event.event_id),
            "answer": "accepted" if isinstance(payload, restock.RestockAccepted) else "declined",
        }
