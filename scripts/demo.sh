#!/usr/bin/env bash
# make demo: a server and an agent on generated logs; one log is rotated (rename+create) mid-way; the
# copies on the server are then compared with the sources, byte for byte and by line number.
#
# Order matters on a busy machine: the log files exist and the server has opened a stream for each (so the
# agent is connected and has scanned them) before any line is written. Otherwise the writer can rotate
# app.log to app.log.1 (outside the glob) before the agent's first scan, and those lines are never shipped.
# No `set -e`: every step is checked, so a failure still prints its diagnosis (what differs, log tails).
set -uo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
BIN="$ROOT/bin"
D="$ROOT/demo-run"
# Bounded waits, in seconds: generous, since a loaded 2-core machine starts a JVM slowly.
READY_TIMEOUT_S=60
COPY_TIMEOUT_S=120
rm -rf "$D"
mkdir -p "$D/logs"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }
OUT="$D/received/demo$D/logs"
APP_SOURCES=("$D/logs/app.log.1" "$D/logs/app.log")

# What the copies look like next to their sources, line by line, and the last lines of both logs.
report() {
  printf '%-10s %12s %12s  %s\n' file "source bytes" "copy bytes" verdict
  local src_app
  src_app=$(cat "${APP_SOURCES[@]}" 2>/dev/null | wc -c)
  printf '%-10s %12s %12s  %s\n' app.log "$src_app" "$(wc -c < "$OUT/app.log" 2>/dev/null || echo missing)" \
    "$(cmp -s <(cat "${APP_SOURCES[@]}" 2>/dev/null) "$OUT/app.log" 2>/dev/null \
       && echo 'identical (both generations, in order)' || echo DIFFERENT)"
  printf '%-10s %12s %12s  %s\n' web.log "$(wc -c < "$D/logs/web.log" 2>/dev/null || echo missing)" \
    "$(wc -c < "$OUT/web.log" 2>/dev/null || echo missing)" \
    "$(cmp -s "$D/logs/web.log" "$OUT/web.log" 2>/dev/null && echo identical || echo DIFFERENT)"
  echo
  echo "line check of the copy of app.log (bin/logcheck --expect 20000):"
  "$BIN/logcheck" --expect 20000 "$OUT/app.log" 2>&1 | sed 's/^/  /'
  echo "line check of the copy of web.log (bin/logcheck --expect 10000):"
  "$BIN/logcheck" --expect 10000 "$OUT/web.log" 2>&1 | sed 's/^/  /'
}
tails() {
  echo
  echo "logs: $D/server.log, $D/agent.log"
  tail -n 12 "$D/server.log" 2>/dev/null | sed 's/^/  server: /'
  tail -n 12 "$D/agent.log" 2>/dev/null | sed 's/^/  agent:  /'
}
die() {
  echo
  echo "demo: FAIL: $*"
  [ "${REPORTED:-0}" = 1 ] || report
  tails
  exit 1
}
# Waits until FILE has a line matching the extended regex PATTERN, or the process PID has died, or time is up.
wait_log() { # file pattern pid timeout_s what
  local i
  for ((i = 0; i < $4 * 10; i++)); do
    grep -Eq -- "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || die "$5: the process exited before it was ready"
    sleep 0.1
  done
  die "$5: not ready after $4 s (no line matching '$2' in $1)"
}
# A UDP port nothing listens on (python3 asks the kernel; without it, a random high port).
free_port() {
  python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 30000))
}
PORT=$(free_port)

step "server: bin/udp-server --listen 127.0.0.1:$PORT --out $D/received"
"$BIN/udp-server" --listen "127.0.0.1:$PORT" --out "$D/received" 2>"$D/server.log" & PIDS+=($!)
SERVER=$!
wait_log "$D/server.log" "listening on" "$SERVER" "$READY_TIMEOUT_S" "server"

# Empty files first: the agent opens a stream for each at its first scan, which the server logs.
: > "$D/logs/app.log"
: > "$D/logs/web.log"
step "agent:  bin/udp-agent --server 127.0.0.1:$PORT --id demo --state $D/state --glob '$D/logs/*.log'"
"$BIN/udp-agent" --server "127.0.0.1:$PORT" --id demo --state "$D/state" --glob "$D/logs/*.log" \
  --rotate-grace-ms 500 2>"$D/agent.log" & PIDS+=($!)
AGENT=$!
echo "waiting until the agent is connected and the server has opened app.log and web.log"
wait_log "$D/server.log" "demo .*/app\.log #[0-9]+: stream opened" "$AGENT" "$READY_TIMEOUT_S" "agent (app.log)"
wait_log "$D/server.log" "demo .*/web\.log #[0-9]+: stream opened" "$AGENT" "$READY_TIMEOUT_S" "agent (web.log)"

step "writing numbered access-log lines: app.log (20,000 lines, rotated after 10,000) and web.log (10,000)"
"$BIN/loggen" --out "$D/logs/web.log" --count 10000 --rate 5000 --seed 2 --append --quiet &
W2=$!
"$BIN/loggen" --out "$D/logs/app.log" --count 10000 --rate 5000 --seed 1 --append --quiet || die "loggen app.log failed"
echo "rotating: mv app.log app.log.1, then a new app.log"
mv "$D/logs/app.log" "$D/logs/app.log.1" || die "cannot rotate app.log"
"$BIN/loggen" --out "$D/logs/app.log" --count 10000 --first 10001 --rate 5000 --seed 1 --append --quiet \
  || die "loggen app.log (after rotation) failed"
wait "$W2" || die "loggen web.log failed"

step "waiting for the copies under $D/received/demo/... (at most $COPY_TIMEOUT_S s)"
ok=0
for ((i = 0; i < COPY_TIMEOUT_S * 10; i++)); do
  if [ -f "$OUT/app.log" ] && [ -f "$OUT/web.log" ] \
     && cmp -s <(cat "${APP_SOURCES[@]}") "$OUT/app.log" && cmp -s "$D/logs/web.log" "$OUT/web.log"; then
    ok=1; break
  fi
  kill -0 "$AGENT" 2>/dev/null || die "the agent exited"
  kill -0 "$SERVER" 2>/dev/null || die "the server exited"
  sleep 0.1
done

step "results"
report
REPORTED=1
[ "$ok" = 1 ] || die "the copies do not match their sources after $COPY_TIMEOUT_S s"

step "stopping (SIGTERM): the agent waits for acknowledgements, the server makes everything durable"
kill -TERM "$AGENT"; wait "$AGENT" && echo "agent exited 0" || die "the agent did not stop cleanly"
kill -TERM "$SERVER"; wait "$SERVER" && echo "server exited 0" || die "the server did not stop cleanly"
PIDS=()
tails
echo
echo "demo: PASS: every line arrived once, in order, across a rotation"
