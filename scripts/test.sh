#!/usr/bin/env bash
# Runs the tests against a private Kafka broker and Redis server on free ports, then stops
# them. Extra arguments go to pytest (e.g. scripts/test.sh -k smoke). The kill -9 tests
# (marker `chaos`) run with `make chaos`: in the full suite they still fail now and then
# (see the open inventory issue), and a red CI would hold back everything else.
set -euo pipefail
cd "$(dirname "$0")/.."
LUMBUNG_ENVIRONMENT=test exec scripts/with-stack.sh .venv/bin/python -m pytest \
  -m "${LUMBUNG_TEST_MARKERS:-not chaos}" "$@"
