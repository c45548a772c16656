"""The notifications service's command line.

lumbung-notifications api       run the HTTP API (supplier answers, answer links)
lumbung-notifications worker    run the stream worker (the kernel): messages and their delivery
"""

from __future__ import annotations

from lumbung.platform.cli import service_main


def main(argv: list[str] | None = None) -> None:
    service_main("notifications", __doc__, argv)


if __name__ == "__main__":
    main()
