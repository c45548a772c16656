#!/usr/bin/env bash
# `make compose-test`: docker-compose.yml started for real, under Podman, on a machine with
# no Docker engine and no reachable image registry (docs/operations.md, "Compose under
# Podman"; issue 20).
#
#   scripts/compose-test.sh all                        (`make compose-test`, and CI)
#   scripts/compose-test.sh [main|secure|cluster]      (one variant; default: main)
#   scripts/compose-test.sh down [main|secure|cluster|all]
#
# `all` builds the images once, then runs main, secure and cluster in turn, each on its
# own project name and ports and each taken down (volumes included) before the next; it
# prints how long each took and fails if any failed.
#
# 1. scripts/compose-base.sh: podman, runc, debootstrap, podman-compose, containers.conf,
#    the local Debian base image.
# 2. Images, from the local base: stand-ins for python:3.11-slim, apache/kafka (the Kafka
#    jars from Maven Central) and redis (Debian's redis-server), compose/standins/; then
#    every project Dockerfile with --build-arg PYTHON_IMAGE=<the python stand-in> (the
#    services', and the demo receiver's, compose/receiver). The wheels they install from
#    are built on the host again only when their inputs change (a stamp with a hash).
# 3. An override file (.stack/podman/<project>.yml) points every service at those images
#    and publishes every port on 127.0.0.1 only, at LUMBUNG_COMPOSE_PORT_BASE plus the
#    last two digits of the port the compose file publishes (dashboard 8000 -> base+0,
#    catalog 8001 -> base+1, ..., Kafka 29092 -> base+92).
# 4. podman-compose starts the file in the order its depends_on conditions name: Kafka and
#    Redis until healthy, then the topics job until it exits 0, then the rest (without
#    --requires, which stops Podman 4.3 restarting them) until every healthcheck passes.
#    Podman 4.3 cannot wait for `healthy` (podman-compose ignores the condition before
#    podman 4.6) and runs healthchecks from systemd timers, which this kind of machine
#    lacks: the script runs `podman healthcheck run` itself. Then the setup job (and the
#    demo job) until they exit 0.
# 5. Through the published ports: every API's /healthz; in the main variant, which runs
#    the `demo` profile with compose/demo.env, scripts/compose_checks.py with the ops key
#    the setup job printed: a sale on the dashboard's stream, an order reserved, a
#    restock request at the demo receiver (.venv: `make install`).
# 6. Everything it started goes away at the end, volumes and network included
#    (LUMBUNG_COMPOSE_KEEP=1 leaves one variant running to look at; `scripts/compose-test.sh
#    down` then removes it).
#
# Environment, for one variant: LUMBUNG_COMPOSE_PROJECT (default lumbung-ct-<variant>),
# LUMBUNG_COMPOSE_PORT_BASE (default 28000 main, 28100 secure, 28200 cluster: below Linux's
# ephemeral range, 32768-60999, where any outgoing connection may hold a port for a while);
# LUMBUNG_COMPOSE_HEALTH_TIMEOUT (seconds per stage, default 300).
set -euo pipefail
cd "$(dirname "$0")/.."
self=$PWD/scripts/compose-test.sh # runs itself once per variant for `all`

variant=${1:-main}
action=test
if [ "$variant" = down ]; then
  action=down
  variant=${2:-main}
fi
case $variant in
  main) default_base=28000 ;;
  secure) default_base=28100 ;;
  cluster) default_base=28200 ;;
  all) default_base= ;;
  *) echo "usage: $0 [down] [main|secure|cluster|all]" >&2; exit 2 ;;
esac
VARIANTS=(main secure cluster)
if [ "$variant" = all ]; then
  # One project name and port range per variant: the single-variant settings would clash.
  unset LUMBUNG_COMPOSE_PROJECT LUMBUNG_COMPOSE_PORT_BASE LUMBUNG_COMPOSE_KEEP
fi
if [ "$action" = down ] && [ "$variant" = all ]; then
  for v in "${VARIANTS[@]}"; do "$self" down "$v"; done
  exit 0
