"""The outlet client: what a POS or a booth laptop runs to send its sales.

Every sale goes first into a local spool (SQLite, durable across power cuts), then out in
the order it was made, whenever the network and the service are there. A sale keeps its
`sale_id`, so its event id never changes: a resend after a lost answer is harmless.
Returns and voids go into the same spool (keyed `return:<return_id>`), so they go out in
order with the sales they reverse: a void made offline right after its sale is sent
after it.

Two ways out:
- `HttpSender`: the inventory ingest API with the outlet's key (the usual way);
- `GatewaySender`: straight to `pos.sales` with kafka-python (idempotent producer,
  acks=all), for a trusted in-house gateway inside the forum's network.

Two ways a send can fail, told apart:
- offline (`Unreachable`): no connection, a 5xx, 429 or 408. Nothing is wrong with the
  sales; they stay pending and go out on a later flush.
- refused: any other 4xx (a SKU the catalog never knew, a key for another outlet…). Sending
  the same again would be refused again, so the sales are set aside with the reason, stay
  visible in `status`, and do not hold up the sales behind them; once the cause is fixed,
  `resend` queues them again.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import httpx
import orjson

from lumbung.contracts import (
    Registry,
    cloudevents,
    command_event_id,
    encode,
    make_event,
    sale_event_id,
)
from lumbung.contracts.events import pos

BATCH = 200
RETRY_LATER = frozenset({408, 429})
"""4xx answers that say "not now" rather than "not this": the client stays offline."""
KEY_REFUSED = frozenset({401, 403})
"""4xx answers about the key, not the sales: every sale of the batch is refused alike."""


class Unreachable(Exception):
    """The service or the broker did not answer, or asked to be left alone for now; try
    again later."""


@dataclass(frozen=True)
class Refused:
    sale_id: str
    """The spool entry: a sale's id, or `return:<return_id>` for a return or void."""
    reason: str


def entry_id(body: dict[str, Any]) -> str:
    """A spool entry's id: its sale id, or `return:<return_id>` for a return or void."""
    return f"return:{body['return_id']}" if "return_id" in body else str(body["sale_id"])


def _lines(lines: list[tuple[str, int, int | None]]) -> list[dict[str, Any]]:
    """Sale lines as the ingest takes them; a line without a price gets the outlet's."""
    return [
        {"sku": s, "qty": q} | ({"unit_price_idr": p} if p is not None else {}) for s, q, p in lines
    ]


class Sender(Protocol):
    def send(self, outlet_id: str, sales: list[dict[str, Any]]) -> list[Refused]:
        """Send in order; raise Unreachable if nothing can be said about them."""

    def close(self) -> None: ...


class Spool:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("""CREATE TABLE IF NOT EXISTS sales (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, sale_id TEXT UNIQUE NOT NULL,
            body TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending', reason TEXT)""")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def add(self, sale: dict[str, Any]) -> bool:
        """Queue a sale, return or void; False when it was queued before (nothing changes)."""
        with self._tx() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO sales (sale_id, body) VALUES (?, ?)",
                (entry_id(sale), orjson.dumps(sale).decode()),
            )
            return cursor.rowcount == 1

    def pending(self, limit: int = BATCH) -> list[tuple[int, dict[str, Any]]]:
        rows = self._db.execute(
            "SELECT seq, body FROM sales WHERE state = 'pending' ORDER BY seq LIMIT ?", (limit,)
        ).fetchall()
        return [(seq, orjson.loads(body)) for seq, body in rows]

    def settle(self, sent: list[int], refused: dict[int, str]) -> None:
        with self._tx() as db:
            db.executemany(
                "UPDATE sales SET state = 'sent' WHERE seq = ?",
                [(s,) for s in sent if s not in refused],
            )
            db.executemany(
                "UPDATE sales SET state = 'refused', reason = ? WHERE seq = ?",
                [(reason, s) for s, reason in refused.items()],
            )

    def counts(self) -> dict[str, int]:
        """How many sales are pending, sent and refused (each named, even when none)."""
        rows = self._db.execute("SELECT state, COUNT(*) FROM sales GROUP BY state").fetchall()
        return {"pending": 0, "sent": 0, "refused": 0} | {state: n for state, n in rows}

    def requeue(self, sale_ids: list[str] | None = None) -> int:
        """Refused sales (all, or those named) become pending again; returns how many."""
        with self._tx() as db:
            if sale_ids is None:
                cursor = db.execute(
                    "UPDATE sales SET state = 'pending', reason = NULL WHERE state = 'refused'"
                )
                return cursor.rowcount
            return sum(
                db.execute(
                    "UPDATE sales SET state = 'pending', reason = NULL "
                    "WHERE state = 'refused' AND sale_id = ?",
                    (sale_id,),
                ).rowcount
                for sale_id in sale_ids
            )

    def refused(self) -> list[Refused]:
        rows = self._db.execute(
            "SELECT sale_id, reason FROM sales WHERE state = 'refused' ORDER BY seq"
        ).fetchall()
        return [Refused(sale_id, reason) for sale_id, reason in rows]

    def close(self) -> None:
        self._db.close()


