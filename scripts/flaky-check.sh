#!/usr/bin/env bash
# Runs a test selection N times in a row (default 20) against one private Kafka broker and
# Redis server, and reports each run that failed and which tests failed in it. A test that
# fails once in N runs is flaky: it will sooner or later keep good work from landing.
#
#   scripts/flaky-check.sh [pytest selection and options...]     (N in the environment)
#   make flaky-check TESTS=services/dashboard/tests/integration/test_dashboard.py N=20
#
# Each run is a pytest process of its own, as in `make test`; the logs of failed runs stay.
set -uo pipefail
cd "$(dirname "$0")/.."
if [[ $# -eq 0 ]]; then
  echo "usage: N=20 scripts/flaky-check.sh PATH[::TEST]... [pytest options]" >&2
  exit 2
fi
if [[ -z "${LUMBUNG_FLAKY_CHECK_STACK:-}" ]]; then
  LUMBUNG_FLAKY_CHECK_STACK=1 LUMBUNG_ENVIRONMENT=test exec scripts/with-stack.sh "$0" "$@"
fi
runs=${N:-20}
logs=$(mktemp -d "${TMPDIR:-/tmp}/lumbung-flaky-check.XXXXXX")
failed=0
for run in $(seq 1 "$runs"); do
  started=$SECONDS
  if .venv/bin/python -m pytest -q -p no:cacheprovider "$@" >"$logs/run-$run.log" 2>&1; then
    echo "run $run/$runs: passed ($((SECONDS - started)) s)"
    rm "$logs/run-$run.log"
  else
    failed=$((failed + 1))
    which=$(grep -E '^(FAILED|ERROR) ' "$logs/run-$run.log" | cut -d' ' -f2 | sort -u | tr '\n' ' ')
    echo "run $run/$runs: FAILED ($((SECONDS - started)) s): ${which:-see the log} ($logs/run-$run.log)"
  fi
done
echo "flaky-check: $runs runs of $*: $((runs - failed)) passed, $failed failed"
[[ $failed -eq 0 ]] && rmdir "$logs"
[[ $failed -eq 0 ]]
