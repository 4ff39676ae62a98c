#!/bin/sh
# Make sure Debian's Chromium is at /usr/bin/chromium for the browser tests (tests/browser).
# Playwright never downloads a browser here: it drives this system package.
set -eu
CHROMIUM="${PAPERTAPE_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    echo "chromium: $CHROMIUM ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium is missing at $CHROMIUM and apt-get is not available: install Chromium with your package manager, or set PAPERTAPE_CHROMIUM" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "chromium is missing: run 'apt-get install -y chromium' as root" >&2
        exit 1
    fi
fi
echo "installing Debian's chromium with apt-get..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
"$CHROMIUM" --version
