#!/usr/bin/env bash
# Benchmarks: bash bench/run.sh quick|full  (make bench / make bench-full)
# Runs the baselines (raw UDP, plain TCP copy) and prints one table. Works from any directory.
set -euo pipefail
MODE="${1:-quick}"
case "$MODE" in
  quick|full) ;;
  *) echo "usage: bench/run.sh quick|full" >&2; exit 2 ;;
esac
BENCH="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
MAIN_JAR="$ROOT/target/tailwire.jar"
BENCH_JAR="$BENCH/target/benchmarks.jar"
if [ ! -f "$MAIN_JAR" ]; then
  echo "bench: $MAIN_JAR not found; run 'make build' first" >&2
  exit 2
fi
# Rebuild the benchmark jar when it is missing or older than its sources or the main jar.
if [ ! -f "$BENCH_JAR" ] || [ -n "$(find "$BENCH/src" "$BENCH/pom.xml" "$MAIN_JAR" -newer "$BENCH_JAR" -print -quit)" ]; then
  mvn -B -q -f "$BENCH/pom.xml" package >&2
fi
CP="$BENCH_JAR:$MAIN_JAR"
JAVA=(java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED ${TAILWIRE_BENCH_JAVA_OPTS:-} -cp "$CP")
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
ROWS=()

# RESULT lines are "RESULT name k=v k=v ...": pick one value.
val() { sed -n "s/.*RESULT .* $2=\([^ ]*\).*/\1/p" "$1" | tail -1; }

row() { ROWS+=("$(printf '%-34s %12s %14s %s' "$1" "$2" "$3" "$4")"); }

if [ "$MODE" = quick ]; then
  # Clean runs on ~1 GiB (on less, JVM start-up and JIT warm-up on 2 cores are most of the clock: 250 MB
  # gave 60 MB/s where 1 GiB gives ~120); the slow loss runs on ~250 MB, beside a clean run of the same.
  UDP_BYTES=1g; TCP_BYTES=256m; UDP_SIZES="1472 65507"; E2E_LINES=5100000; LOSS_LINES=1200000
else
  UDP_BYTES=2g; TCP_BYTES=2g; UDP_SIZES="512 1472 8192 65507"; E2E_LINES=5100000; LOSS_LINES=5100000 # ~1 GiB
fi
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "== load average: $LOAD_START on $(nproc) cores" >&2

# Realistic log lines (loggen, 100-300 bytes each), generated once before any clock starts and kept
# under bench/target/data so repeated runs reuse them.
DATA_DIR="$BENCH/target/data"
dataset() { # lines -> path of a file of that many loggen lines (seed 1), generated once
  local f="$DATA_DIR/lines-$1.log"
  if [ ! -s "$f" ]; then
    mkdir -p "$DATA_DIR"
    echo "== generating $1 log lines into $f" >&2
    "$ROOT/bin/loggen" --rate 0 --count "$1" --seed 1 --out "$f.tmp" --quiet >&2
    mv "$f.tmp" "$f"
  fi
  echo "$f"
}
DATA="$(dataset "$E2E_LINES")"
LOSS_DATA="$(dataset "$LOSS_LINES")"
DATA_BYTES=$(stat -c %s "$DATA")

# --- baselines -----------------------------------------------------------------------------------------
for size in $UDP_SIZES; do
  f="$OUT/udp-$size"
  echo "== raw UDP, $size-byte datagrams, $UDP_BYTES" >&2
  "${JAVA[@]}" io.tailwire.bench.RawUdpBaseline --size "$size" --bytes "$UDP_BYTES" | tee "$f" >&2
  row "raw UDP $size B (sent)" "$(val "$f" sent_MBps)" "$(val "$f" sent_dps)" ""
  row "raw UDP $size B (received)" "$(val "$f" recv_MBps)" "$(val "$f" recv_dps)" "loss $(val "$f" loss_pct)%"
done

f="$OUT/tcp"
echo "== TCP copy, 64 KiB read/write, $TCP_BYTES" >&2
"${JAVA[@]}" io.tailwire.bench.TcpCopyBaseline --bytes "$TCP_BYTES" | tee "$f" >&2
row "TCP copy (read/write)" "$(val "$f" MBps)" "-" "$(val "$f" secs) s"
f="$OUT/tcp-data"
echo "== TCP copy of the log-line data + fsync at the end" >&2
"${JAVA[@]}" io.tailwire.bench.TcpCopyBaseline --src "$DATA" --fsync true | tee "$f" >&2
TCP_DATA=$(val "$f" MBps)
row "TCP copy of log data + fsync" "$TCP_DATA" "-" "$(val "$f" secs) s"
if [ "$MODE" = full ]; then
  f="$OUT/tcp-zc"
  echo "== TCP copy, transferTo, $TCP_BYTES" >&2
  "${JAVA[@]}" io.tailwire.bench.TcpCopyBaseline --bytes "$TCP_BYTES" --zero-copy true | tee "$f" >&2
  row "TCP copy (transferTo)" "$(val "$f" MBps)" "-" "$(val "$f" secs) s"
