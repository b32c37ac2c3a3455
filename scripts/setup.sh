#!/usr/bin/env bash
# Install everything neurosim and its tests need on a fresh machine (idempotent).
#   scripts/setup.sh        core package
#   scripts/setup.sh test   core package + test extra (pytest, hypothesis, torch CPU, dask) + ngspice + chromium
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"
PY="${PYTHON:-python3}"
if [ "$extra" = "test" ]; then
    # ngspice: the reference circuit simulator; chromium: renders the HTML reports in a test
    missing=""
    command -v ngspice >/dev/null 2>&1 || missing="$missing ngspice"
    command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
    if [ -n "$missing" ]; then
        echo "[setup] installing$missing (Debian packages) ..."
        if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
    fi
    "$PY" -m pip install -q --disable-pip-version-check -e ".[test]"
else
    "$PY" -m pip install -q --disable-pip-version-check -e .
fi
