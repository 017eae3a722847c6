#!/bin/sh
# What the cluster's settings cost a migration (issue 20 item 4; docs/methodology.md): one lab sitting
# per setting — the lab started with it, scenarios/k8s-settings.yaml run against it, the lab stopped —
# then a table of each anatomy part's median per setting and strategy (bench/k8s-settings-table.ts).
# Root, and the host to itself (the lab's fixed names): run it under the shared host lock, one
# setting per hold if others wait (SETTINGS="stock min-sync-1" sh bench/k8s-settings.sh).
#   SETTINGS   which settings, of: stock min-sync-1 min-sync-100 evented-pleg nftables probe-10s
#   OUT        where the runs go (default /tmp/migbench-k8s-settings)
set -eu
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/migbench-k8s-settings}
settings=${SETTINGS:-stock min-sync-1 min-sync-100 evented-pleg nftables probe-10s}
mkdir -p "$out"
for setting in $settings; do
  scenario=scenarios/k8s-settings.yaml
  case $setting in
    stock) opts= ;;
    min-sync-1) opts="--proxy-min-sync-ms 1" ;;
    min-sync-100) opts="--proxy-min-sync-ms 100" ;;
    evented-pleg) opts="--evented-pleg" ;;
    nftables) opts="--proxy-mode nftables" ;;
    probe-10s) opts= scenario=scenarios/k8s-settings-probe.yaml ;;
    *) echo "bench/k8s-settings.sh: unknown setting $setting (stock min-sync-1 min-sync-100 evented-pleg nftables probe-10s)" >&2; exit 2 ;;
  esac
  echo "== $setting: migbench cluster start $opts" >&2
  # shellcheck disable=SC2086
  if ! sh bin/migbench cluster start $opts >"$out/$setting.cluster.log" 2>&1; then
    echo "   skipped: the lab did not start with it ($(tail -1 "$out/$setting.cluster.log"))" >&2
    sh bin/migbench cluster stop >/dev/null 2>&1 || true
    continue
  fi
  rm -rf "${out:?}/$setting"
  sh bin/migbench run "$scenario" --out "$out/$setting" --quiet || echo "   $setting: some trials failed (see $out/$setting/trials.csv)" >&2
  sh bin/migbench cluster stop >/dev/null
done
node_modules/.bin/node bench/k8s-settings-table.ts "$out"
