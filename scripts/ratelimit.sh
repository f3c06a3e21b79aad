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
source "$ROOT/scripts/lib/go-tool.sh"

DIR="$ROOT/.tools/ratelimit"
BIN="$DIR/$VERSION/service_cmd"
if go_tool_needed SERGO_RATELIMIT "$DIR" "$BIN" "Go is needed to install the reference rate-limit service (go install $MODULE/src/service_cmd@$VERSION)"; then
  echo "installing the reference rate-limit service: go install $MODULE/src/service_cmd@$VERSION into ${DIR#"$ROOT"/}" >&2
  # Module and build caches inside the staging folder: removed with it.
  STAGE="$DIR/.stage"
  export GOMODCACHE="$STAGE/gopath/pkg/mod" GOCACHE="$STAGE/cache"
  go_tool_install "$MODULE/src/service_cmd@$VERSION" service_cmd "$BIN" "$STAGE"
fi
echo "$BIN"
