// The outage breakdown's readings of the components' own records: kube-proxy's metrics text, which
// of its syncs carried an endpoint change, containerd's events as the node agent answers them, and
// the timestamps' microseconds kept past Date.parse's milliseconds.
import { describe, expect, it } from 'vitest';
import { parseNanoTime, parseProxyMetrics, runtimeChain, syncCarrying } from '../../../src/platforms/kubernetes/driver/outage-breakdown.ts';
import { kubeProxySettings } from '../../../src/platforms/kubernetes/node-runtime.ts';

describe('kube-proxy', () => {
  it('reads the last sync end and the sync-duration histogram from its /metrics (as kube-proxy 1.36 writes them)', () => {
    const text = [
      '# HELP kubeproxy_sync_proxy_rules_last_timestamp_seconds [ALPHA] The last time proxy rules were successfully synced',
      '# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge',
      'kubeproxy_sync_proxy_rules_last_timestamp_seconds 1.7650547712971861e+09',
      'kubeproxy_sync_proxy_rules_duration_seconds_bucket{le="0.001"} 0',
      'kubeproxy_sync_proxy_rules_duration_seconds_sum 1.234',
      'kubeproxy_sync_proxy_rules_duration_seconds_count 17',
      'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds 1.76505477e+09',
    ].join('\n');
    expect(parseProxyMetrics(text)).toEqual({ lastSyncSeconds: 1765054771.2971861, durationSum: 1.234, durationCount: 17 });
    expect(parseProxyMetrics('other_metric 1')).toEqual({});
  });

  it('takes the first sync that started after the change arrived, not one already running', () => {
    const syncs = [{ endWallMs: 900 }, { endWallMs: 1030, durationMs: 50 }, { endWallMs: 2040, durationMs: 40 }];
    // The sync ending at 1030 started at 980, before the change at 1000: it could not carry it.
    expect(syncCarrying(syncs, 1000)).toEqual({ endWallMs: 2040, durationMs: 40 });
    // Started 3 ms before the change reached us: kube-proxy's watch may have had it first.
    expect(syncCarrying(syncs, 983)).toEqual({ endWallMs: 1030, durationMs: 50 });
    // A sync whose duration is unknown (two syncs between reads) is taken as it is.
    expect(syncCarrying([{ endWallMs: 1500 }], 1000)).toEqual({ endWallMs: 1500 });
    expect(syncCarrying(syncs, 3000)).toBeUndefined();
  });

  it('records its mode and minSyncPeriod from /configz, or why they are unknown', () => {
    const configz = JSON.stringify({
      KubeProxyConfig: { mode: 'nftables', nftables: { minSyncPeriod: '100ms', syncPeriod: '30s' }, iptables: { minSyncPeriod: '1s' } },
    });
    expect(kubeProxySettings({ text: configz })).toEqual({ kubeProxyMode: 'nftables', kubeProxyMinSyncPeriod: '100ms', kubeProxySyncPeriod: '30s' });
    expect(kubeProxySettings({ text: JSON.stringify({ KubeProxyConfig: { mode: '', iptables: { minSyncPeriod: '1s' } } }) })).toEqual({
      kubeProxyMode: 'iptables',
      kubeProxyMinSyncPeriod: '1s',
    });
    // As kube-proxy 1.36 serves it: its internal configuration under its group's name, Go field names.
    const internal = JSON.stringify({ 'kubeproxy.config.k8s.io': { Mode: 'iptables', IPTables: { MinSyncPeriod: '0s', SyncPeriod: '30s' } } });
    expect(kubeProxySettings({ text: internal })).toEqual({ kubeProxyMode: 'iptables', kubeProxyMinSyncPeriod: '0s', kubeProxySyncPeriod: '30s' });
    expect(kubeProxySettings({ error: 'connection refused' }).kubeProxy).toMatch(/^unknown .*port 10249.*connection refused/);
  });
});

describe('containerd through the node agent', () => {
  it('gives the sandbox’s task start and the app container’s create and task start, the app being the last created', () => {
    const answer = {
      containers: [
        { id: 'sandbox1', kind: 'sandbox', created: '2026-12-06T20:59:30.900Z', taskStarted: '2026-12-06T20:59:30.938071337Z' },
        { id: 'init1', kind: 'container', name: 'init', created: '2026-12-06T20:59:30.950Z', taskStarted: '2026-12-06T20:59:30.955Z' },
        { id: 'app1', kind: 'container', name: 'redis', created: '2026-12-06T20:59:30.976115241Z', taskStarted: '2026-12-06T20:59:31.086925214Z' },
      ],
    };
    expect(runtimeChain(answer).map((s) => [s.event, s.wall])).toEqual([
      ['sandbox_ready', '2026-12-06T20:59:30.938071337Z'],
      ['container_created', '2026-12-06T20:59:30.976115241Z'],
      ['container_started', '2026-12-06T20:59:31.086925214Z'],
    ]);
    // A container whose task never started (a restore still running when asked): no start.
    expect(runtimeChain({ containers: [{ id: 'app1', kind: 'container', created: '2026-12-06T20:59:30Z' }] }).map((s) => s.event)).toEqual([
      'container_created',
    ]);
  });

  it('keeps the sub-millisecond part of RFC 3339 nanosecond times', () => {
    // An epoch in ms as a double holds ~0.25 µs: the microseconds survive, the last nanoseconds not.
    expect(parseNanoTime('2026-12-06T20:59:30.938071337Z') - Date.parse('2026-12-06T20:59:30Z')).toBeCloseTo(938.0713, 3);
    expect(parseNanoTime('2026-12-06T20:59:30Z')).toBe(Date.parse('2026-12-06T20:59:30Z'));
    expect(parseNanoTime('2026-12-06T21:59:30.5+01:00')).toBe(Date.parse('2026-12-06T20:59:30.5Z'));
  });
});
