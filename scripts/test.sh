#!/usr/bin/env bash
# Runs the tests against a private Kafka broker and Redis server on free ports, then stops
# them. Extra arguments go to pytest (e.g. scripts/test.sh -k smoke). Long fault runs
# (marker `chaos`) are left to `make chaos`. The 30 slowest tests are listed at the end, so
# a run near its time budget shows where the time goes.
set -euo pipefail
cd "$(dirname "$0")/.."
LUMBUNG_ENVIRONMENT=test exec scripts/with-stack.sh .venv/bin/python -m pytest --durations=30 \
  -m "${LUMBUNG_TEST_MARKERS:-not chaos}" "$@"