fi
PROJECT=${LUMBUNG_COMPOSE_PROJECT:-lumbung-ct-$variant}
PORT_BASE=${LUMBUNG_COMPOSE_PORT_BASE:-$default_base}
HEALTH_TIMEOUT=${LUMBUNG_COMPOSE_HEALTH_TIMEOUT:-300}
TAG=compose-test
PODMAN_DIR=$PWD/.stack/podman
OVERRIDE=$PODMAN_DIR/$PROJECT.yml
BASE_IMAGE=${LUMBUNG_BASE_IMAGE:-localhost/lumbung-base:bookworm}
PYTHON_IMAGE=localhost/lumbung-python:$TAG
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' stack/pom.xml)
KAFKA_IMAGE=localhost/lumbung-kafka:$KAFKA_VERSION-$TAG
REDIS_IMAGE=localhost/lumbung-redis:$TAG
SERVICES=(catalog inventory orders notifications books dashboard)

started_at=$SECONDS
say() { echo "compose-test [$((SECONDS - started_at)) s]: $*" >&2; }
fail() {
  say "FAILED: $*"
  exit 1
}

# -- 1. the tools and the base ---------------------------------------------------------------
eval "$(scripts/compose-base.sh)" # exports CONTAINERS_CONF
# Podman 4.3 would ask systemd for a timer per healthcheck; there is none to ask.
export DISABLE_HC_SYSTEMD=true

compose_files=(-f docker-compose.yml)
compose_args=()
case $variant in
  main) compose_args+=(--env-file compose/demo.env --profile demo) ;;
  secure)
    compose_files+=(-f compose/secure.yml)
    # Throw-away secrets of this run (the secure file refuses to start without them).
    LUMBUNG_KAFKA_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    LUMBUNG_REDIS_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    LUMBUNG_SECRET_KEY=$(head -c 36 /dev/urandom | base64 | tr -d '/+=')
    export LUMBUNG_KAFKA_PASSWORD LUMBUNG_REDIS_PASSWORD LUMBUNG_SECRET_KEY
    ;;
  cluster) compose_args+=(--env-file compose/cluster.env --profile cluster) ;;
esac
compose_files+=(-f "$OVERRIDE")
compose() {
  .tools/bin/podman-compose --in-pod false -p "$PROJECT" "${compose_args[@]}" \
    "${compose_files[@]}" "$@"
}

# The containers of this project (podman-compose labels them with it).
project_containers() {
  podman ps -a --filter "label=io.podman.compose.project=$PROJECT" --format '{{.Names}}' "$@"
}

project_volumes() {
  podman volume ls -q --filter "label=io.podman.compose.project=$PROJECT"
}

teardown() {
  # podman-compose down takes 15 s even with nothing to take down: not at every start.
  if [ -z "$(project_containers)" ] && [ -z "$(project_volumes)" ] &&
    ! podman network exists "${PROJECT}_default"; then
    say "nothing of $PROJECT is running"
    return
  fi
  say "taking $PROJECT down, volumes included"
  if [ -f "$OVERRIDE" ]; then
    compose down -v -t 10 >"$PODMAN_DIR/$PROJECT-down.log" 2>&1 || true
  fi
  # Whatever podman-compose left: the project's containers, volumes and network.
  local leftovers
  leftovers=$(project_containers)
  [ -z "$leftovers" ] || podman rm -f -t 5 $leftovers >/dev/null || true
  leftovers=$(project_volumes)
  [ -z "$leftovers" ] || podman volume rm -f $leftovers >/dev/null || true
  podman network exists "${PROJECT}_default" && podman network rm -f "${PROJECT}_default" >/dev/null
  [ -z "$(project_containers)" ] || fail "containers of $PROJECT are left: $(project_containers)"
  say "$PROJECT is down"
}

if [ "$action" = down ]; then
  teardown
  exit 0
fi

