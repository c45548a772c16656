"""The books service's command line.

lumbung-books api        run the HTTP API (statements: read, issue, record payments)
lumbung-books worker     run the stream worker (the kernel): sales and returns per
                         supplier, outlet and month, and the read model
"""

from __future__ import annotations

from lumbung.platform.cli import service_main


def main(argv: list[str] | None = None) -> None:
    service_main("books", __doc__, argv)


if __name__ == "__main__":
    main()
