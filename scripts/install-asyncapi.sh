#!/usr/bin/env bash
# Installs the AsyncAPI CLI that checks docs/asyncapi.yaml (`make asyncapi`, the tests):
# the exact version in requirements/npm/package.json, from the npm registry, into
# .tools/npm/, and writes .tools/npm/asyncapi, which runs it.
#
# - No lock file: npm's records the download address of every package (the version of the
#   CLI itself is pinned in package.json; npm chooses its dependencies).
# - --ignore-scripts: the CLI's own postinstall appends to the user's ~/.bashrc, and one
#   dependency reports each install to a tracker. The CLI runs without them.
# - The CLI's dependencies want Node.js 20 or newer. The machine's own node is used when it
#   is recent enough; otherwise (Debian 12 ships 18) a Node.js binary from the npm registry
#   (node-linux-<arch>, NODE_FALLBACK below) is put in .tools/npm/node.
# - Its usage reports stay off: the wrapper points the CLI at a settings file that says so.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE_FALLBACK=22.23.5
DIR=.tools/npm

recent_enough() { "$1" -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; }

if ! command -v npm >/dev/null; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "error: please install npm (Node.js), for the AsyncAPI CLI" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nodejs npm >/dev/null
fi

rm -rf "$DIR"
mkdir -p "$DIR"
npm_install() { npm install --no-package-lock --no-audit --no-fund --ignore-scripts --loglevel=error "$@"; }

if command -v node >/dev/null && recent_enough "$(command -v node)"; then
  node=$(command -v node)
  run_node=$node
else
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) echo "error: no Node.js 20 here, and none to fetch for $(uname -m)" >&2; exit 1 ;;
  esac
  mkdir -p "$DIR/node"
  echo '{"private": true}' >"$DIR/node/package.json"
  (cd "$DIR/node" && npm_install "node-linux-$arch@$NODE_FALLBACK")
  node=$DIR/node/node_modules/node-linux-$arch/bin/node
  run_node="\$here/node/node_modules/node-linux-$arch/bin/node"
  recent_enough "$node"
fi

cp requirements/npm/package.json "$DIR/package.json"
(cd "$DIR" && npm_install)
echo '{"analyticsEnabled": "false", "infoMessageShown": "true", "userID": "lumbung"}' \
  >"$DIR/analytics.json"
cat >"$DIR/asyncapi" <<EOF
#!/bin/sh
# Written by scripts/install-asyncapi.sh: the AsyncAPI CLI on Node.js $("$node" --version).
here=\$(dirname "\$(readlink -f "\$0")")
ASYNCAPI_METRICS_CONFIG_PATH="\$here/analytics.json" \\
  exec "$run_node" "\$here/node_modules/@asyncapi/cli/bin/run_bin" "\$@"
EOF
chmod +x "$DIR/asyncapi"
"$DIR/asyncapi" --version
