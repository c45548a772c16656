"""Dead letters: a message that cannot be parsed goes to the service's own `<service>.dlq`
with where it came from and why, and the partition keeps flowing."""

from __future__ import annotations

from dataclasses import dataclass

HEADER_TOPIC = "dlq.original.topic"
HEADER_PARTITION = "dlq.original.partition"
HEADER_OFFSET = "dlq.original.offset"
HEADER_ERROR = "dlq.error"
HEADER_SERVICE = "dlq.service"
MAX_ERROR_BYTES = 4000


@dataclass(frozen=True)
class DeadLetter:
    service: str
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    error: str

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            (HEADER_SERVICE, self.service.encode()),
            (HEADER_TOPIC, self.topic.encode()),
            (HEADER_PARTITION, str(self.partition).encode()),
            (HEADER_OFFSET, str(self.offset).encode()),
            (HEADER_ERROR, self.error.encode()[:MAX_ERROR_BYTES]),
        ]

    @classmethod
    def from_headers(
        cls, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> DeadLetter:
        h = {k: v.decode() for k, v in headers}
        return cls(
            service=h[HEADER_SERVICE],
            topic=h[HEADER_TOPIC],
            partition=int(h[HEADER_PARTITION]),
            offset=int(h[HEADER_OFFSET]),
            key=key,
            value=value,
            error=h[HEADER_ERROR],
        )
