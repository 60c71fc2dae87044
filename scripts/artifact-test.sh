#!/usr/bin/env bash
# The one artifact and its launchers, as an operator uses them (issue 18 item 1): java -jar tailwire.jar
# COMMAND, and bin/udp-agent / bin/udp-server run from another directory, through a symlink and copied
# elsewhere. (e2e.sh then ships real data through the same launchers.) Runs after `mvn package`.
set -uo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
JAR="$ROOT/target/tailwire.jar"
W="$(mktemp -d "${TMPDIR:-/tmp}/tailwire-artifact.XXXXXX")"
trap 'rm -rf "$W"' EXIT
FAILS=0
CHECKS=0
check() { # description expected_exit expected_output_regex command...
  local what="$1" want_rc="$2" want_out="$3"; shift 3
  local out rc
  CHECKS=$((CHECKS + 1))
  out="$(cd "$W" && "$@" 2>&1)"; rc=$?
  if [ "$rc" != "$want_rc" ] || ! grep -Eq -- "$want_out" <<<"$out"; then
    echo "artifact: FAIL: $what: exit $rc (want $want_rc), output:"; sed 's/^/    /' <<<"$out" | head -5
    FAILS=$((FAILS + 1))
  fi
}
[ -f "$JAR" ] || { echo "artifact: $JAR not found (run mvn package)"; exit 1; }
V="$(unzip -p "$JAR" META-INF/maven/io.tailwire/tailwire/pom.properties | sed -n 's/^version=//p')"

check "java -jar version" 0 "^tailwire $V\$" java -jar "$JAR" version
check "java -jar --version" 0 "^tailwire $V\$" java -jar "$JAR" --version
check "java -jar --help lists the commands" 0 "agent .*server|server" java -jar "$JAR" --help
check "java -jar without a command" 2 "give a command" java -jar "$JAR"
check "java -jar unknown command" 2 "unknown command 'nope'" java -jar "$JAR" nope
check "java -jar server --help" 0 "--listen" java -jar "$JAR" server --help
check "java -jar agent bad flag" 2 "udp-agent" java -jar "$JAR" agent --no-such-flag
check "bin/udp-server from another directory" 0 "udp-server $V" "$ROOT/bin/udp-server" --version
ln -s "$ROOT/bin/udp-agent" "$W/linked-agent"
check "bin/udp-agent through a symlink" 0 "udp-agent $V" "$W/linked-agent" --version
mkdir -p "$W/usr/bin" && cp "$ROOT/bin/udp-server" "$W/usr/bin/udp-server"
check "bin/udp-server copied elsewhere, TAILWIRE_JAR set" 0 "udp-server $V" env TAILWIRE_JAR="$JAR" "$W/usr/bin/udp-server" --version
check "bin/udp-server copied elsewhere, no jar to find" 2 "tailwire.jar not found; set TAILWIRE_JAR" "$W/usr/bin/udp-server" --version
mkdir -p "$W/opt/bin" "$W/opt/lib" && cp "$ROOT/bin/udp-agent" "$W/opt/bin/" && cp "$JAR" "$W/opt/lib/"
check "bin/udp-agent in an install tree (bin/ beside lib/tailwire.jar)" 0 "udp-agent $V" "$W/opt/bin/udp-agent" --version

if [ "$FAILS" -ne 0 ]; then echo "artifact: $FAILS check(s) failed"; exit 1; fi
echo "artifact: PASS ($CHECKS checks)"
