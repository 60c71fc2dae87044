#!/usr/bin/env bash
# make demo: a server and an agent on generated logs; one log is rotated (rename+create) mid-way; the
# copies on the server are then compared with the sources, byte for byte and by line number.
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
BIN="$ROOT/bin"
D="$ROOT/demo-run"
rm -rf "$D"
mkdir -p "$D/logs"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }
# A UDP port nothing listens on (python3 asks the kernel; without it, a random high port).
free_port() {
  python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 30000))
}
PORT=$(free_port)

step "server: bin/udp-server --listen 127.0.0.1:$PORT --out $D/received"
"$BIN/udp-server" --listen "127.0.0.1:$PORT" --out "$D/received" 2>"$D/server.log" & PIDS+=($!)
SERVER=$!
step "agent:  bin/udp-agent --server 127.0.0.1:$PORT --id demo --state $D/state --glob '$D/logs/*.log'"
"$BIN/udp-agent" --server "127.0.0.1:$PORT" --id demo --state "$D/state" --glob "$D/logs/*.log" \
  --rotate-grace-ms 500 2>"$D/agent.log" & PIDS+=($!)
AGENT=$!

step "writing numbered access-log lines: app.log (20,000 lines, rotated after 10,000) and web.log (10,000)"
"$BIN/loggen" --out "$D/logs/web.log" --count 10000 --rate 5000 --seed 2 --quiet &
W2=$!
"$BIN/loggen" --out "$D/logs/app.log" --count 10000 --rate 5000 --seed 1 --quiet
echo "rotating: mv app.log app.log.1, then a new app.log"
mv "$D/logs/app.log" "$D/logs/app.log.1"
"$BIN/loggen" --out "$D/logs/app.log" --count 10000 --first 10001 --rate 5000 --seed 1 --append --quiet
wait "$W2"

OUT="$D/received/demo$D/logs"
step "waiting for the copies under $D/received/demo/..."
ok=0
for _ in $(seq 1 300); do
  if [ -f "$OUT/app.log" ] && [ -f "$OUT/web.log" ] \
     && cmp -s <(cat "$D/logs/app.log.1" "$D/logs/app.log") "$OUT/app.log" && cmp -s "$D/logs/web.log" "$OUT/web.log"; then
    ok=1; break
  fi
  sleep 0.1
done

step "results"
printf '%-10s %12s %12s  %s\n' file "source bytes" "copy bytes" verdict
src_app=$(cat "$D/logs/app.log.1" "$D/logs/app.log" | wc -c)
printf '%-10s %12s %12s  %s\n' app.log "$src_app" "$(wc -c < "$OUT/app.log" 2>/dev/null || echo 0)" \
  "$(cmp -s <(cat "$D/logs/app.log.1" "$D/logs/app.log") "$OUT/app.log" && echo 'identical (both generations, in order)' || echo DIFFERENT)"
printf '%-10s %12s %12s  %s\n' web.log "$(wc -c < "$D/logs/web.log")" "$(wc -c < "$OUT/web.log" 2>/dev/null || echo 0)" \
  "$(cmp -s "$D/logs/web.log" "$OUT/web.log" && echo identical || echo DIFFERENT)"
echo
echo "line check of the copy of app.log (bin/logcheck --expect 20000):"
"$BIN/logcheck" --expect 20000 "$OUT/app.log" | sed 's/^/  /'

step "stopping (SIGTERM): the agent waits for acknowledgements, the server makes everything durable"
kill -TERM "$AGENT"; wait "$AGENT" && echo "agent exited 0"
kill -TERM "$SERVER"; wait "$SERVER" && echo "server exited 0"
PIDS=()
echo
echo "logs: $D/server.log, $D/agent.log"
sed 's/^/  server: /' "$D/server.log" | tail -n 6
sed 's/^/  agent:  /' "$D/agent.log" | tail -n 8
[ "$ok" = 1 ] || { echo "demo: the copies do not match"; exit 1; }
echo
echo "demo: PASS: every line arrived once, in order, across a rotation"
