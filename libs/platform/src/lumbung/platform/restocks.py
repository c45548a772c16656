"""Restock requests as people see them: what was asked, who answered how, and whether the
goods came, folded from `restock.events` (inventory's requests and closings) and
`restock.acks` (suppliers' answers).

The two topics are read side by side, so an answer can be read before its request: the
fold keeps whatever part arrived and the status follows from all of them (closed, else
the answer, else open). The first answer counts; the supplier API refuses a second.
Inventory's API shows them per outlet; the notifications API per supplier.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from lumbung.contracts import Envelope, Registry
from lumbung.contracts.events import restock
from lumbung.platform.views import FoldedView


class RestockStatus(StrEnum):
    SUGGESTED = "suggested"
    """Sized by the forecast and held for ops; not sent to the supplier yet."""
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CLOSED = "closed"


@dataclass
class RestockRequest:
    restock_id: str
    outlet_id: str = ""
    sku: str = ""
    supplier_id: str | None = None
    suggested_qty: int = 0
    requested_at: datetime | None = None
    suggested_at: datetime | None = None
    send_at: datetime | None = None
    why: str = ""
    """Why this quantity (a forecast's request says it in words)."""
    answer: str | None = None
    answered_at: datetime | None = None
    accepted_qty: int | None = None
    expected_at: datetime | None = None
    reason: str = ""
    received_qty: int | None = None
    closed_at: datetime | None = None

    @property
    def requested(self) -> bool:
        """Whether the request itself has been read (an answer can come first)."""
        return self.requested_at is not None

    @property
    def status(self) -> RestockStatus:
        if self.closed_at is not None:
            return RestockStatus.CLOSED
        if self.answer is not None:
            return RestockStatus(self.answer)
        return RestockStatus.OPEN if self.requested else RestockStatus.SUGGESTED

    def fold(self, event: Envelope[Any]) -> None:
        data = event.data
        match data:
            case restock.RestockSuggested() if not self.requested:  # again: ops changed it
                self.outlet_id, self.sku = data.outlet_id, data.sku
                self.supplier_id, self.suggested_qty = data.supplier_id, data.suggested_qty
                self.suggested_at, self.send_at, self.why = (
                    event.occurred_at,
                    data.send_at,
                    data.reason,
                )
            case restock.RestockRequested():
                self.outlet_id, self.sku = data.outlet_id, data.sku
                self.supplier_id, self.suggested_qty = data.supplier_id, data.suggested_qty
                self.requested_at, self.why = event.occurred_at, data.reason
            case restock.RestockClosed():
                self.outlet_id, self.sku = data.outlet_id, data.sku
                self.received_qty, self.closed_at = data.received_qty, event.occurred_at
            case restock.RestockAccepted() if self.answer is None:
                self.answer, self.answered_at = RestockStatus.ACCEPTED.value, event.occurred_at
                self.accepted_qty, self.expected_at = data.qty, data.expected_at
            case restock.RestockDeclined() if self.answer is None:
                self.answer, self.answered_at = RestockStatus.DECLINED.value, event.occurred_at
                self.reason = data.reason

    def to_dict(self) -> dict[str, Any]:
        def iso(moment: datetime | None) -> str | None:
            return None if moment is None else moment.isoformat()

        return {
            "restock_id": self.restock_id,
            "status": self.status.value,
            "outlet_id": self.outlet_id,
            "sku": self.sku,
            "supplier_id": self.supplier_id,
            "suggested_qty": self.suggested_qty,
            "requested_at": iso(self.requested_at),
            "suggested_at": iso(self.suggested_at),
            "send_at": iso(self.send_at),
            "why": self.why,
            "answered_at": iso(self.answered_at),
            "accepted_qty": self.accepted_qty,
            "expected_at": iso(self.expected_at),
            "reason": self.reason,
            "received_qty": self.received_qty,
            "closed_at": iso(self.closed_at),
        }


class RestockView(FoldedView):
    """Every restock request in memory, kept current from the two topics. A request is a
    few hundred bytes and one is raised per (outlet, SKU) per restock cycle."""

    def __init__(self, bootstrap_servers: str, registry: Registry, service: str) -> None:
        self._requests: dict[str, RestockRequest] = {}
        self._by_supplier: dict[str, set[str]] = defaultdict(set)
        self._by_outlet: dict[str, set[str]] = defaultdict(set)
        topics = ["restock.events", "restock.acks"]
        super().__init__(bootstrap_servers, registry, service, topics, self.apply)

    def apply(self, event: Envelope[Any]) -> None:
        restock_id = getattr(event.data, "restock_id", None)
        if restock_id is None:
            return
        request = self._requests.setdefault(restock_id, RestockRequest(restock_id))
        request.fold(event)
        if request.supplier_id:
            self._by_supplier[request.supplier_id].add(restock_id)
        if request.outlet_id:
            self._by_outlet[request.outlet_id].add(restock_id)

    def get(self, restock_id: str, suggested: bool = False) -> RestockRequest | None:
        """A request sent to its supplier; with `suggested`, one held for ops too."""
        request = self._requests.get(restock_id)
        if request is None or not (request.requested or (suggested and request.suggested_at)):
            return None
        return request

    def of_supplier(self, supplier_id: str) -> list[RestockRequest]:
        return self._sorted(self._by_supplier.get(supplier_id, set()))

    def of_outlet(self, outlet_id: str) -> list[RestockRequest]:
        """The outlet's requests, with those still held for ops (a supplier sees only
        what was sent)."""
        return self._sorted(self._by_outlet.get(outlet_id, set()), suggested=True)

    def committed(self, supplier_id: str, since: datetime) -> int:
        """Units asked of (or held for) the supplier since `since`, from every outlet: the
        quantity accepted where there is one, else the one asked; declined ones are not
        counted. What a weekly capacity is measured against."""
        total = 0
        for request in (self._requests[i] for i in self._by_supplier.get(supplier_id, set())):
            at = request.requested_at or request.suggested_at
            if at is None or at < since or request.status is RestockStatus.DECLINED:
                continue
            total += request.accepted_qty if request.accepted_qty else request.suggested_qty
        return total

    def _sorted(self, ids: set[str], suggested: bool = False) -> list[RestockRequest]:
        found = [
            r
            for r in (self._requests[i] for i in ids)
            if r.requested or (suggested and r.suggested_at is not None)
        ]
        return sorted(found, key=lambda r: (r.requested_at or r.suggested_at, r.restock_id))
