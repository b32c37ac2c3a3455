#!/usr/bin/env bash
# Install everything neurosim and its tests need on a fresh machine (idempotent).
#   scripts/setup.sh        core package
#   scripts/setup.sh test   core package + test extra (pytest, hypothesis, torch CPU) + ngspice
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"
PY="${PYTHON:-python3}"
if [ "$extra" = "test" ]; then
    if ! command -v ngspice >/dev/null 2>&1; then
        echo "[setup] installing ngspice (Debian package) ..."
        if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq ngspice >/dev/null
    fi
    "$PY" -m pip install -q --disable-pip-version-check -e ".[test]"
else
    "$PY" -m pip install -q --disable-pip-version-check -e .
fi
