#!/usr/bin/env bash
# The Debian packages `make test` needs beyond python3 and make, so that a bare Debian
# machine runs the whole suite:
#   python3-venv      `python3 -m venv` (Debian ships ensurepip apart from python3)
#   redis-server      the Redis store's tests run against a real server on 127.0.0.1
#   chromium          the browser end-to-end test (Debian's build, never a download)
#   fonts-liberation  chromium without recommends has no fonts: screenshots show no text
#
#   bash scripts/system-deps.sh         all of them (`make test` and `.ci/run`)
#   bash scripts/system-deps.sh venv    python3-venv only (`make demo`, any venv)
#
# Idempotent: checks what is there and installs only what is missing, with one
# `apt-get update` first. Installing needs root and apt-get; without them it says what to
# install and leaves the decision to the tests (under CI=true, where nothing may be
# skipped, it fails instead). $PYTHON is the interpreter make uses (default python3).
set -euo pipefail

PYTHON="${PYTHON:-python3}"
group="${1:-all}"
case "$group" in
all | venv) ;;
*)
    echo "usage: bash scripts/system-deps.sh [all|venv]" >&2
    exit 2
    ;;
esac

installed() { # a Debian package's status (false where there is no dpkg)
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"
}

missing=()
# Debian's python3 has ensurepip only with python3-venv; other builds (pyenv...) bring it.
"$PYTHON" -c "import ensurepip" >/dev/null 2>&1 || missing+=(python3-venv)
if [ "$group" = all ]; then
    command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    installed fonts-liberation || missing+=(fonts-liberation)
fi
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: missing ${missing[*]}; install them (Debian: apt-get install ${missing[*]})" >&2
    case "${CI:-}" in
    1 | true | yes) exit 1 ;;
    *) exit 0 ;;
    esac
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