# -- 2. images -------------------------------------------------------------------------------
# RUN steps use the host's network: apt-get reaches the Debian mirror the way the host does.
build() {
  local image=$1 t0=$SECONDS
  shift
  podman build -q --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$image" "$@" \
    >"$PODMAN_DIR/build-${image##*/}.log" 2>&1 ||
    { tail -30 "$PODMAN_DIR/build-${image##*/}.log" >&2; fail "building $image"; }
  say "built $image in $((SECONDS - t0)) s ($(podman image inspect -f '{{.Size}}' "$image" | numfmt --to=iec) )"
}

# pip inside a build cannot verify the package index here (the egress has its own
# certificate authority): the wheels every service needs, and hatchling to build the
# project's own packages, are built on the host and mounted at /wheels, where the python
# stand-in's pip looks (PIP_NO_INDEX, PIP_FIND_LINKS). Built again only when what decides
# them changes: the constraints, the packages' pyproject files (their dependencies) or
# this command; the stamp holds their hash. The builds install the project's own packages
# from their directories, never from these wheels, so a change to their code needs none.
WHEELS=$PODMAN_DIR/wheels
build_wheels() {
  local packages=(hatchling aiosmtpd ./libs/contracts ./libs/platform)
  packages+=($(printf './services/%s ' "${SERVICES[@]}"))
  local stamp=$WHEELS/.stamp t0=$SECONDS hash
  hash=$(
    {
      echo "pip wheel -c requirements/constraints.txt ${packages[*]}"
      python3 -c 'import sys; print(sys.version_info[:2])'
      cat requirements/constraints.txt libs/contracts/pyproject.toml libs/platform/pyproject.toml \
        $(printf 'services/%s/pyproject.toml ' "${SERVICES[@]}")
    } | sha256sum | cut -d' ' -f1
  )
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
    say "wheels on the host are up to date ($(du -sh "$WHEELS" | cut -f1), stamp ${hash:0:12})"
    return
  fi
  rm -rf "$WHEELS"
  mkdir -p "$WHEELS"
  python3 -m pip wheel -q -w "$WHEELS" -c requirements/constraints.txt "${packages[@]}" \
    >"$PODMAN_DIR/wheels.log" 2>&1 || { tail -20 "$PODMAN_DIR/wheels.log" >&2; fail "building the wheels"; }
  echo "$hash" >"$stamp"
  say "wheels on the host in $((SECONDS - t0)) s ($(du -sh "$WHEELS" | cut -f1), stamp ${hash:0:12})"
}

build_images() {
  build "$PYTHON_IMAGE" compose/standins/python
  build "$REDIS_IMAGE" compose/standins/redis
  # The Kafka stand-in's context: its files and the jars (pom.xml there), fetched once.
  local jars=$PODMAN_DIR/kafka-jars/$KAFKA_VERSION context=$PODMAN_DIR/kafka-context service
  if [ ! -f "$jars/.complete" ]; then
    say "fetching the Kafka $KAFKA_VERSION jars with Maven (first run only)"
    mvn -q -B -f compose/standins/kafka/pom.xml dependency:copy-dependencies \
      -Dkafka.version="$KAFKA_VERSION" -DoutputDirectory="$jars" >&2
    touch "$jars/.complete"
  fi
  rm -rf "$context"
  cp -r compose/standins/kafka "$context"
  cp -r "$jars" "$context/libs"
  rm -f "$context/libs/.complete"
  build "$KAFKA_IMAGE" "$context"
  build_wheels
  for service in "${SERVICES[@]}"; do
    build "localhost/lumbung-$service:$TAG" --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE" \
      -v "$WHEELS:/wheels:ro" -f "services/$service/Dockerfile" .
  done
  build "localhost/lumbung-receiver:$TAG" --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE" \
    -v "$WHEELS:/wheels:ro" -f compose/receiver/Dockerfile .
}

minutes() { printf '%d min %02d s' $(($1 / 60)) $(($1 % 60)); }

if [ "$variant" = all ]; then
  build_images
  images_s=$((SECONDS - started_at))
  summary=("images: $(minutes "$images_s")")
  failed=()
  for v in "${VARIANTS[@]}"; do
    t0=$SECONDS
    say "--- variant $v"
    # Each run takes its project down when it ends, passed or not (its EXIT trap).
    if LUMBUNG_COMPOSE_IMAGES_READY=1 "$self" "$v"; then
      summary+=("$v: passed in $(minutes $((SECONDS - t0)))")
    else
      summary+=("$v: FAILED after $(minutes $((SECONDS - t0)))")
      failed+=("$v")
    fi
  done
  summary+=("in all: $(minutes $((SECONDS - started_at)))")
  for line in "${summary[@]}"; do say "$line"; done
  [ ${#failed[@]} -eq 0 ] || fail "variants that failed: ${failed[*]}"
  say "passed (main, secure, cluster)"
  exit 0
fi

# `all` has built them already for this run.
[ -n "${LUMBUNG_COMPOSE_IMAGES_READY:-}" ] || build_images

# -- 3. the override -------------------------------------------------------------------------
overlays=()
[ "$variant" = secure ] && overlays+=(compose/secure.yml)
.tools/bin/python - "$OVERRIDE" "$PORT_BASE" "$TAG" "$KAFKA_IMAGE" "$REDIS_IMAGE" \
  ${overlays[@]+"${overlays[@]}"} <<'PY'
"""The compose test's override of docker-compose.yml: local images, ports on 127.0.0.1."""
import sys

import yaml


class Override(list):
    """A `!override` list: replaces the list of the file below instead of adding to it."""


yaml.add_representer(Override, lambda dumper, items: dumper.represent_sequence("!override", items))

path, base, tag, kafka_image, redis_image, *overlays = sys.argv[1:]
compose = yaml.safe_load(open("docker-compose.yml"))
# podman-compose 1.6 joins the healthcheck `test` lists of the files instead of taking
# the last one (CMD-SHELL twice is refused): the overlay's test again, as !override.
tests = {}
for overlay in overlays:
    for name, service in (yaml.safe_load(open(overlay)).get("services") or {}).items():
        if "test" in (service.get("healthcheck") or {}):
            tests[name] = service["healthcheck"]["test"]
services = {}
for name, service in compose["services"].items():
    image = service.get("image", "")
    out = {}
    if image.startswith("apache/kafka"):
        out["image"] = kafka_image
    elif image.startswith("redis"):
        out["image"] = redis_image
    elif "build" in service:
        # services/<name>/Dockerfile -> localhost/lumbung-<name>:<tag>, built by the script
        dockerfile = service["build"]["dockerfile"]
        out["image"] = f"localhost/lumbung-{dockerfile.split('/')[1]}:{tag}"
    else:
        continue  # the monitoring profile's images have no stand-in yet
    ports = []
    for entry in service.get("ports", []):
        host, _, container = str(entry).rpartition(":")
        ports.append(f"127.0.0.1:{int(base) + int(host) % 100}:{container}")
        if name == "kafka":
            # Clients on the host are told the published port, not the compose file's.
            listeners = service["environment"]["KAFKA_ADVERTISED_LISTENERS"]
            out["environment"] = {
                "KAFKA_ADVERTISED_LISTENERS": listeners.replace(
                    f"localhost:{host}", f"localhost:{int(base) + int(host) % 100}"
                )
            }
    if ports:
        out["ports"] = Override(ports)
    if name in tests:
        out["healthcheck"] = {"test": Override(tests[name])}
    services[name] = out
with open(path, "w") as file:
    file.write("# Written by scripts/compose-test.sh for one run: local images, ports on 127.0.0.1.\n")
    yaml.dump({"services": services}, file, sort_keys=False)
PY

# -- 4. up, stage by stage -------------------------------------------------------------------
trap teardown EXIT
[ -z "${LUMBUNG_COMPOSE_KEEP:-}" ] || trap - EXIT
teardown # a run that was killed may have left its project behind

container() { echo "${PROJECT}_$1_1"; }

# Runs the healthchecks of the given containers until each has passed once.
wait_healthy() {
  local deadline=$((SECONDS + HEALTH_TIMEOUT)) pending=("$@") next c
  while [ ${#pending[@]} -gt 0 ]; do
    next=()
    for c in "${pending[@]}"; do
      if podman healthcheck run "$c" >/dev/null 2>&1; then
        say "$c is healthy"
      else
        next+=("$c")
      fi
    done
    pending=(${next[@]+"${next[@]}"})
    [ ${#pending[@]} -eq 0 ] && break
    if [ $SECONDS -ge $deadline ]; then
      for c in "${pending[@]}"; do
        echo "--- $c: $(podman inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$c")" >&2
        podman logs --tail 30 "$c" >&2 || true
      done
      fail "not healthy after $HEALTH_TIMEOUT s: ${pending[*]}"
    fi
    sleep 3
  done
}

with_healthcheck() {
  local c
  for c in $(project_containers --filter status=running); do
    [ "$(podman inspect -f '{{if .Config.Healthcheck}}yes{{end}}' "$c")" = yes ] && echo "$c"
  done
}

brokers=(kafka)
[ "$variant" = cluster ] && brokers+=(kafka-2 kafka-3)
say "starting ${brokers[*]} and redis"
compose up -d "${brokers[@]}" redis >"$PODMAN_DIR/$PROJECT-up.log" 2>&1 ||
  { tail -30 "$PODMAN_DIR/$PROJECT-up.log" >&2; fail "podman-compose up ${brokers[*]} redis"; }
wait_healthy $(for b in "${brokers[@]}" redis; do container "$b"; done)

say "creating the topics"
compose up -d --no-deps topics >>"$PODMAN_DIR/$PROJECT-up.log" 2>&1 || fail "podman-compose up topics"
status=$(podman wait "$(container topics)")
[ "$status" = 0 ] || { podman logs "$(container topics)" >&2; fail "the topics job exited with $status"; }

say "starting every service and worker"
# --no-deps: without --requires. A container that requires the finished topics job is
# never restarted by Podman 4.3 when it exits (it stays `stopped`, whatever its restart
# policy): an API that lost a name lookup at start (aardvark-dns, twice in eight runs)
# stayed down for good.
compose up -d --no-deps >>"$PODMAN_DIR/$PROJECT-up.log" 2>&1 ||
  { tail -30 "$PODMAN_DIR/$PROJECT-up.log" >&2; fail "podman-compose up"; }
mapfile -t checked < <(with_healthcheck)
wait_healthy "${checked[@]}"
say "all ${#checked[@]} healthchecks pass: ${checked[*]}"

# The one-shot jobs wait for what they need by themselves, for at most 300 s each.
jobs=(setup)
[ "$variant" = main ] && jobs+=(demo)
for job in "${jobs[@]}"; do
  status=$(timeout 600 podman wait "$(container "$job")") || status="still running"
  podman logs "$(container "$job")" 2>&1 | sed "s/^/  $job: /" >&2
  [ "$status" = 0 ] || fail "the $job job: $status"
done
key=$(podman logs "$(container setup)" 2>/dev/null | sed -n 's/^ops key: //p' | tail -1)
[ -n "$key" ] || fail "the setup job printed no ops key"
say "the one-shot jobs exited 0: ${jobs[*]}"

# -- 5. through the published ports ----------------------------------------------------------
for port in 0 1 2 3 4 5; do # dashboard 8000 … books 8005
  curl -fsS -o /dev/null "http://127.0.0.1:$((PORT_BASE + port))/healthz" ||
    fail "nothing answers /healthz on 127.0.0.1:$((PORT_BASE + port))"
done
say "every API answers /healthz through its port on 127.0.0.1"
if [ "$variant" = main ]; then
  [ -x .venv/bin/python ] || fail "no .venv for the checks: run make install"
  .venv/bin/python scripts/compose_checks.py --key "$key" --port-base "$PORT_BASE" \
    --receiver-log "podman logs $(container receiver)" || fail "the checks through the ports"
fi

say "passed ($variant)"
