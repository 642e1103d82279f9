#!/usr/bin/env bash
# A HelloWorld server and the gateway with its page, in one terminal; Ctrl-C stops both.
# Run with --help for the flags.
#   bash examples/gateway/run.sh [--http HOST:PORT] [--server-port PORT]
set -euo pipefail
cd "$(dirname "$0")/../.."

usage() {
  cat <<'EOF'
Usage: bash examples/gateway/run.sh [flags]

Starts a HelloWorld server (examples/gateway/server.ts) on 127.0.0.1, waits until it prints
"serving HelloWorld on tcp@HOST:PORT", then runs the gateway (examples/gateway/gateway.ts) in
front of it until Ctrl-C, which stops both. Open the URL the gateway prints ("gateway on URL").

Flags:
  --http HOST:PORT      where the gateway listens (default 127.0.0.1:8080; port 0 picks a free one)
  --server-port PORT    the HelloWorld server's port (default 0: a free one)
  --timeout S           seconds to wait for the server to listen (default 60)
  -h, --help            print this help and exit

Exit status: 1 when the server or the gateway cannot listen (a port in use) or the server says
nothing in time; 2 for a bad command line (the script's or the gateway's); 130 after Ctrl-C.

Example:
  bash examples/gateway/run.sh --http 127.0.0.1:8080
EOF
}

refuse() {
  echo "gateway/run.sh: $1 (run with --help for the flags)" >&2
  exit 2
}

fail() {
  echo "gateway/run.sh: $1" >&2
  exit 1
}

http=127.0.0.1:8080
server_port=0
timeout=60
while (($# > 0)); do
  case $1 in
    -h | --help)
      usage
      exit 0
      ;;
    --http | --server-port | --timeout)
      (($# >= 2)) || refuse "$1 needs a value"
      case $1 in
        --http) http=$2 ;;
        --server-port)
          [[ $2 =~ ^[0-9]{1,5}$ ]] && ((10#$2 <= 65535)) || refuse "--server-port must be a port from 0 to 65535, got \"$2\""
          server_port=$((10#$2))
          ;;
        --timeout)
          [[ $2 =~ ^[0-9]{1,6}$ ]] && ((10#$2 >= 1)) || refuse "--timeout must be a positive integer (seconds), got \"$2\""
          timeout=$((10#$2))
          ;;
      esac
      shift 2
      ;;
    -*) refuse "unknown flag $1" ;;
    *) refuse "unexpected argument \"$1\": this script takes only flags" ;;
  esac
done

dir=$(mktemp -d)
server=
gateway=
cleanup() {
  # SIGTERM: each lets its calls in flight finish, then exits.
  for pid in $gateway $server; do kill "$pid" 2>/dev/null || true; done
  for pid in $gateway $server; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkfifo "$dir/server"
node --import tsx examples/gateway/server.ts --addr "127.0.0.1:$server_port" >"$dir/server" &
server=$!
exec {server_out}<"$dir/server"
address=
while [[ -z $address ]]; do
  status=0
  IFS= read -r -t "$timeout" -u "$server_out" line || status=$?
  if ((status > 128)); then
    fail "the server printed nothing for $timeout s (raise --timeout on a slow machine)"
  elif ((status != 0)); then
    status=0
    wait "$server" 2>/dev/null || status=$?
    server=
    fail "the server could not start on 127.0.0.1:$server_port (exit status $status): see its message above"
  elif [[ $line =~ ^serving\ HelloWorld\ on\ tcp@(.+)$ ]]; then
    address=${BASH_REMATCH[1]}
  fi
  echo "$line"
done
# The server's later lines (its shutdown) are read away so that it never blocks on the pipe.
cat <&"$server_out" &
exec {server_out}<&-
# In the background, so that Ctrl-C or SIGTERM reach this script at once and it stops both.
node --import tsx examples/gateway/gateway.ts --http "$http" --addrs "$address" &
gateway=$!
status=0
wait "$gateway" || status=$?
gateway=
exit "$status"