fi

# --- Tailwire end to end --------------------------------------------------------------------------------
# Real udp-agent -> udp-server processes on loopback, optionally through udp-chaos (bench/e2e.sh says
# exactly what is timed). Raw UDP of the same datagram size ran just above, in the same run.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
e2e() { # name file dgram loss reorder [server args] [agent args]; VIA_PROXY=1 in the environment: via udp-chaos
  local f="$OUT/e2e-$1"
  echo "== tailwire e2e $1: $(($(stat -c %s "$2") >> 20)) MiB, datagram $3, loss $4, reorder $5 ${6:-} ${7:-}" >&2
  if SERVER_ARGS="${6:-}" AGENT_ARGS="${7:-}" bash "$BENCH/e2e.sh" "$2" "$3" "$4" "$5" | tee "$f" >&2; then :
  else echo "RESULT failed MBps=0" >>"$f"; fi
}
E2E_NOTE="cpu s/GB agent/server"
E2E_RUNS="clean-1472 clean-65507"
e2e clean-1472 "$DATA" 1472 0 0
e2e clean-65507 "$DATA" 65507 0 0
if [ "$MODE" = full ]; then
  # The same clean run with 64 MiB of connection and send buffer instead of 4 MiB: how much of the clean
  # figure is the durable window (buffer / (fsync latency + RTT)) rather than packet handling.
  e2e buf64m-1472 "$DATA" 1472 0 0 "--connection-buffer 67108864" "--send-buffer 67108864"
  E2E_RUNS="$E2E_RUNS buf64m-1472"
  CLEAN=$(val "$OUT/e2e-clean-1472" MBps)
else
  e2e lossbase-1472 "$LOSS_DATA" 1472 0 0
  E2E_RUNS="$E2E_RUNS lossbase-1472"
  CLEAN=$(val "$OUT/e2e-lossbase-1472" MBps)
fi
# Lossless but through udp-chaos: the proxy's own cost (one more process receiving and sending every datagram
# on the same 2 cores), the ceiling of the loss runs below whatever the protocol does.
VIA_PROXY=1 e2e proxy0-1472 "$LOSS_DATA" 1472 0 0
e2e loss1-1472 "$LOSS_DATA" 1472 0.01 0.01
e2e loss5-1472 "$LOSS_DATA" 1472 0.05 0.05
# Raw UDP at 1472 B once more, after the Tailwire runs: it swings with the machine's load (113k-163k
# datagrams/s in two runs an hour apart), so the ratios use the better of the two.
f="$OUT/udp-1472-again"
echo "== raw UDP, 1472-byte datagrams, $UDP_BYTES, again" >&2
"${JAVA[@]}" io.tailwire.bench.RawUdpBaseline --size 1472 --bytes "$UDP_BYTES" | tee "$f" >&2
row "raw UDP 1472 B (received, again)" "$(val "$f" recv_MBps)" "$(val "$f" recv_dps)" "loss $(val "$f" loss_pct)%"
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 > b + 0) ? a : b }'; }
for r in $E2E_RUNS proxy0-1472 loss1-1472 loss5-1472; do
  f="$OUT/e2e-$r"; d=${r##*-}
  raw=$(val "$OUT/udp-$d" recv_MBps)
  [ "$d" = 1472 ] && raw=$(best "$raw" "$(val "$OUT/udp-1472-again" recv_MBps)")
  note="sha256 $(val "$f" sha_ok); cpu s/GB agent $(val "$f" agent_cpu_per_GB) server $(val "$f" server_cpu_per_GB); /rawUDP $(ratio "$(val "$f" MBps)" "$raw"); /TCP $(ratio "$(val "$f" MBps)" "$TCP_DATA")"
  case $r in loss*|proxy*) note="$note; /lossless $(ratio "$(val "$f" MBps)" "$CLEAN")" ;; esac
  case $r in loss[0-9]*) note="$note; /proxy0 $(ratio "$(val "$f" MBps)" "$(val "$OUT/e2e-proxy0-1472" MBps)")" ;; esac
  row "tailwire e2e $r" "$(val "$f" MBps)" "-" "$note"
done

