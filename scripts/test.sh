#!/usr/bin/env bash
# Runs the whole Livery test suite, on a fresh machine too: installs
# redis-server, chromium (for the headless-browser tests) and gcc (-race
# needs cgo) from Debian packages when missing — as root, or through sudo
# for another user — builds the pinned MinIO release into a cache outside
# the clone (once; about 4 minutes) and installs axe-core from the npm
# registry (LIVERY_AXE, for the staff UI's accessibility checks), then runs
# `go test -race ./...`.
# Extra arguments go to `go test` (e.g. -run, -v). The test harness starts
# its own Redis and MinIO on free loopback ports and the browser tests their
# own Chromium (LIVERY_CHROMIUM, exported here), and they fail loudly if they
# cannot.
set -euo pipefail
cd "$(dirname "$0")/.."

MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
CACHE="${LIVERY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/livery}"

as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "test.sh: need root to install packages ($*): run as root, install sudo, or install them yourself" >&2
    exit 1
  fi
}

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then
    as_root apt-get update -qq
    apt_updated=1
  fi
  # env inside as_root: sudo resets the caller's environment.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! command -v gcc >/dev/null 2>&1 && ! command -v cc >/dev/null 2>&1; then
  echo "test.sh: installing gcc from Debian packages (go test -race needs cgo)" >&2
  apt_install gcc libc6-dev
fi
export CGO_ENABLED=1

if ! command -v redis-server >/dev/null 2>&1; then
  echo "test.sh: installing redis-server from Debian packages" >&2
  apt_install redis-server
fi

if [ -z "${LIVERY_CHROMIUM:-}" ]; then
  for browser in chromium chromium-browser google-chrome; do
    if command -v "$browser" >/dev/null 2>&1; then
      LIVERY_CHROMIUM="$(command -v "$browser")"
      break
    fi
  done
fi
if [ -z "${LIVERY_CHROMIUM:-}" ]; then
  echo "test.sh: installing chromium from Debian packages (headless-browser tests)" >&2
  apt_install chromium
  LIVERY_CHROMIUM="$(command -v chromium)" || { echo "test.sh: chromium is still not on PATH after installing it" >&2; exit 1; }
fi
export LIVERY_CHROMIUM

# axe-core (the accessibility checks of the staff UI's browser tests), from
# the npm registry into the cache outside the clone; node and npm from
# Debian packages when missing.
AXE_VERSION=4.11.1
if [ -z "${LIVERY_AXE:-}" ]; then
  LIVERY_AXE="$CACHE/npm/axe-core-$AXE_VERSION/node_modules/axe-core/axe.min.js"
  if [ ! -f "$LIVERY_AXE" ]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "test.sh: installing node and npm from Debian packages (axe-core)" >&2
      apt_install nodejs npm
    fi
    echo "test.sh: installing axe-core $AXE_VERSION into $CACHE/npm" >&2
    mkdir -p "$CACHE/npm/axe-core-$AXE_VERSION"
    npm install --silent --no-audit --no-fund --prefix "$CACHE/npm/axe-core-$AXE_VERSION" "axe-core@$AXE_VERSION" >/dev/null
    [ -f "$LIVERY_AXE" ] || { echo "test.sh: axe-core did not install $LIVERY_AXE" >&2; exit 1; }
  fi
fi
export LIVERY_AXE

MINIO_BIN="$CACHE/bin/minio-$MINIO_VERSION"
if [ ! -x "$MINIO_BIN" ]; then
  echo "test.sh: building MinIO $MINIO_VERSION into $CACHE/bin (first run only, about 4 minutes; the packages being built are listed)" >&2
  mkdir -p "$CACHE/bin"
  tmp="$(mktemp -d)"
  (cd "$tmp" && GOBIN="$tmp" GOFLAGS=-mod=mod go install -v "github.com/minio/minio@$MINIO_VERSION" 2>&1 | awk '{ n++ } n % 50 == 0 { print "test.sh: MinIO build: " n " packages built, at " $0 > "/dev/stderr" } END { print "test.sh: MinIO build: " n " packages built" > "/dev/stderr" }')
  mv "$tmp/minio" "$MINIO_BIN"
  rm -rf "$tmp"
fi

export LIVERY_MINIO="$MINIO_BIN"
LIVERY_REDIS_SERVER="$(command -v redis-server)"
export LIVERY_REDIS_SERVER
# ./scripts/test.sh bench [PATTERN] [PACKAGES...] runs the benchmarks
# instead (no -race, no tests), with the same Redis, MinIO and browser.
if [ "${1:-}" = bench ]; then
  shift
  pattern="${1:-.}"
  [ $# -gt 0 ] && shift
  [ $# -eq 0 ] && set -- ./...
  exec go test -run '^$' -bench "$pattern" "$@"
fi
# ./scripts/test.sh faults runs the fault suite (build tag faults; about a
# minute), writing its table to $LIVERY_FAULTS_OUT when set (bench/faults.sh).
if [ "${1:-}" = faults ]; then
  shift
  exec go test -tags faults -run '^TestFaults$' -count=1 -v -timeout 10m "$@" ./cmd/livery/
fi
exec go test -race "$@" ./...
