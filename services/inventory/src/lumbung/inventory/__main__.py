"""The inventory service's command line.

lumbung-inventory api        run the HTTP API (POS ingest, commands, stock reads)
lumbung-inventory worker     run the stream worker (faust)
lumbung-inventory rebuild    rebuild the Redis read model from the ledger topic
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from lumbung.inventory.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="lumbung-inventory",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["api", "worker", "rebuild"])
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "api":
        from lumbung.inventory.bootstrap import SERVICE, build_api
        from lumbung.platform.service import serve

        serve(build_api(settings), settings, SERVICE)
    elif args.command == "worker":
        from lumbung.inventory.entrypoints.worker import Worker
        from lumbung.platform import logs

        logs.configure("inventory-worker", settings.log_level)
        worker = Worker(settings)
        level = {"warning": "warn", "critical": "crit"}.get(
            settings.log_level.lower(), settings.log_level.lower()
        )
        # No web server: faust would bind 0.0.0.0:6066, and two workers would collide.
        sys.argv = ["lumbung-inventory", "worker", "-l", level, "--without-web"]
        worker.app.main()
    else:
        from lumbung.inventory.adapters.read_model import StockReadModel, rebuild
        from lumbung.platform.cache import redis_client

        async def run() -> int:
            client = redis_client(settings.redis_url)
            try:
                return await rebuild(
                    settings.kafka_bootstrap_servers,
                    settings.registry,
                    StockReadModel(client, settings.registry.prefix),
                )
            finally:
                await client.aclose()

        print(f"rebuilt the stock read model: {asyncio.run(run())} changes applied")
    return 0


if __name__ == "__main__":
    sys.exit(main())
