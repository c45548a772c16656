#!/usr/bin/env bash
# Installs the Debian packages the stack and the tests use, when they are missing:
# redis-server (the Redis server), kcat (to look at topics by hand and in tests), jq and
# curl (the README's examples), chromium with its chromedriver (the dashboard's
# browser test drives them), and Prometheus and Alertmanager (their promtool and amtool
# check the monitoring files in ops/, see docs/operations.md).
set -euo pipefail
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v kcat >/dev/null || missing+=(kcat)
command -v jq >/dev/null || missing+=(jq)
command -v curl >/dev/null || missing+=(curl)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v promtool >/dev/null || missing+=(prometheus)
command -v amtool >/dev/null || missing+=(prometheus-alertmanager)
command -v java >/dev/null || echo "warning: Java 17 is missing; Kafka cannot start here (use docker compose up)" >&2
command -v mvn >/dev/null || echo "warning: Maven is missing; the Kafka jars cannot be fetched (use docker compose up)" >&2
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "error: please install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
