#!/usr/bin/env bash
# Set up everything Convscope needs, idempotently: a Python venv with the pinned packages, the
# front-end assets from npm (package-lock.json), and with --test the test packages and Debian's
# Chromium for the browser tests (Playwright cannot download its own browsers here).
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1
PY=${PYTHON:-python3}

if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Convscope needs Python 3.11 or newer (found: $("$PY" --version 2>&1))." >&2; exit 1
fi
command -v npm >/dev/null || { echo "Convscope needs Node.js and npm for its front-end assets." >&2; exit 1; }

[ -x .venv/bin/python ] || "$PY" -m venv .venv

# reinstall only when the pins changed (a stamp holds their checksum)
reqs=requirements.txt
[ $want_test = 1 ] && reqs="requirements.txt requirements-dev.txt"
sum=$(cat $reqs | sha256sum | cut -c1-16)
if [ "$(cat .venv/.installed 2>/dev/null)" != "$sum" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$([ $want_test = 1 ] && echo requirements-dev.txt || echo requirements.txt)"
  echo "$sum" > .venv/.installed
fi

lock=$(sha256sum package-lock.json | cut -c1-16)
if [ "$(cat node_modules/.installed 2>/dev/null)" != "$lock" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock" > node_modules/.installed
fi

# Debian's chromium (the browser tests) and nginx (tests/browser/test_hosting.py runs the app behind
# deploy/nginx.conf under a sub-path), each installed only when missing
if [ $want_test = 1 ]; then
  missing=""
  [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing="chromium"
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$missing nginx"
  if [ -n "$missing" ]; then
    echo "Installing Debian packages for the browser tests:$missing"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi
