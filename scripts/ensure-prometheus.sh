#!/usr/bin/env bash
# Pretest step: makes sure a Prometheus server binary is on PATH for the metrics integration specs.
# The specs start their own Prometheus on a free loopback port; the packaged service (which listens
# on :9090) must not be left running, so installing keeps it from starting.
set -euo pipefail

if command -v prometheus >/dev/null 2>&1; then
  exit 0
fi

if [ "${EUID:-$(id -u)}" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive

  # Package scripts ask policy-rc.d whether they may start a service; exit code 101 says no. A
  # policy already in place is left as it is; a temporary one is removed again however we exit.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
    trap 'exit 130' INT TERM
  fi

  apt-get update
  # No recommends: they would bring prometheus-node-exporter, one more service (on :9100).
  if ! apt-get install -y --no-install-recommends prometheus; then
    echo "apt-get could not install prometheus (see the output above)." >&2
    exit 1
  fi

  # Under a running systemd the package enables its unit: stop it now and keep it off at boot.
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  fi

  if command -v prometheus >/dev/null 2>&1; then
    exit 0
  fi
  echo "prometheus was installed but is still not on PATH." >&2
  exit 1
fi

echo "Prometheus is missing. Install it with: sudo apt-get install -y --no-install-recommends prometheus   (Debian/Ubuntu), then stop its service (sudo systemctl disable --now prometheus); or put a prometheus 2.x binary on PATH." >&2
exit 1
