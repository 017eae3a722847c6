#!/bin/sh
# What the cluster's settings cost a migration (issue 20 item 4; docs/methodology.md): one lab sitting
# per setting — the lab started with it, a scenario run against it, the lab stopped — then a table of
# each anatomy part's median per setting and strategy (bench/k8s-settings-table.ts).
# Root, and the host to itself (the lab's fixed names): run it under the shared host lock, one
# setting per hold if others wait (SETTINGS="stock min-sync-1" sh bench/k8s-settings.sh).
#   SETTINGS     which settings, of: stock min-sync-1 min-sync-100 evented-pleg nftables probe-10s;
#                `c24-` before one (c24-stock, c24-min-sync-1) starts the nodes on containerd 2.4.2
#   SCENARIO     the scenario each sitting runs (default scenarios/k8s-settings.yaml; probe-10s
#                always runs scenarios/k8s-settings-probe.yaml)
#   START_OPTS   more `cluster start` options for every sitting (e.g. --runtime-handler, which
#                scenarios/k8s-outage-table.yaml's runtime-restore needs)
#   OUT          where the runs go (default /tmp/migbench-k8s-settings)
# Issue 20's table (every strategy, both containerd lines, stock and best settings):
#   SCENARIO=scenarios/k8s-outage-table.yaml START_OPTS=--runtime-handler \
#   SETTINGS="stock min-sync-1 c24-stock c24-min-sync-1" sh bench/k8s-settings.sh
set -eu
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/migbench-k8s-settings}
settings=${SETTINGS:-stock min-sync-1 min-sync-100 evented-pleg nftables probe-10s}
mkdir -p "$out"
for setting in $settings; do
  scenario=${SCENARIO:-scenarios/k8s-settings.yaml}
  containerd=
  case $setting in
    c24-*) containerd="--containerd 2.4.2" ;;
  esac
  case ${setting#c24-} in
    stock) opts= ;;
    min-sync-1) opts="--proxy-min-sync-ms 1" ;;
    min-sync-100) opts="--proxy-min-sync-ms 100" ;;
    evented-pleg) opts="--evented-pleg" ;;
    nftables) opts="--proxy-mode nftables" ;;
    probe-10s) opts= scenario=scenarios/k8s-settings-probe.yaml ;;
    *) echo "bench/k8s-settings.sh: unknown setting $setting (stock min-sync-1 min-sync-100 evented-pleg nftables probe-10s, each also as c24-…)" >&2; exit 2 ;;
  esac
  opts="$opts $containerd ${START_OPTS:-}"
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
