#!/usr/bin/env bash
# End-to-end check with the real commands as separate processes: two agents, rotating and plain logs,
# kill -9 of the agent and of the server mid-transfer, then (second pass) the same through udp-chaos
# with loss, duplication and reordering. Every output must equal its sources byte for byte.
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
BIN="$ROOT/bin"
W="$(mktemp -d "${TMPDIR:-/tmp}/tailwire-e2e.XXXXXX")"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do kill -9 "$p" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ] || [ "${FAILED:-0}" = 1 ]; then echo "e2e: work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
say() { printf 'e2e: %s\n' "$*"; }
fail() { FAILED=1; say "FAIL: $*"; for f in "$W"/*.err; do echo "--- $f (tail)"; tail -n 15 "$f"; done; exit 1; }

# A UDP port nothing listens on (python3 asks the kernel; without it, a random high port).
free_port() {
  python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 30000))
}

# Waits until FILE has at least N lines matching PATTERN (processes start slowly on a busy machine).
wait_log() { # file pattern n timeout_s
  local i
  for ((i = 0; i < $4 * 10; i++)); do
    [ "$(grep -c -- "$2" "$1" 2>/dev/null || true)" -ge "$3" ] && return 0
    sleep 0.1
  done
  fail "no '$2' (x$3) in $1 after $4 s"
}
SERVER_STARTS=0
start_server() { # port out
  "$BIN/udp-server" --listen "127.0.0.1:$1" --out "$2" 2>>"$W/server-$PASS.err" & SERVER=$!; PIDS+=("$SERVER")
  SERVER_STARTS=$((SERVER_STARTS + 1))
  wait_log "$W/server-$PASS.err" "listening on" "$SERVER_STARTS" 30
}
declare -A AGENT_STARTS
start_agent() { # name server_port
  "$BIN/udp-agent" --server "127.0.0.1:$2" --id "$1" --state "$W/state-$1" --glob "$W/logs-$1/*.log" \
    --rotate-grace-ms 300 2>>"$W/agent-$1-$PASS.err" & eval "AGENT_$1=\$!"; PIDS+=("$!")
  AGENT_STARTS[$1]=$(( ${AGENT_STARTS[$1]:-0} + 1 ))
  wait_log "$W/agent-$1-$PASS.err" "shipping" "${AGENT_STARTS[$1]}" 30
}

# Expected output of a source path: its rotated generations oldest first, then the live file.
expected() { # dir base
  local d="$1" b="$2" files=() i
  for i in 9 8 7 6 5 4 3 2 1; do [ -f "$d/$b.$i" ] && files+=("$d/$b.$i"); done
  files+=("$d/$b")
  cat "${files[@]}"
}

wait_match() { # agent dir-out dir-logs base timeout_s
  local a="$1" out="$2" logs="$3" b="$4" t="$5" i
  for ((i = 0; i < t * 10; i++)); do
    if [ -f "$out/$a$logs/$b" ] && cmp -s <(expected "$logs" "$b") "$out/$a$logs/$b"; then return 0; fi
    sleep 0.1
  done
  return 1
}

run_pass() { # name port_for_agents server_port
  local pass="$1" aport="$2" sport="$3"
  local out="$W/out-$pass"
  PASS="$pass"; SERVER_STARTS=0; AGENT_STARTS=()
  mkdir -p "$out"
  for a in web1 web2; do rm -rf "$W/logs-$a" "$W/state-$a"; mkdir -p "$W/logs-$a"; done
  start_server "$sport" "$out"
  start_agent web1 "$aport"
  start_agent web2 "$aport"
  # web1: a log rotated twice by rename+create, and a plain one; web2: a plain one. Rotations happen only
  # while the agent runs: a file created and rotated away while no agent runs is, by design, not found.
  gen() { "$BIN/loggen" --out "$1" --count "$2" --first "$3" --rate "$4" --seed 1 --append --quiet; }
  local L1="$W/logs-web1" L2="$W/logs-web2"
  gen "$L1/plain.log" 20000 1 2000 & G2=$!
  gen "$L2/api.log" 20000 1 2000 & G3=$!
  gen "$L1/app.log" 10000 1 2000 & G1=$!
  wait_log "$W/agent-web1-$pass.err" "app.log #1: stream opened" 1 30
  sleep 0.5
  say "$pass: kill -9 agent web1 mid-transfer, restart it"
  kill -9 "$AGENT_web1"; wait "$AGENT_web1" 2>/dev/null || true
  start_agent web1 "$aport"
  wait "$G1"
  mv "$L1/app.log" "$L1/app.log.1"
  gen "$L1/app.log" 10000 10001 2000 & G1=$!
  sleep 1
  say "$pass: kill -9 server mid-transfer, restart it"
  kill -9 "$SERVER"; wait "$SERVER" 2>/dev/null || true
  start_server "$sport" "$out"
  wait "$G1"
  mv "$L1/app.log.1" "$L1/app.log.2"; mv "$L1/app.log" "$L1/app.log.1"
  gen "$L1/app.log" 10000 20001 4000
  wait "$G2" "$G3"
  for spec in "web1 app.log" "web1 plain.log" "web2 api.log"; do
    set -- $spec
    if ! wait_match "$1" "$out" "$W/logs-$1" "$2" 60; then
      "$BIN/logcheck" "$out/$1$W/logs-$1/$2" || true
      fail "$pass: $1 $2 does not match its source"
    fi
    "$BIN/logcheck" --expect "$([ "$2" = app.log ] && echo 30000 || echo 20000)" "$out/$1$W/logs-$1/$2" >/dev/null \
      || fail "$pass: logcheck found missing or duplicated lines in $1 $2"
    say "$pass: $1 $2 matches its source byte for byte ($(wc -c < "$out/$1$W/logs-$1/$2") bytes)"
  done
  say "$pass: SIGTERM agents and server; each must exit 0"
  kill -TERM "$AGENT_web1" "$AGENT_web2"
  wait "$AGENT_web1" || fail "$pass: agent web1 exited non-zero on SIGTERM"
  wait "$AGENT_web2" || fail "$pass: agent web2 exited non-zero on SIGTERM"
  kill -TERM "$SERVER"
  wait "$SERVER" || fail "$pass: server exited non-zero on SIGTERM"
}

SPORT=$(free_port)
run_pass direct "$SPORT" "$SPORT"

if [ -x "$BIN/udp-chaos" ]; then
  SPORT=$(free_port); CPORT=$(free_port)
  "$BIN/udp-chaos" --listen "127.0.0.1:$CPORT" --upstream "127.0.0.1:$SPORT" --seed 7 --loss 0.05 --dup 0.02 \
    --reorder 0.05 --jitter-ms 2 >"$W/chaos.err" 2>&1 & CHAOS=$!; PIDS+=("$CHAOS")
  run_pass chaos "$CPORT" "$SPORT"
  kill -TERM "$CHAOS"; wait "$CHAOS" 2>/dev/null || true
  say "chaos proxy summary:"; cat "$W/chaos.err"
fi
say "PASS"
