#!/usr/bin/env bash
# A HelloWorld server and the gateway with its page, in one terminal; Ctrl-C stops both.
#   bash examples/gateway/run.sh [http host:port] [server port]
# then open http://127.0.0.1:8080/ (or the address given).
set -euo pipefail
cd "$(dirname "$0")/../.."
http=${1:-127.0.0.1:8080}
port=${2:-8972}
node --import tsx examples/gateway/server.ts --addr "127.0.0.1:$port" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
# The gateway dials the server on the first call, so it can start at once.
node --import tsx examples/gateway/gateway.ts --http "$http" --addrs "127.0.0.1:$port"
