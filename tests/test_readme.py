"""The README as a contract: its shell examples run as written on a fresh `make up`.

The examples are read from README.md itself, so an example that stops working fails here.
Each block runs in one bash session (`set -euo pipefail`) from the repository's root with
the stack's variables; `curl` fails on an HTTP error, and the only change made to a block
is the address: the README's default ports and `.stack/dev/` become this test's own.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from kafka import KafkaProducer

from lumbung.contracts import Registry
from lumbung.platform.broker import durable_producer
from tests.support.fixtures import Events

pytestmark = pytest.mark.broker
ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PORTS = {"8001": "catalog", "8002": "inventory", "8003": "orders", "8004": "notifications"}
RUN = ("Catalog", "Inventory", "Orders", "Notifications", "Looking at the events")
"""Sections whose examples run against the system. The others start other systems
(compose, a cluster), run forever (the outlet client's `run`), or need a file of the
reader's own (a spreadsheet)."""
SKIPPED_WHEN = (" run --every", "produk.csv", "docker ", "make up", "make test", "$ make")

# A key issued straight onto Kafka reaches each API's key view within a moment; a person
# typing the next line never notices, a script can: only a 401 is asked again, briefly.
CURL = """
curl() {
  local attempt out status
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    out=$(command curl --silent --show-error --write-out '\\n%{http_code}' "$@") || return 1
    status=${out##*$'\\n'}
    [ "$status" = 401 ] || break
    sleep 0.5
  done
  printf '%s\\n' "${out%$'\\n'*}"
  [ "$status" -lt 400 ] || { echo "HTTP $status from curl $*" >&2; return 1; }
}
"""


def examples() -> list[tuple[str, str]]:
    """(section, block) for every ```sh block of the sections that run."""
    found: list[tuple[str, str]] = []
    section, block = "", None
    for line in README.read_text().splitlines(keepends=True):
        if block is None and line.startswith("#"):
            section = line.lstrip("#").strip()
        elif block is None and line.startswith("```sh"):
            block = ""
        elif block is not None and line.startswith("```"):
            if section in RUN and not any(skip in block for skip in SKIPPED_WHEN):
                found.append((section, block))
            block = None
        elif block is not None:
            block += line
    return found


def test_the_readme_names_its_examples_for_every_api() -> None:
    sections = {section for section, _ in examples()}
    assert sections == set(RUN), sections


def test_every_readme_example_runs_as_written_on_a_fresh_make_up(tmp_path: Path) -> None:
    name = f"readme-{uuid.uuid4().hex[:6]}"
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL")}
    env.update(
        LUMBUNG_STACK_NAME=name,
        LUMBUNG_STACK_DIR=str(tmp_path),
        LUMBUNG_KAFKA_PORT="auto",
        LUMBUNG_REDIS_PORT="auto",
        LUMBUNG_APPS_PORTS="auto",
        LUMBUNG_SIMULATE="0",
    )
    home = tmp_path / name

    def make(target: str) -> None:
        done = subprocess.run(
            ["make", "-s", target], cwd=ROOT, env=env, timeout=300, capture_output=True
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]

    try:
        make("up")
        stack_env = dict(
            line.removeprefix("export ").split("=", 1)
            for line in (home / "env").read_text().splitlines()
        )
        ports = {p: (home / f"{s}.port").read_text().strip() for p, s in PORTS.items()}
        restock_id = open_restock_request(
            stack_env["KAFKA_BOOTSTRAP_SERVERS"],
            f"http://127.0.0.1:{ports['8004']}",
            (home / "ops.key").read_text().strip(),
        )
        prelude = [
            CURL,
            # What the README says in words: a supplier key from the catalog, and the id
            # of a request the supplier was sent.
            f"RESTOCK_ID={restock_id}",
            "SUPPLIER_KEY=$(curl -X POST localhost:8001/v1/keys"
            ' -H "X-API-Key: $(cat .stack/dev/ops.key)" -H "Content-Type: application/json"'
            """ -d '{"role":"supplier","subject":"SUP-SARI"}' | jq -r .key)""",
        ]
        script = "\n".join([*prelude, *(block for _, block in examples())])
        script = script.replace(".stack/dev/", f"{home}/")
        for port, actual in ports.items():
            script = script.replace(f"localhost:{port}", f"127.0.0.1:{actual}")
        ran = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=ROOT,
            env={**env, **stack_env},  # what `make up` talks to (its own ports here)
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert ran.returncode == 0, f"{ran.stderr[-3000:]}\n--- out:\n{ran.stdout[-3000:]}"
    finally:
        subprocess.run(["make", "-s", "down"], cwd=ROOT, env=env, timeout=120, capture_output=True)


def open_restock_request(bootstrap: str, notifications: str, ops_key: str) -> str:
    """A restock request to SUP-SARI as inventory raises it; its id once the notifications
    API knows it."""
    producer: KafkaProducer = durable_producer(bootstrap)
    try:
        restock_id, _ = Events(producer, Registry()).restock_requested(
            "IKN-01", "AMPLANG-IKAN-250", "SUP-SARI"
        )
        producer.flush(timeout=60)
    finally:
        producer.close()
    asking = urllib.request.Request(
        f"{notifications}/v1/restocks/{restock_id}", headers={"X-API-Key": ops_key}
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(asking, timeout=5):
                return restock_id
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"the notifications API never showed {restock_id}")
