"""The orders service's command line.

lumbung-orders api        run the HTTP API (place, read, cancel and fulfil orders)
lumbung-orders worker     run the stream worker (the kernel): order state, answers, timers
"""

from __future__ import annotations

from lumbung.platform.cli import service_main


def main(argv: list[str] | None = None) -> None:
    service_main("orders", __doc__, argv)


if __name__ == "__main__":
    main()
