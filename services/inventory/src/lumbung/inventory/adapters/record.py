"""What the worker keeps per outlet in its faust table, in one value (one changelog write):

- the outlet's stock (the domain's `OutletStock`);
- `marks`: the highest offset applied per input topic-partition. A redelivery after a
  crash (the uncommitted tail) is recognised by its offset, exactly, with no id memory;
- `outbox`: the events derived from applied inputs and not yet known to be delivered.
  They are re-sent after a restart (with the same ids, so consumers drop the copies),
  so a crash between the state write and the sends loses nothing;
- `buckets`: which hours of applied event ids (see `AppliedIds` below) exist.

An outlet that resends a sale days later produces a new offset with an old `event_id`;
those ids live in a second table keyed `outlet|hour of occurred_at`, so a resend finds
its twin in exactly one small bucket, and buckets older than the horizon are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from lumbung.inventory.domain import OutletStock

ID_HORIZON = timedelta(days=7)


@dataclass
class OutletRecord:
    stock: OutletStock
    marks: dict[str, int] = field(default_factory=dict)
    outbox: list[list[Any]] = field(default_factory=list)
    """[seq, logical topic, key, event JSON] per derived event not yet confirmed sent."""
    seq: int = 0
    buckets: list[str] = field(default_factory=list)

    @classmethod
    def new(cls, outlet_id: str) -> OutletRecord:
        return cls(OutletStock(outlet_id))

    @classmethod
    def loads(cls, raw: bytes) -> OutletRecord:
        data = orjson.loads(raw)
        return cls(
            OutletStock.from_dict(data["stock"]),
            data["marks"],
            data["outbox"],
            data["seq"],
            data["buckets"],
        )

    def dumps(self) -> bytes:
        return orjson.dumps(
            {
                "stock": self.stock.to_dict(),
                "marks": self.marks,
                "outbox": self.outbox,
                "seq": self.seq,
                "buckets": self.buckets,
            }
        )

    def seen_offset(self, topic_partition: str, offset: int) -> bool:
        return offset <= self.marks.get(topic_partition, -1)

    def mark(self, topic_partition: str, offset: int) -> None:
        self.marks[topic_partition] = max(offset, self.marks.get(topic_partition, -1))

    def queue(self, topic: str, key: str, event_json: str) -> int:
        self.seq += 1
        self.outbox.append([self.seq, topic, key, event_json])
        return self.seq

    def confirm(self, up_to_seq: int) -> None:
        self.outbox = [entry for entry in self.outbox if entry[0] > up_to_seq]

    def bucket_for(self, occurred_at: datetime) -> str:
        hour = occurred_at.astimezone(UTC).strftime("%Y%m%d%H")
        key = f"{self.stock.outlet_id}|{hour}"
        if key not in self.buckets:
            self.buckets.append(key)
        return key

    def expired_buckets(self, now: datetime, keep: set[str]) -> list[str]:
        """Buckets of hours older than the horizon, except those written just now."""
        horizon = (now - ID_HORIZON).astimezone(UTC).strftime("%Y%m%d%H")
        old = [b for b in self.buckets if b.rsplit("|", 1)[1] < horizon and b not in keep]
        self.buckets = [b for b in self.buckets if b not in old]
        return old
