#!/bin/sh
# Runs bench/fresh-probe-check.yaml under the shared host lock with the independent probe beside it,
# then prints both outages per trial. Usage: sh bench/fresh-probe-check.sh OUT_DIR (root).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
out=$1
rm -rf "$out" && mkdir -p "$out"
flock /tmp/migbench-host.lock sh -c "
  python3 '$here/bench/fresh-probe-check.py' probe '$out/run' '$out/independent.csv' & probe=\$!
  '$here/node_modules/.bin/node' '$here/src/cli.ts' run '$here/bench/fresh-probe-check.yaml' --out '$out/run' --quiet || true
  kill -TERM \$probe; wait \$probe || true
"
python3 "$here/bench/fresh-probe-check.py" judge "$out/run" "$out/independent.csv" | tee "$out/judged.csv"
