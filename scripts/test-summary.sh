#!/usr/bin/env bash
# Totals of the Surefire reports of the last build, as one plain closing line (mvn -q prints none on success).
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
files=(target/surefire-reports/*.txt)
[ ${#files[@]} -gt 0 ] || { echo "test-summary: no Surefire reports found" >&2; exit 1; }
grep -h "^Tests run:" "${files[@]}" | awk -F'[:,]' '
  { run += $2; fail += $4; err += $6; skip += $8 }
  END { printf "%d passed, %d failed, %d skipped\n", run - fail - err - skip, fail + err, skip; if (run == 0) exit 1 }'
