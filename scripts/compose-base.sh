#!/usr/bin/env bash
# What the compose test needs on a machine without a Docker engine (docs/operations.md,
# "Compose under Podman"), installed when missing:
#   - Debian's podman, with runc (crun refuses this kind of machine's cgroup layout),
#     netavark and aardvark-dns (containers reach each other by service name), iptables
#     (netavark's firewall: without it a container on a network fails to start with
#     "netavark: No such file or directory"), and debootstrap;
#   - podman-compose in the tools environment .tools (pinned in requirements/tools.txt);
#   - .stack/podman/containers.conf: no default ulimits (podman's default nofile limit is
#     refused here) and the runc runtime. Every podman command of the test reads it
#     through CONTAINERS_CONF;
#   - the local base image $LUMBUNG_BASE_IMAGE (default localhost/lumbung-base:bookworm):
#     Debian bookworm with Python 3.11, built with `debootstrap --variant=minbase` from the
#     Debian mirror this machine's apt sources name, read here at run time, then
#     `podman import`ed. Built once: an existing image is kept (remove it to rebuild).
#
# Prints the `export CONTAINERS_CONF=...` line the podman commands need.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE=${LUMBUNG_BASE_IMAGE:-localhost/lumbung-base:bookworm}
SUITE=bookworm
PODMAN_DIR=$PWD/.stack/podman
export CONTAINERS_CONF=$PODMAN_DIR/containers.conf

say() { echo "compose-base: $*" >&2; }

# -- Debian packages ------------------------------------------------------------------------
missing=()
for package in podman runc netavark aardvark-dns iptables debootstrap; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    say "please install: ${missing[*]}"
    exit 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Without the recommends: they would bring crun, which podman then prefers.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# -- podman-compose in .tools ---------------------------------------------------------------
if [ ! -x .tools/bin/podman-compose ]; then
  say "installing podman-compose into .tools"
  test -x .tools/bin/python || python3 -m venv .tools
  .tools/bin/pip install -q -r requirements/tools.txt
fi

# -- containers.conf ------------------------------------------------------------------------
mkdir -p "$PODMAN_DIR"
cat >"$CONTAINERS_CONF" <<'CONF'
# Written by scripts/compose-base.sh: read by podman through CONTAINERS_CONF.
[containers]
default_ulimits = []

[engine]
runtime = "runc"

[network]
network_backend = "netavark"
CONF

# -- the local base image -------------------------------------------------------------------
if podman image exists "$BASE_IMAGE"; then
  say "$BASE_IMAGE exists (podman rmi it to build it again)"
  echo "export CONTAINERS_CONF=$CONTAINERS_CONF"
  exit 0
fi

# The first Debian archive (not the security one) of the machine's apt sources, in either
# format: one-line `deb [options] URI suite components` in *.list, or deb822 stanzas in
# *.sources. Read now, written nowhere.
mirror=$(
  python3 - /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources <<'PY'
import re, sys
from pathlib import Path

def candidates(path):
    text = path.read_text(errors="replace")
    if path.suffix == ".sources":
        for stanza in re.split(r"\n\s*\n", text):
            fields = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line or line[0].isspace():
                    continue
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.split()
            if "deb" in fields.get("types", []) and fields.get("enabled", ["yes"]) != ["no"]:
                for uri in fields.get("uris", []):
                    yield uri, fields.get("suites", [])
    else:
        for line in text.splitlines():
            words = re.sub(r"\[[^]]*\]", "", line.split("#")[0]).split()
            if len(words) >= 3 and words[0] == "deb":
                yield words[1], [words[2]]

for name in sys.argv[1:]:
    path = Path(name)
    if not path.is_file():
        continue
    for uri, suites in candidates(path):
        if uri.startswith("http") and any("-" not in s for s in suites) and "security" not in uri:
            print(uri)
            raise SystemExit(0)
raise SystemExit("no Debian archive in the apt sources")
PY
)

root=$PODMAN_DIR/rootfs
rm -rf "$root"
say "debootstrap --variant=minbase $SUITE with Python 3.11 (about a minute)"
started=$(date +%s)
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  "$SUITE" "$root" "$mirror" >"$PODMAN_DIR/debootstrap.log" 2>&1 ||
  { tail -20 "$PODMAN_DIR/debootstrap.log" >&2; exit 1; }
# Leaner image: no package lists or downloaded .debs, no docs (apt-get update refills them).
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
say "importing it as $BASE_IMAGE"
tar -C "$root" -c . | podman import -q \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' \
  - "$BASE_IMAGE" >/dev/null
rm -rf "$root"
say "$BASE_IMAGE built in $(($(date +%s) - started)) s"
echo "export CONTAINERS_CONF=$CONTAINERS_CONF"
