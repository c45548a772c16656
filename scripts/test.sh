#!/usr/bin/env bash
# Runs every test against a private Kafka broker and Redis server on free ports, then
# stops them. Extra arguments go to pytest (e.g. scripts/test.sh -k smoke).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
NAME="test-$$"
cleanup() { "$PY" stack/stack.py down --name "$NAME" --wipe || true; }
trap cleanup EXIT
eval "$(env -u KAFKA_BOOTSTRAP_SERVERS -u REDIS_URL "$PY" stack/stack.py up --name "$NAME" \
  --kafka-port auto --redis-port auto)"
export LUMBUNG_ENVIRONMENT=test LUMBUNG_STACK_NAME="$NAME"
"$PY" -m pytest "$@"
