#!/usr/bin/env bash
# Three HelloWorld servers, a client calling them through an XClient, and one server killed
# mid-run: the client's last line shows how many calls failed under the chosen fail mode.
#   bash examples/multiple/run.sh [failover|failfast|failtry|failbackup] [select mode]
set -euo pipefail
cd "$(dirname "$0")/../.."
fail=${1:-failover}
select=${2:-roundRobin}
servers=()
for port in 8972 8973 8974; do
  node --import tsx examples/helloworld/server.ts --addr "127.0.0.1:$port" > /dev/null &
  servers+=($!)
done
trap 'kill "${servers[@]}" 2>/dev/null || true' EXIT
sleep 2
node --import tsx examples/multiple/client.ts --addrs 127.0.0.1:8972,127.0.0.1:8973,127.0.0.1:8974 \
  --fail "$fail" --select "$select" --count 300 --interval-ms 10 &
client=$!
sleep 2
echo "killing the server on 127.0.0.1:8972 with SIGKILL"
kill -KILL "${servers[0]}"
wait "$client"
