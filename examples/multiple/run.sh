#!/usr/bin/env bash
# Three HelloWorld servers, a client calling them through an XClient, and one server killed with
# SIGKILL once the client has reported its first successful calls; then the client's summary is
# checked against the fail mode. Run with --help for the arguments.
#   bash examples/multiple/run.sh [flags] [failover|failfast|failtry|failbackup] [select mode]
set -euo pipefail
cd "$(dirname "$0")/../.."

usage() {
  cat <<'EOF'
Usage: bash examples/multiple/run.sh [flags] [FAIL_MODE [SELECT_MODE]]

Starts three HelloWorld servers (examples/helloworld/server.ts) on 127.0.0.1 and waits until
each prints "serving HelloWorld on tcp@HOST:PORT"; runs examples/multiple/client.ts against
them (one call every 10 ms); kills the first server with SIGKILL once the client has reported
successful calls; then checks the client's last line, "calls=N failed=M", against the fail mode.

Arguments:
  FAIL_MODE      failover, failbackup, failfast or failtry (default failover). failover and
                 failbackup must lose no call; failfast and failtry may lose the calls that
                 went to the dead server, and the script says how many did.
  SELECT_MODE    random, roundRobin, weightedRoundRobin, consistentHash or closest
                 (default roundRobin)

Flags:
  --ports P1,P2,P3   the three servers' ports (default 0,0,0: each server picks a free one)
  --count N          calls the client makes, at least 12 (default 300)
  --timeout S        seconds to wait for each line a server or the client should print
                     before giving up (default 60)
  -h, --help         print this help and exit

Exit status: 0 when the summary agrees with the fail mode; 1 when a server cannot listen (its
port is in use), a process fails or stays silent past --timeout, or the summary contradicts the
fail mode; 2 for a bad command line.

Examples:
  bash examples/multiple/run.sh failover roundRobin      # ends with: ok: failover lost no call ...
  bash examples/multiple/run.sh --ports 8972,8973,8974 failtry random
EOF
}

refuse() {
  echo "multiple/run.sh: $1 (run with --help for the arguments)" >&2
  exit 2
}

fail() {
  echo "multiple/run.sh: $1" >&2
  exit 1
}

