#!/usr/bin/env bash
# Set up xl-var in ./.venv on a Debian-like machine.
#   bash installer/setup.sh         the package and its runtime dependencies
#   bash installer/setup.sh --dev   plus test/benchmark tools and the system packages tests need
#                                   (LibreOffice Calc headless, poppler-utils, fonts)
# Safe to run twice: it installs only what is missing. Uses sudo when not root.
set -euo pipefail
cd "$(dirname "$0")/.."
dev=0
[ "${1:-}" = "--dev" ] && dev=1
py=${PYTHON:-python3}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
updated=0
apt_install() {
    local missing=()
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ $updated = 0 ]; then as_root apt-get update -qq; updated=1; fi
    echo "setup: installing system packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if ! "$py" -c "import ensurepip, venv" >/dev/null 2>&1; then
    apt_install python3-venv
fi
if [ $dev = 1 ]; then
    command -v soffice >/dev/null 2>&1 || apt_install libreoffice-calc-nogui
    command -v pdftoppm >/dev/null 2>&1 || apt_install poppler-utils
    fc-list 2>/dev/null | grep -qi dejavu || apt_install fonts-dejavu-core
fi
[ -x .venv/bin/python ] || "$py" -m venv .venv
extra=""
[ $dev = 1 ] && extra="[dev]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extra}"
