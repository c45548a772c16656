#!/bin/sh
# The compose file's one-shot jobs, in the catalog image, with the `setup` volume at
# /var/lib/lumbung:
#
#   setup.sh key    the first ops key: issued onto Kafka (`lumbung-catalog keys issue`) only
#                   while the volume holds none, kept there, and printed (docker compose
#                   logs setup)
#   setup.sh demo   the demo catalog, through the catalog API at $LUMBUNG_CATALOG_URL with
#                   that key, into an empty catalog only (the `demo` profile's job)
#
# Podman before 4.6 starts a job as soon as the services it depends on have started, not
# once they are healthy or done: each step waits for what it needs by itself, and gives up
# after $SETUP_WAIT_S seconds (default 300).
set -eu
umask 077 # the key is for the jobs of this volume's owner only

KEY_FILE=/var/lib/lumbung/ops.key
WAIT_S=${SETUP_WAIT_S:-300}
started=$(date +%s)

waited_too_long() {
  [ $(($(date +%s) - started)) -ge "$WAIT_S" ]
}

case ${1:-} in
  key)
    # Until Kafka and its topics are there (the topics job), issuing fails: again in 5 s.
    until [ -s "$KEY_FILE" ]; do
      if timeout 60 lumbung-catalog keys issue --role ops --label compose >"$KEY_FILE.new"; then
        mv "$KEY_FILE.new" "$KEY_FILE"
        echo "issued the first ops key"
      elif waited_too_long; then
        echo "no ops key could be issued within $WAIT_S s" >&2
        exit 1
      else
        echo "Kafka does not take the key yet; again in 5 s" >&2
        sleep 5
      fi
    done
    echo "ops key: $(cat "$KEY_FILE")"
    echo "dashboard: http://localhost:8000/?key=$(cat "$KEY_FILE")"
    ;;
  demo)
    until [ -s "$KEY_FILE" ]; do
      if waited_too_long; then
        echo "no ops key within $WAIT_S s: see docker compose logs setup" >&2
        exit 1
      fi
      sleep 2
    done
    # --wait: the API may still be starting; the client waits until it accepts the key.
    exec lumbung-catalog demo --if-empty --key "$(cat "$KEY_FILE")" --wait "$WAIT_S"
    ;;
  *)
    echo "usage: $0 key|demo" >&2
    exit 2
    ;;
esac
