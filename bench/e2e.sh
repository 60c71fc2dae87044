#!/usr/bin/env bash
# One end-to-end Tailwire throughput run: the real bin/udp-server and bin/udp-agent as separate processes
# on loopback, optionally through bin/udp-chaos, shipping an existing file.
#
#   bench/e2e.sh SRC_FILE DATAGRAM_BYTES [LOSS REORDER]     e.g. bench/e2e.sh /tmp/src.log 1472 0.01 0.01
#   SERVER_ARGS / AGENT_ARGS: extra flags for udp-server / udp-agent (e.g. --connection-buffer, --send-buffer).
#   VIA_PROXY=1: go through udp-chaos even without loss or reordering (what the proxy hop itself costs).
#
# What is measured (prints one "RESULT tailwire-e2e ..." line at the end):
#   t0        just before the agent process is started (JVM start-up is inside the clock);
#   visible   the server's copy reaches the source's size (polled every 5 ms by one python3 process);
#   durable   the server, sent SIGTERM at "visible", has exited: its close() forces every written file
#             (the group-commit writer has been forcing all along; this is the final force);
#   verified  sha256 of source and copy are equal (after the clock, not timed).
# MB/s = source bytes / (durable - t0), 10^6 bytes. CPU seconds are utime+stime from /proc/PID/stat read
# at "visible" (the agent and the server are then killed/stopped), scaled to per GB (10^9 bytes).
set -euo pipefail
SRC="$(readlink -f "$1")"
DGRAM="$2"
LOSS="${3:-0}"
REORDER="${4:-0}"
HERE="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
BIN="$HERE/../bin"
W="$(mktemp -d "${TMPDIR:-/tmp}/tw-e2e.XXXXXX")"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT
TCK=$(getconf CLK_TCK)
cpu() { awk -v t="$TCK" '{printf "%.2f", ($14+$15)/t}' "/proc/$1/stat" 2>/dev/null || echo 0; }
now() { date +%s.%N; }
# A free port: bind to 0 and read it back.
freeport() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# BENCH_JFR=DIR: record both processes with JFR and dump agent.jfr / server.jfr there at "visible".
if [ -n "${BENCH_JFR:-}" ]; then
  mkdir -p "$BENCH_JFR"
  export TAILWIRE_JAVA_OPTS="${TAILWIRE_JAVA_OPTS:-} -XX:StartFlightRecording=name=bench,settings=profile"
fi
SIZE=$(stat -c %s "$SRC")
SPORT=$(freeport)
"$BIN/udp-server" --listen "127.0.0.1:$SPORT" --out "$W/out" --max-datagram "$DGRAM" ${SERVER_ARGS:-} >"$W/server.log" 2>&1 &
SP=$!; PIDS+=("$SP")
for _ in $(seq 200); do grep -q listening "$W/server.log" && break; sleep 0.05; done
TARGET=$SPORT
if [ "$LOSS" != 0 ] || [ "$REORDER" != 0 ] || [ -n "${VIA_PROXY:-}" ]; then
  TARGET=$(freeport)
  "$BIN/udp-chaos" --listen "127.0.0.1:$TARGET" --upstream "127.0.0.1:$SPORT" --seed 1 --loss "$LOSS" \
    --reorder "$REORDER" >"$W/chaos.log" 2>&1 &
  CP=$!; PIDS+=("$CP")
  sleep 1.5
fi
OUTF="$W/out/bench${SRC}"

t0=$(now)
"$BIN/udp-agent" --server "127.0.0.1:$TARGET" --id bench --state "$W/state" --file "$SRC" \
  --max-datagram "$DGRAM" ${AGENT_ARGS:-} >"$W/agent.log" 2>&1 &
AP=$!; PIDS+=("$AP")
# Watch for "visible" from one python process: a shell loop forking stat/date/bc every 10 ms took a
# quarter of this 2-core machine's CPU (perf) and so measured itself.
tv=$(python3 - "$OUTF" "$SIZE" "$AP" "$SP" "$t0" <<'PY'
import os, sys, time
path, size, pids, t0 = sys.argv[1], int(sys.argv[2]), sys.argv[3:5], float(sys.argv[5])
last = time.time()
while True:
    try:
        cur = os.stat(path).st_size
    except FileNotFoundError:
        cur = 0
    if cur >= size:
        print("%.6f" % time.time())
        sys.exit(0)
    for p in pids:
        try:
            with open("/proc/%s/stat" % p) as f:
                dead = f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
        except OSError:
            dead = True
        if dead:
            sys.exit(1)
    if time.time() - last > 5:
        print("  ... %d of %d MiB at %.1f s" % (cur >> 20, size >> 20, time.time() - t0), file=sys.stderr)
        last = time.time()
    time.sleep(0.005)
PY
) || { echo "e2e: a process died; logs:" >&2; for l in "$W"/*.log; do tail -5 "$l" >&2; done; exit 1; }
acpu=$(cpu "$AP"); scpu=$(cpu "$SP"); ccpu=0
[ -n "${CP:-}" ] && ccpu=$(cpu "$CP")
if [ -n "${BENCH_JFR:-}" ]; then
  jcmd "$AP" JFR.dump name=bench filename="$(readlink -f "$BENCH_JFR")/agent.jfr" >/dev/null
  jcmd "$SP" JFR.dump name=bench filename="$(readlink -f "$BENCH_JFR")/server.jfr" >/dev/null
fi
kill -TERM "$SP"
wait "$SP" || true
td=$(now)
{ kill -9 "$AP"; wait "$AP"; } 2>/dev/null || true
grep -q 'all received data is durable' "$W/server.log" || { echo "e2e: server did not report durable stop" >&2; exit 1; }
h1=$(sha256sum "$SRC" | cut -c1-64); h2=$(sha256sum "$OUTF" | cut -c1-64)
ok=no; [ "$h1" = "$h2" ] && ok=yes
if [ -n "${CP:-}" ]; then kill -TERM "$CP" 2>/dev/null; wait "$CP" 2>/dev/null || true; tail -3 "$W/chaos.log" >&2; fi
awk -v s="$SIZE" -v t0="$t0" -v tv="$tv" -v td="$td" -v a="$acpu" -v sv="$scpu" -v c="$ccpu" -v ok="$ok" \
    -v d="$DGRAM" -v l="$LOSS" -v r="$REORDER" 'BEGIN {
  secs = td - t0; vis = tv - t0; gb = s / 1e9;
  printf "tailwire e2e: %d bytes, datagram %d, loss %s reorder %s: visible %.2f s, durable %.2f s, %.1f MB/s; " \
         "cpu agent %.2f s server %.2f s (per GB %.1f / %.1f); sha256 match %s\n", s, d, l, r, vis, secs, s/secs/1e6, a, sv, a/gb, sv/gb, ok;
  printf "RESULT tailwire-e2e bytes=%d dgram=%d loss=%s reorder=%s visible_secs=%.3f secs=%.3f MBps=%.1f agent_cpu=%.2f server_cpu=%.2f chaos_cpu=%.2f agent_cpu_per_GB=%.1f server_cpu_per_GB=%.1f sha_ok=%s\n", \
         s, d, l, r, vis, secs, s/secs/1e6, a, sv, c, a/gb, sv/gb, ok }'
[ "$ok" = yes ]