class HttpSender:
    def __init__(
        self,
        base_url: str,
        key: str,
        timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url, headers={"X-API-Key": key}, timeout=timeout_s, transport=transport
        )

    def send(self, outlet_id: str, sales: list[dict[str, Any]]) -> list[Refused]:
        """Runs of sales in one request each, every return or void on its own, in order."""
        refused: list[Refused] = []
        run: list[dict[str, Any]] = []
        for body in sales:
            if "return_id" not in body:
                run.append(body)
                continue
            if run:
                refused += self._sales(outlet_id, run)
                run = []
            refused += self._post(f"/v1/outlets/{outlet_id}/returns", body, [body])
        if run:
            refused += self._sales(outlet_id, run)
        return refused

    def close_out(self, outlet_id: str, body: dict[str, Any]) -> str | None:
        """A booth's closing count (`POST .../close-out`): None when taken, else why not;
        Unreachable when it should be sent again later."""
        try:
            answer = self._http.post(f"/v1/outlets/{outlet_id}/close-out", json=body)
        except httpx.HTTPError as exc:
            raise Unreachable(str(exc)) from exc
        if answer.status_code >= 500 or answer.status_code in RETRY_LATER:
            raise Unreachable(_reason(answer))
        return None if answer.status_code == 202 else _reason(answer)

    def _sales(self, outlet_id: str, sales: list[dict[str, Any]]) -> list[Refused]:
        return self._post(f"/v1/outlets/{outlet_id}/sales", {"sales": sales}, sales)

    def _post(self, path: str, body: dict[str, Any], sent: list[dict[str, Any]]) -> list[Refused]:
        try:
            answer = self._http.post(path, json=body)
        except httpx.HTTPError as exc:
            raise Unreachable(str(exc)) from exc
        if answer.status_code == 202:
            return []
        if answer.status_code >= 500 or answer.status_code in RETRY_LATER:
            raise Unreachable(_reason(answer))
        if len(sent) > 1 and answer.status_code not in KEY_REFUSED:
            return self._one_by_one(path, sent)
        return [Refused(entry_id(one), _reason(answer)) for one in sent]

    def close(self) -> None:
        self._http.close()

    def _one_by_one(self, path: str, sales: list[dict[str, Any]]) -> list[Refused]:
        """A batch was refused: find which sales, so the good ones still go in order."""
        refused: list[Refused] = []
        for sale in sales:
            refused += self._post(path, {"sales": [sale]}, [sale])
        return refused


def _reason(answer: httpx.Response) -> str:
    """One line: the status and what the service said was wrong (its `detail`, and the
    first field it named)."""
    try:
        body = answer.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return f"{answer.status_code}: {' '.join(answer.text.split())[:300]}"
    said = str(body.get("detail", ""))
    errors = body.get("errors") or []
    if errors and isinstance(errors[0], dict) and errors[0].get("message") != said:
        first = errors[0]
        said += f" ({first.get('field', '?')}: {first.get('message', '')})"
    return f"{answer.status_code}: {said}"[:500]


class GatewaySender:
    def __init__(self, bootstrap_servers: str, registry: Registry, timeout_s: float = 30) -> None:
        from lumbung.platform.broker import durable_producer

        self._bootstrap = bootstrap_servers
        self._timeout_s = timeout_s
        self._registry = registry
        self._producer: Any = None
        self._durable_producer = durable_producer

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=10)

    def send(self, outlet_id: str, sales: list[dict[str, Any]]) -> list[Refused]:
        from kafka.errors import KafkaError

        refused: list[Refused] = []
        events = []
        for body in sales:
            try:
                events.append(_gateway_event(outlet_id, body))
            except ValueError as exc:
                refused.append(Refused(entry_id(body), str(exc)))
        try:
            if self._producer is None:
                self._producer = self._durable_producer(self._bootstrap, "lumbung-gateway")
            key = outlet_id.encode()
            futures = [
                self._producer.send(
                    self._registry.name("pos.sales"),
                    key=key,
                    value=raw,
                    headers=cloudevents.headers_for(raw, key),
                )
                for raw in events
            ]
            for future in futures:
                future.get(timeout=self._timeout_s)
        except KafkaError as exc:
            # Drop the producer and what it still holds: the spool keeps the sales, and a
            # later flush sends them again (same event ids, so a copy that did land is
            # dropped by inventory).
            if self._producer is not None:
                _drop(self._producer)
                self._producer = None
            raise Unreachable(str(exc)) from exc
        return refused


