# Sourced by the scripts that build a Go tool for the tests into .tools/ (ratelimit.sh, opensergo.sh,
# k8s-apiserver.sh): the parts they share. Each prints the binary's absolute path as the last line
# of stdout; everything else goes to stderr.

# The machine's Go build cache for sergo-wasm: a fresh clone on a machine that built once only links.
GO_TOOL_BUILD_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/sergo-wasm/go-build"

# go_tool_override VAR: when $VAR is set, checks it names an executable file, prints it and exits.
go_tool_override() {
  local var=$1 value=${!1:-}
  [ -n "$value" ] || return 0
  [ -f "$value" ] && [ -x "$value" ] || { echo "$var=$value is not an executable file" >&2; exit 1; }
  echo "$value"
  exit 0
}

# go_tool_lock DIR: one build at a time (test files may ask at once); the second waits, then finds
# the binary. The lock is held until the script exits.
go_tool_lock() {
  mkdir -p "$1"
  if command -v flock >/dev/null 2>&1; then exec 9>"$1/.lock"; flock 9; fi
}

# go_tool_need_go MESSAGE: stops with MESSAGE when there is no `go` on PATH.
go_tool_need_go() {
  command -v go >/dev/null 2>&1 || { echo "$1" >&2; exit 1; }
}

# go_tool_needed OVERRIDE_VAR DIR BIN NO_GO_MESSAGE: the override first (go_tool_override), then the
# lock on DIR; true when BIN is still to be built (stopping with NO_GO_MESSAGE when go is missing),
# false when it is there.
go_tool_needed() {
  go_tool_override "$1"
  go_tool_lock "$2"
  [ ! -x "$3" ] || return 1
  go_tool_need_go "$4"
}

# go_tool_built STARTED BIN: the closing line of a build (STARTED is $SECONDS when it began).
go_tool_built() {
  echo "built in $((SECONDS - $1)) s: $2" >&2
}

# go_tool_install PACKAGE@VERSION NAME BIN STAGE: `go install` into the staging folder STAGE (its own
# GOPATH and GOBIN), then the built NAME moved to BIN, so an interrupted build leaves no binary
# behind; STAGE is removed after, also on failure. GOMODCACHE and GOCACHE are the caller's.
go_tool_install() {
  local target=$1 name=$2 bin=$3 stage=$4 started=$SECONDS
  rm -rf "$stage"
  trap "rm -rf '$stage'" EXIT
  mkdir -p "$stage/bin"
  export GOPATH="$stage/gopath" GOBIN="$stage/bin"
  export GOFLAGS="${GOFLAGS:-} -modcacherw" CGO_ENABLED=0
  go install "$target" >&2
  mkdir -p "$(dirname "$bin")"
  mv "$stage/bin/$name" "$bin"
  rm -rf "$stage"
  go_tool_built "$started" "$bin"
}
