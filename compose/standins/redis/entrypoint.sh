#!/bin/sh
# As the official image's entrypoint does: a bare `redis-server` (no config file) listens
# on every interface with protected mode off, so other containers reach it, and runs as
# the redis user. Debian's redis-server would otherwise read no file and refuse clients
# from other hosts while no password is set.
set -e
if [ "${1#-}" != "$1" ]; then
  set -- redis-server "$@"
fi
if [ "$1" = redis-server ]; then
  shift
  chown -R redis:redis /data
  exec setpriv --reuid=redis --regid=redis --init-groups redis-server --protected-mode no "$@"
fi
exec "$@"