def _gateway_event(outlet_id: str, body: dict[str, Any]) -> bytes:
    """A spooled sale, return or void as the ingest would write it (the same event id);
    a gateway has no catalog, so every line needs its price (ValueError otherwise)."""
    producer = f"gateway:{outlet_id}"
    if "return_id" in body:
        back = pos.SaleReturned(outlet_id=outlet_id, **body)
        event = make_event(
            back,
            event_id=command_event_id("return", outlet_id, back.return_id),
            occurred_at=back.returned_at,
            producer=producer,
            correlation_id=back.sale_id,
        )
    else:
        sale = pos.SaleRecorded(outlet_id=outlet_id, **body)
        event = make_event(
            sale,
            event_id=sale_event_id(outlet_id, sale.sale_id),
            occurred_at=sale.sold_at,
            producer=producer,
            correlation_id=sale.sale_id,
        )
    return encode(event)


def _drop(producer: Any) -> None:
    """Close a kafka-python producer now, dropping what it still holds. Its close() flushes
    first and raises when the broker is away, leaving its sender thread retrying; that
    thread is then forced down."""
    from kafka.errors import KafkaError

    try:
        producer.close(timeout=1)
    except KafkaError:
        sender = getattr(producer, "_sender", None)
        if sender is not None:
            sender.force_close()


class OutletClient:
    def __init__(self, outlet_id: str, spool: Spool, sender: Sender | None = None) -> None:
        self.outlet_id = outlet_id
        self.spool = spool
        self.sender = sender

    def record(
        self,
        lines: list[tuple[str, int, int | None]],
        sold_at: datetime,
        sale_id: str | None = None,
        receipt_no: str | None = None,
    ) -> str:
        """Spool one sale (sku, qty, unit price or None for the outlet's); returns its
        sale id."""
        sale_id = sale_id or uuid.uuid4().hex[:16]
        self.spool.add(
            {
                "sale_id": sale_id,
                "sold_at": sold_at.isoformat(),
                "receipt_no": receipt_no,
                "lines": _lines(lines),
            }
        )
        return sale_id

    def give_back(
        self,
        sale_id: str,
        lines: list[tuple[str, int, int | None]],
        returned_at: datetime,
        kind: pos.ReturnKind = pos.ReturnKind.RETURN,
        return_id: str | None = None,
        disposition: pos.ReturnDisposition = pos.ReturnDisposition.RESTOCK,
        refund_idr: int | None = None,
    ) -> str:
        """Spool a return (part of a sale) or a void (all of it, within minutes of the
        sale), after everything spooled before it; returns its return id."""
        return_id = return_id or uuid.uuid4().hex[:16]
        body: dict[str, Any] = {
            "return_id": return_id,
            "sale_id": sale_id,
            "kind": kind.value,
            "lines": _lines(lines),
            "returned_at": returned_at.isoformat(),
            "disposition": disposition.value,
        }
        if refund_idr is not None:
            body["refund_idr"] = refund_idr
        self.spool.add(body)
        return return_id

    def close(self) -> None:
        if self.sender is not None:
            self.sender.close()
        self.spool.close()

    def flush(self) -> int:
        """Send what is spooled, in order; returns how many went out. Raises Unreachable
        when the way out is down (the spool keeps everything)."""
        if self.sender is None:
            raise Unreachable("this client has no way out configured")
        sent = 0
        while batch := self.spool.pending():
            refused = self.sender.send(self.outlet_id, [sale for _, sale in batch])
            reasons = {r.sale_id: r.reason for r in refused}
            self.spool.settle(
                [seq for seq, _ in batch],
                {seq: reasons[entry_id(sale)] for seq, sale in batch if entry_id(sale) in reasons},
            )
            sent += len(batch) - len(refused)
        return sent
