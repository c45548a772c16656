#!/bin/sh
# Alertmanager in compose (profile `monitoring`): alertmanager.yml with its webhook pointed
# at OPS_WEBHOOK_URL, where the notifications worker sends ops messages too. Unset, the
# alerts show on :9094 and reach no one. CONFIG_DIR, OUT_DIR and ALERTMANAGER let the
# tests run it outside the image.
set -eu
config_dir=${CONFIG_DIR:-/etc/lumbung}
out=${OUT_DIR:-/alertmanager}/alertmanager.yml
url=${OPS_WEBHOOK_URL:-}
if [ -n "$url" ]; then
  # sed's replacement treats & | and \ specially; a URL's query may hold any of them.
  escaped=$(printf '%s\n' "$url" | sed 's/[&|\\]/\\&/g')
  sed "s|url: http://127.0.0.1:8025/ops|url: $escaped|" "$config_dir/alertmanager.yml" >"$out"
else
  echo "OPS_WEBHOOK_URL is not set: alerts show on :9094 and reach no one" >&2
  cp "$config_dir/alertmanager.yml" "$out"
fi
exec "${ALERTMANAGER:-/bin/alertmanager}" --config.file="$out" --storage.path=/alertmanager \
  --web.listen-address=:9094 --cluster.listen-address= "$@"
