#!/usr/bin/env bash
# Builds the API server of the test/k8s suites (test/k8s/apiserver: the real kube-apiserver of
# Kubernetes 1.37.2 with its CRD server, on an embedded etcd; plus `k8s-apiserver kubectl` of the
# same release) from the Go module proxy, only when it is missing, and prints the absolute path of
# the binary as the last line of stdout.
#   scripts/k8s-apiserver.sh                  build if needed, print the binary's path
#   SERGO_K8S_APISERVER=/path/to/binary       use that binary instead (checked, nothing built)
# The binary is cached in .tools/k8s-apiserver/<key>/ (git-ignored), the key being a digest of the
# fixture's go.mod, go.sum and sources: an edit of any of them builds again. Modules are downloaded
# into .tools/k8s-apiserver/gomod/ (~600 MB). The Go build cache is the machine's
# (${XDG_CACHE_HOME:-~/.cache}/sergo-wasm/go-build), so a fresh clone on a machine that built it once
# only links (the build cache takes ~3 GB). Cold build on a 2-core machine (empty caches, go build
# -p 2): 613 s of CPU, 2.5 GB peak memory; 6 min 5 s of wall time on a quiet machine (without the
# kubectl part), 17 min 24 s beside other suites' Envoys. Warm build cache, empty checkout (modules
# downloaded again): ~35 s.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SRC="$ROOT/test/k8s/apiserver"
K8S_VERSION="v1.37.2"
source "$ROOT/scripts/lib/go-tool.sh"

KEY="$(cd "$SRC" && cat go.mod go.sum $(ls ./*.go | sort) | sha256sum | cut -c1-16)"
DIR="$ROOT/.tools/k8s-apiserver"
BIN="$DIR/$KEY/k8s-apiserver"
if go_tool_needed SERGO_K8S_APISERVER "$DIR" "$BIN" "Go (>= 1.26) is needed to build the test API server (test/k8s/apiserver)"; then
  echo "building the test API server (kube-apiserver $K8S_VERSION + etcd) into ${BIN#"$ROOT"/}" >&2
  export GOMODCACHE="$DIR/gomod" GOCACHE="$GO_TOOL_BUILD_CACHE"
  export GOFLAGS="-modcacherw -mod=readonly" CGO_ENABLED=0 GOTOOLCHAIN=local
  # The version the server reports (kubectl and the API's compatibility version read it).
  LDFLAGS="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    LDFLAGS="$LDFLAGS -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=37 -X $pkg.gitTreeState=clean"
  done
  started=$SECONDS
  mkdir -p "$DIR/$KEY"
  # Built to a temporary name and moved in place, so an interrupted build leaves no binary behind.
  (cd "$SRC" && go build -p 2 -trimpath -ldflags "$LDFLAGS" -o "$BIN.tmp" .) >&2
  mv "$BIN.tmp" "$BIN"
  # Older keys' binaries (~130 MB each) are of no use any more.
  find "$DIR" -mindepth 1 -maxdepth 1 -type d ! -name "$KEY" ! -name gomod -exec rm -rf {} +
  go_tool_built "$started" "$BIN"
fi
echo "$BIN"
