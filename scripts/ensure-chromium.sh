#!/usr/bin/env bash
# Pretest step: makes sure a Chromium binary is on PATH for the gateway's browser specs.
set -euo pipefail

if [ -n "${PUPPETEER_EXECUTABLE_PATH:-}" ] && [ -x "$PUPPETEER_EXECUTABLE_PATH" ]; then
  exit 0
fi
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi

if [ "${EUID:-$(id -u)}" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y chromium
  if command -v chromium >/dev/null 2>&1; then
    exit 0
  fi
  echo "chromium was installed but is still not on PATH." >&2
  exit 1
fi

echo "Chromium is missing. Install it with: sudo apt-get install -y chromium   (Debian/Ubuntu), or set PUPPETEER_EXECUTABLE_PATH to a Chromium or Chrome binary." >&2
exit 1
