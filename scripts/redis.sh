#!/usr/bin/env bash
# Starts the redis-server the rate-limit service tests use (test/rls): 127.0.0.1:6399, daemonized,
# no persistence. Installs the Debian package first when redis-server is missing.
#   scripts/redis.sh          install if needed, start (no-op when already answering), wait for PING
#   scripts/redis.sh stop     shut it down
# Port: SERGO_TEST_REDIS_PORT (default 6399). The tests read SERGO_TEST_REDIS_URL
# (default redis://127.0.0.1:6399).
set -euo pipefail

PORT="${SERGO_TEST_REDIS_PORT:-6399}"
RUN_DIR="${TMPDIR:-/tmp}/sergo-redis-${PORT}"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ping_ok() {
  [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null || true)" = "PONG" ]
}

if [ "${1:-start}" = "stop" ]; then
  if command -v redis-cli >/dev/null 2>&1 && ping_ok; then
    redis-cli -h 127.0.0.1 -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
    echo "redis-server on 127.0.0.1:${PORT} stopped"
  else
    echo "no redis-server answering on 127.0.0.1:${PORT}"
  fi
  exit 0
fi

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  echo "redis-server not found: installing the Debian package redis-server" >&2
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server
fi

if ping_ok; then
  echo "redis-server already answering on 127.0.0.1:${PORT}"
  exit 0
fi

mkdir -p "$RUN_DIR"
args=(--port "$PORT" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no
  --dir "$RUN_DIR" --pidfile "$RUN_DIR/redis.pid" --logfile "$RUN_DIR/redis.log")
# DEBUG is refused by default since Redis 7; allow it from localhost (tests may use DEBUG SLEEP).
major="$(redis-server --version | sed -n 's/.*v=\([0-9]*\)\..*/\1/p')"
if [ "${major:-0}" -ge 7 ]; then args+=(--enable-debug-command local); fi
redis-server "${args[@]}"

for _ in $(seq 1 100); do
  if ping_ok; then
    echo "redis-server answering on 127.0.0.1:${PORT} (log: $RUN_DIR/redis.log)"
    exit 0
  fi
  sleep 0.1
done
echo "redis-server did not answer PING on 127.0.0.1:${PORT} within 10 s; log: $RUN_DIR/redis.log" >&2
tail -n 20 "$RUN_DIR/redis.log" >&2 || true
exit 1
