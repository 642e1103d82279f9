#!/usr/bin/env bash
# Pretest step: makes sure an etcd server binary is on PATH for the etcd integration specs.
set -euo pipefail

if command -v etcd >/dev/null 2>&1; then
  exit 0
fi

if [ "${EUID:-$(id -u)}" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y etcd-server
  if command -v etcd >/dev/null 2>&1; then
    exit 0
  fi
  echo "etcd-server was installed but etcd is still not on PATH." >&2
  exit 1
fi

echo "etcd is missing. Install it with: sudo apt-get install -y etcd-server   (Debian/Ubuntu), or put etcd 3.4+ on PATH." >&2
exit 1