# --- latency (in-process runners, coordinated-omission corrected) -----------------------------------------
LAT_ROWS=()
if [ "$MODE" = quick ]; then LAT_RATES="1000 10000"; LAT_SECS=8; else LAT_RATES="1000 10000 100000"; LAT_SECS=20; fi
for rate in $LAT_RATES; do
  f="$OUT/lat-$rate"
  echo "== latency at $rate lines/s, $LAT_SECS s" >&2
  "${JAVA[@]}" io.tailwire.bench.LatencyBench --rate "$rate" --seconds "$LAT_SECS" --warmup 3 | tee "$f" >&2 \
    || echo "RESULT failed" >"$f"
  # The writer thread's own lag: the machine's scheduling floor under the other two rows (p90, p99.9: -).
  LAT_ROWS+=("$(printf '%-8s %-8s %9s %9s %9s %9s %9s' "$rate" "written" "$(val "$f" wr_p50_us)" - \
    "$(val "$f" wr_p99_us)" - "$(val "$f" wr_max_us)")")
  for k in vis dur; do
    LAT_ROWS+=("$(printf '%-8s %-8s %9s %9s %9s %9s %9s' "$rate" "$k" "$(val "$f" ${k}_p50_us)" "$(val "$f" ${k}_p90_us)" \
      "$(val "$f" ${k}_p99_us)" "$(val "$f" ${k}_p999_us)" "$(val "$f" ${k}_max_us)")")
  done
done

# --- many agents against one server (server in its own process; agents as UdpAgent runners in one JVM) ---
MANY_ROWS=()
if [ "$MODE" = quick ]; then MANY_NS="1 10 100"; MANY_TOTAL=$((32 << 20)); else MANY_NS="1 10 100 1000"; MANY_TOTAL=$((256 << 20)); fi
many() { # n bytes-per-agent label
  local f="$OUT/many-$3"
  echo "== $1 agents x $2 bytes ($3)" >&2
  "${JAVA[@]}" io.tailwire.bench.ManyAgents --agents "$1" --bytes-per-agent "$2" --timeout 600 | tee "$f" >&2 \
    || echo "RESULT failed complete=no" >"$f"
  MANY_ROWS+=("$(printf '%-7s %-14s %9s %9s %11s %9s %9s %12s %s' "$1" "$3" "$(val "$f" MBps)" "$(val "$f" fairness)" \
    "$(val "$f" streaming_s)" "$(val "$f" first_s)" "$(val "$f" last_s)" "$(val "$f" heap_per_conn_B)" \
    "$(val "$f" complete)")")
}
for n in $MANY_NS; do many "$n" $((MANY_TOTAL / n)) "transfer"; done
last_n=${MANY_NS##* }
many "$last_n" 0 "never-sent"

# --- micro-benchmarks (JMH) -----------------------------------------------------------------------------
# Hot path with -prof gc: ns/op and allocation per operation (gc.alloc.rate.norm, B/op).
# Full: one fork, 3 x 2 s warm-up, 5 x 2 s measured per benchmark (JMH's defaults, 5 forks x 10 x 10 s,
# would take over two hours for these ~20 benchmarks).
if [ "$MODE" = quick ]; then JMH_ARGS=(-wi 2 -i 3 -w 1 -r 1); else JMH_ARGS=(-f 1 -wi 3 -i 5 -w 2 -r 2); fi
echo "== JMH hot path (-prof gc)" >&2
"${JAVA[@]}" org.openjdk.jmh.Main 'WireBenchmark|SackBenchmark|EngineBenchmark|Crc32c' "${JMH_ARGS[@]}" -prof gc \
  -rf text -rff "$OUT/jmh.txt" >&2
JMH_TABLE="$(grep -E '^Benchmark|ns/op|ops/|alloc.rate.norm' "$OUT/jmh.txt" || true)"

echo
echo "Tailwire benchmarks ($MODE) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)), $(java -version 2>&1 | head -1)"
echo "load average at start: $LOAD_START; at end: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: compare ratios within one run)"
printf '%-34s %12s %14s %s\n' "run" "MB/s" "datagrams/s" "notes"
printf '%s\n' "${ROWS[@]}"
echo
echo "append -> visible (vis) / durable (dur) latency, microseconds, from intended append time"
printf '%-8s %-8s %9s %9s %9s %9s %9s\n' "lines/s" "what" p50 p90 p99 p99.9 max
printf '%s\n' "${LAT_ROWS[@]}"
echo
echo "many agents (one load-generating thread): aggregate MB/s, fairness = min/max of per-agent bytes from"
echo "all streams flowing (streaming_s) to the first completion, first/last completion (s), server heap per"
echo "connection after GC (B), all complete"
printf '%-7s %-14s %9s %9s %11s %9s %9s %12s %s\n' agents mode MB/s fairness streaming_s first_s last_s heap/conn complete
printf '%s\n' "${MANY_ROWS[@]}"
if [ -n "${JMH_TABLE:-}" ]; then
  echo
  echo "$JMH_TABLE"
fi
