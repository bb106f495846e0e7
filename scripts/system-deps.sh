#!/usr/bin/env bash
# Debian packages the relay's tests need: redis-server (the Redis store runs against a real
# server on 127.0.0.1) and chromium (the browser end-to-end test). Idempotent: installs
# only what is missing. `make test` and `.ci/run` call it; it needs root and apt-get, and
# on a machine without them it says so and leaves the decision to the tests (the browser
# test is skipped outside CI; under CI=true nothing is skipped).
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: missing ${missing[*]}; install them (Debian: apt-get install ${missing[*]})" >&2
    exit 0
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
