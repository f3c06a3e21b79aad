#!/usr/bin/env bash
# Installs Envoy's reference rate-limit service (github.com/envoyproxy/ratelimit, its service_cmd)
# at a pinned version with `go install` from the Go module proxy into .tools/ratelimit/<version>/,
# only when it is missing, and prints the absolute path of the binary as the last line of stdout.
#   scripts/ratelimit.sh                   install if needed, print the binary's path
#   SERGO_RATELIMIT=/path/to/service_cmd   use that binary instead (checked, nothing installed)
# The Go module and build caches live in .tools/ratelimit/ during the build and are removed after
# it: nothing outside the project folder is touched. Needs Go 1.21 or newer (an older go than the
# module's 1.25.6 fetches that toolchain into the same cache). A cold build took 40 s on a 2-core
# machine: it downloads ~190 MB of modules from the Go module proxy and compiles them.
set -euo pipefail

# `go install …@latest` resolved to this pseudo-version (master of 2026-01-22); pin it so every
# machine tests the same service.
MODULE="github.com/envoyproxy/ratelimit"
VERSION="v1.4.1-0.20260122083618-3fb702589d36"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

if [ -n "${SERGO_RATELIMIT:-}" ]; then
  [ -f "$SERGO_RATELIMIT" ] && [ -x "$SERGO_RATELIMIT" ] || { echo "SERGO_RATELIMIT=$SERGO_RATELIMIT is not an executable file" >&2; exit 1; }
  echo "$SERGO_RATELIMIT"
  exit 0
fi

DIR="$ROOT/.tools/ratelimit"
BIN="$DIR/$VERSION/service_cmd"
mkdir -p "$DIR"
# One build at a time (test files may ask at once); the second waits, then finds the binary.
if command -v flock >/dev/null 2>&1; then exec 9>"$DIR/.lock"; flock 9; fi
if [ ! -x "$BIN" ]; then
  command -v go >/dev/null 2>&1 || { echo "Go is needed to install the reference rate-limit service (go install $MODULE/src/service_cmd@$VERSION)" >&2; exit 1; }
  echo "installing the reference rate-limit service: go install $MODULE/src/service_cmd@$VERSION into ${DIR#"$ROOT"/}" >&2
  # Built into a staging folder and moved in place, so an interrupted build leaves no binary behind.
  STAGE="$DIR/.stage"
  rm -rf "$STAGE"
  mkdir -p "$STAGE/bin"
  export GOPATH="$STAGE/gopath" GOMODCACHE="$STAGE/gopath/pkg/mod" GOCACHE="$STAGE/cache" GOBIN="$STAGE/bin"
  export GOFLAGS="${GOFLAGS:-} -modcacherw" CGO_ENABLED=0
  started=$SECONDS
  go install "$MODULE/src/service_cmd@$VERSION" >&2
  mkdir -p "$DIR/$VERSION"
  mv "$STAGE/bin/service_cmd" "$BIN"
  rm -rf "$STAGE"
  echo "built in $((SECONDS - started)) s: $BIN" >&2
fi
echo "$BIN"