ports=(0 0 0)
count=300
timeout=60
positionals=()
while (($# > 0)); do
  case $1 in
    -h | --help)
      usage
      exit 0
      ;;
    --ports | --count | --timeout)
      (($# >= 2)) || refuse "$1 needs a value"
      case $1 in
        --ports)
          IFS=, read -r -a ports <<<"$2"
          ((${#ports[@]} == 3)) || refuse "--ports must list three ports, got \"$2\""
          for port in "${ports[@]}"; do
            [[ $port =~ ^[0-9]{1,5}$ ]] && ((10#$port <= 65535)) ||
              refuse "--ports must be three ports from 0 to 65535, got \"$2\""
          done
          ;;
        --count)
          [[ $2 =~ ^[0-9]{1,9}$ ]] && ((10#$2 >= 12)) || refuse "--count must be an integer >= 12, got \"$2\""
          count=$((10#$2))
          ;;
        --timeout)
          [[ $2 =~ ^[0-9]{1,6}$ ]] && ((10#$2 >= 1)) || refuse "--timeout must be a positive integer (seconds), got \"$2\""
          timeout=$((10#$2))
          ;;
      esac
      shift 2
      ;;
    -*) refuse "unknown flag $1" ;;
    *)
      positionals+=("$1")
      shift
      ;;
  esac
done
((${#positionals[@]} <= 2)) || refuse "too many arguments: ${positionals[*]}"
fail_mode=${positionals[0]:-failover}
select_mode=${positionals[1]:-roundRobin}
case $fail_mode in
  failover | failbackup | failfast | failtry) ;;
  *) refuse "FAIL_MODE must be failover, failbackup, failfast or failtry, got \"$fail_mode\"" ;;
esac
case $select_mode in
  random | roundRobin | weightedRoundRobin | consistentHash | closest) ;;
  *) refuse "SELECT_MODE must be random, roundRobin, weightedRoundRobin, consistentHash or closest, got \"$select_mode\"" ;;
esac

dir=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Starts a command in the background with its stdout on a pipe; sets $pid and $fd (the pipe to
# read its lines from).
start() {
  local fifo=$dir/$1
  shift
  mkfifo "$fifo"
  "$@" >"$fifo" &
  pid=$!
  pids+=("$pid")
  exec {fd}<"$fifo"
}

# Reads the next line of the process whose pipe is $1 into $line, waiting at most --timeout
# seconds; returns 1 when the process closed its output (it ended). $2 names it for the message.
next_line() {
  local status=0
  IFS= read -r -t "$timeout" -u "$1" line || status=$?
  ((status == 0)) && return 0
  ((status > 128)) && fail "$2 printed nothing for $timeout s (raise --timeout on a slow machine)"
  return 1
}

# How a process ended, in $status: its exit status, or 128 + the signal that killed it.
ended() {
  status=0
  wait "$1" 2>/dev/null || status=$?
}

server_pids=()
server_fds=()
for i in 0 1 2; do
  start "server-$i" node --import tsx examples/helloworld/server.ts --addr "127.0.0.1:${ports[i]}"
  server_pids+=("$pid")
  server_fds+=("$fd")
done
addrs=()
for i in 0 1 2; do
  while true; do
    if ! next_line "${server_fds[i]}" "server-$i (127.0.0.1:${ports[i]})"; then
      ended "${server_pids[i]}"
      fail "server-$i could not start on 127.0.0.1:${ports[i]} (exit status $status): see its message above"
    fi
    if [[ $line =~ ^serving\ HelloWorld\ on\ tcp@(.+)$ ]]; then
      addrs+=("${BASH_REMATCH[1]}")
      break
    fi
    echo "server-$i: $line"
  done
  echo "server-$i listening on ${addrs[i]}"
done

# Reports often enough that the server dies early in the run and the client is never silent long.
report_every=$((count / 6 < 50 ? count / 6 : 50))
start client node --import tsx examples/multiple/client.ts \
  --addrs "$(
    IFS=,
    echo "${addrs[*]}"
  )" \
  --fail "$fail_mode" --select "$select_mode" --count "$count" --interval-ms 10 \
  --report-every "$report_every"
client=$pid
client_fd=$fd
killed=false
summary=
while next_line "$client_fd" client; do
  echo "$line"
  if [[ $killed == false && $line =~ ^after\ [0-9]+\ calls:\ ok=([0-9]+) ]] && ((BASH_REMATCH[1] > 0)); then
    echo "killing server-0 (${addrs[0]}) with SIGKILL"
    kill -KILL "${server_pids[0]}"
    ended "${server_pids[0]}" # reaped here, so that bash does not report the kill itself
    killed=true
  fi
  [[ $line =~ ^calls=[0-9]+\ failed=[0-9]+$ ]] && summary=$line
done
ended "$client"
((status == 0)) || fail "the client failed (exit status $status): see its message above"
[[ -n $summary ]] || fail 'the client ended without its summary line "calls=N failed=M"'
[[ $killed == true ]] || fail 'the client never reported a successful call, so no server was killed'

[[ $summary =~ ^calls=([0-9]+)\ failed=([0-9]+)$ ]]
calls=${BASH_REMATCH[1]}
failed=${BASH_REMATCH[2]}
((calls == count)) || fail "the client says calls=$calls, but it was asked for $count"
case $fail_mode in
  failover | failbackup)
    ((failed == 0)) ||
      fail "FAILED: $fail_mode lost $failed of $calls calls when one of three servers died; it should have retried them on another server"
    echo "ok: $fail_mode lost no call when one of three servers died ($summary)"
    ;;
  failfast | failtry)
    echo "ok: $fail_mode lost $failed of $calls calls when one of three servers died ($summary); it does not move a failed call to another server"
    ;;
esac
