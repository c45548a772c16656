"""`python -m lumbung.platform.topics`: create every registry topic on the configured broker.

Reads KAFKA_BOOTSTRAP_SERVERS, LUMBUNG_TOPIC_PREFIX and LUMBUNG_REPLICATION_FACTOR.
"""

from __future__ import annotations

import os
import sys

from lumbung.contracts import Registry
from lumbung.platform.broker import ensure_topics


def main() -> int:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    registry = Registry(prefix=os.environ.get("LUMBUNG_TOPIC_PREFIX", ""))
    replication = int(os.environ.get("LUMBUNG_REPLICATION_FACTOR", "1"))
    created = ensure_topics(bootstrap, registry, replication_factor=replication)
    print(
        f"{len(registry.topics)} registry topics ready on {bootstrap} ({len(created)} created now)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
