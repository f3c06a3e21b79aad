#!/usr/bin/env bash
# Installs the OpenSergo control plane (github.com/opensergo/opensergo-control-plane, its pkg/main)
# at a pinned commit with `go install` from the Go module proxy into .tools/opensergo/<version>/,
# only when it is missing, and prints the absolute path of the binary as the last line of stdout.
#   scripts/opensergo.sh                     install if needed, print the binary's path
#   SERGO_OPENSERGO=/path/to/control-plane   use that binary instead (checked, nothing installed)
# The module has no tags; the pin is the pseudo-version of its last commit (ac5cff2, 2023-05-09).
# The control plane reads its cluster from KUBECONFIG (controller-runtime) and serves the OpenSergo
# transport on :10246 (fixed in its code).
#
# NOT WIRED INTO CI: on the machine this was written on, the Go module proxy answers
# `403 Forbidden — This module version is not available.` for this module (every version, @latest
# and the list), while it serves the module's dependencies; so the real-peer suite could not be
# written or run (docs/opensergo.md, "Tested against"). Where the proxy serves it, this installs it.
set -euo pipefail

MODULE="github.com/opensergo/opensergo-control-plane"
VERSION="v0.0.0-20230509015612-ac5cff28bbb8"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

if [ -n "${SERGO_OPENSERGO:-}" ]; then
  [ -f "$SERGO_OPENSERGO" ] && [ -x "$SERGO_OPENSERGO" ] || { echo "SERGO_OPENSERGO=$SERGO_OPENSERGO is not an executable file" >&2; exit 1; }
  echo "$SERGO_OPENSERGO"
  exit 0
fi

DIR="$ROOT/.tools/opensergo"
BIN="$DIR/$VERSION/opensergo-control-plane"
mkdir -p "$DIR"
# One build at a time (test files may ask at once); the second waits, then finds the binary.
if command -v flock >/dev/null 2>&1; then exec 9>"$DIR/.lock"; flock 9; fi
if [ ! -x "$BIN" ]; then
  command -v go >/dev/null 2>&1 || { echo "Go is needed to install the OpenSergo control plane (go install $MODULE/pkg/main@$VERSION)" >&2; exit 1; }
  echo "installing the OpenSergo control plane: go install $MODULE/pkg/main@$VERSION into ${DIR#"$ROOT"/}" >&2
  # Modules in the project's folder; the Go build cache is the machine's, as for the test API server.
  STAGE="$DIR/.stage"
  rm -rf "$STAGE"
  trap 'rm -rf "$STAGE"' EXIT
  mkdir -p "$STAGE/bin"
  export GOPATH="$STAGE/gopath" GOMODCACHE="$DIR/gomod" GOCACHE="${XDG_CACHE_HOME:-$HOME/.cache}/sergo-wasm/go-build" GOBIN="$STAGE/bin"
  export GOFLAGS="${GOFLAGS:-} -modcacherw" CGO_ENABLED=0
  started=$SECONDS
  go install "$MODULE/pkg/main@$VERSION" >&2
  mkdir -p "$DIR/$VERSION"
  mv "$STAGE/bin/main" "$BIN"
  rm -rf "$STAGE"
  echo "built in $((SECONDS - started)) s: $BIN" >&2
fi
echo "$BIN"
