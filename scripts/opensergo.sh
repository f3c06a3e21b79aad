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
source "$ROOT/scripts/lib/go-tool.sh"

DIR="$ROOT/.tools/opensergo"
BIN="$DIR/$VERSION/opensergo-control-plane"
if go_tool_needed SERGO_OPENSERGO "$DIR" "$BIN" "Go is needed to install the OpenSergo control plane (go install $MODULE/pkg/main@$VERSION)"; then
  echo "installing the OpenSergo control plane: go install $MODULE/pkg/main@$VERSION into ${DIR#"$ROOT"/}" >&2
  # Modules in the project's folder; the Go build cache is the machine's, as for the test API server.
  export GOMODCACHE="$DIR/gomod" GOCACHE="$GO_TOOL_BUILD_CACHE"
  go_tool_install "$MODULE/pkg/main@$VERSION" main "$BIN" "$DIR/.stage"
fi
echo "$BIN"
