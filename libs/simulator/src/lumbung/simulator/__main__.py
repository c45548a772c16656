"""lumbung simulate: a Porprov event day on the demo catalog, through the real APIs.

    lumbung simulate --key OPS_KEY [--speed 600] [--seed 7] [--hours 15] [--intensity 1]

The API addresses come from the flags, or from the local stack that `make up` started
(`.stack/<name>/<service>.port`).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from lumbung.platform.clock import WITA
from lumbung.simulator.run import Simulation, Urls

SERVICES = ("catalog", "inventory", "orders", "notifications")
DEFAULT_PORTS = {"catalog": 8001, "inventory": 8002, "orders": 8003, "notifications": 8004}


def _url(service: str, given: str | None, stack: Path) -> str:
    if given:
        return given.rstrip("/")
    port_file = stack / f"{service}.port"
    port = port_file.read_text().strip() if port_file.exists() else DEFAULT_PORTS[service]
    return f"http://127.0.0.1:{port}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="lumbung", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    sim = commands.add_parser("simulate", help="run an event day")
    sim.add_argument("--key", help="an ops key (default: the local stack's)")
    sim.add_argument("--speed", type=float, default=600.0, help="simulated seconds per second")
    sim.add_argument("--seed", type=int, default=7, help="the same seed, the same day")
    sim.add_argument("--hours", type=float, help="stop after this many hours (default: all day)")
    sim.add_argument(
        "--intensity", type=float, default=1.0, help="times busier than a normal day (load runs)"
    )
    sim.add_argument("--stack", default=os.environ.get("LUMBUNG_STACK_NAME", "dev"))
    sim.add_argument("--spool-dir", type=Path, help="the outlets' spools (default: a new one)")
    for service in SERVICES:
        sim.add_argument(f"--{service}", help=f"the {service} API's URL")
    args = parser.parse_args(argv)
    stack = Path(".stack") / args.stack
    key = args.key or (stack / "ops.key").read_text().strip()
    urls = Urls(*(_url(s, getattr(args, s), stack) for s in SERVICES))
    simulation = Simulation(
        urls,
        key,
        datetime.now(WITA).date(),
        args.seed,
        args.speed,
        args.spool_dir or Path(tempfile.mkdtemp(prefix="lumbung-simulator-")),
        hours=args.hours,
        intensity=args.intensity,
    )
    try:
        tally = simulation.run()
    finally:
        simulation.close()
    print(
        f"simulated: {tally.sales} sales ({tally.sale_lines} lines, {tally.refused} refused), "
        f"{tally.orders} souvenir orders, {tally.accepted} restocks accepted, "
        f"{tally.received} received, {tally.flushes_after_outage} outlets back from an outage"
    )
    if tally.errors:
        print(f"{len(tally.errors)} problems, the first: {tally.errors[0]}", file=sys.stderr)


if __name__ == "__main__":
    main()
