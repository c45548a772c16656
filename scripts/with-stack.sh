#!/usr/bin/env bash
# Runs a command against a private Kafka broker and Redis server on free ports, then stops
# and deletes them: scripts/with-stack.sh COMMAND [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
NAME="private-$$"
cleanup() {
  status=$?
  # A failed run shows what the broker complained of: its log goes with the wipe.
  if [ "$status" -ne 0 ] && [ -f ".stack/$NAME/kafka.log" ]; then
    echo "--- the broker's last warnings and errors (.stack/$NAME/kafka.log) ---"
    grep -E -A 3 '\] (WARN|ERROR) ' ".stack/$NAME/kafka.log" | cut -c1-400 | tail -n 60 || true
    # Its controller and leadership moves (INFO), which the warnings above only hint at.
    echo "--- the broker's controller, elections and fencing ---"
    grep -E 'Renounc|resign|Resign|fenced|Fenced|Becoming the active|transition to (Leader|Candidate|Resigned)' \
      ".stack/$NAME/kafka.log" | cut -c1-300 | tail -n 20 || true
  fi
  "$PY" stack/stack.py down --name "$NAME" --wipe || true
}
trap cleanup EXIT
eval "$(env -u KAFKA_BOOTSTRAP_SERVERS -u REDIS_URL "$PY" stack/stack.py up --name "$NAME" \
  --kafka-port auto --redis-port auto)"
export LUMBUNG_STACK_NAME="$NAME"
"$@"
