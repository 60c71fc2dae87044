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
JAVA=(java ${TAILWIRE_BENCH_JAVA_OPTS:-} -cp "$CP")
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
ROWS=()

# RESULT lines are "RESULT name k=v k=v ...": pick one value.
val() { sed -n "s/.*RESULT .* $2=\([^ ]*\).*/\1/p" "$1" | tail -1; }

row() { ROWS+=("$(printf '%-34s %12s %14s %s' "$1" "$2" "$3" "$4")"); }

if [ "$MODE" = quick ]; then
  UDP_BYTES=256m; TCP_BYTES=256m; UDP_SIZES="1472"
else
  UDP_BYTES=2g; TCP_BYTES=2g; UDP_SIZES="512 1472 8192"
fi

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
if [ "$MODE" = full ]; then
  f="$OUT/tcp-zc"
  echo "== TCP copy, transferTo, $TCP_BYTES" >&2
  "${JAVA[@]}" io.tailwire.bench.TcpCopyBaseline --bytes "$TCP_BYTES" --zero-copy true | tee "$f" >&2
  row "TCP copy (transferTo)" "$(val "$f" MBps)" "-" "$(val "$f" secs) s"
fi

# --- Tailwire end to end --------------------------------------------------------------------------------
# >>> LEAD: end-to-end Tailwire runs go here. For each scenario (clean link; bin/udp-chaos with loss/reorder;
# >>> rotation under load): start server and agent, bin/loggen --rate 0 --count N into the watched file,
# >>> wait until the server copy has N lines (bin/logcheck --expect N), time it, then add a row, e.g.
# >>>   row "tailwire e2e clean" "$MBPS" "$DPS" "$NOTE"
# >>> Keep every run's output in "$OUT" and parse a RESULT line the same way as the baselines.

# --- micro-benchmarks (JMH) -----------------------------------------------------------------------------
if [ "$MODE" = full ]; then
  echo "== JMH" >&2
  "${JAVA[@]}" org.openjdk.jmh.Main -rf text -rff "$OUT/jmh.txt" >&2
  JMH_TABLE="$(cat "$OUT/jmh.txt")"
fi

echo
echo "Tailwire benchmarks ($MODE) on $(nproc) cores, $(java -version 2>&1 | head -1)"
printf '%-34s %12s %14s %s\n' "run" "MB/s" "datagrams/s" "notes"
printf '%s\n' "${ROWS[@]}"
if [ -n "${JMH_TABLE:-}" ]; then
  echo
  echo "$JMH_TABLE"
fi
