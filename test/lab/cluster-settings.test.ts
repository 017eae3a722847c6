// The lab's cluster settings (`migbench cluster start --proxy-mode --proxy-min-sync-ms --evented-pleg`)
// as the nodes' configuration files carry them, and bad values refused naming the option.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { clusterSettingsProblems, STOCK_CLUSTER_SETTINGS } from '../../src/lab/nodes/cluster-settings.ts';
import { kubeletConfig, kubeProxyConfig } from '../../src/lab/nodes/configs.ts';
import { nodeLayout } from '../../src/lab/nodes/layout.ts';

const node = nodeLayout('worker-a', 0);
const serving = { crt: '/x.crt', key: '/x.key' };

describe('cluster settings', () => {
  it('stock: iptables with a 1 s minSyncPeriod, no EventedPLEG, kube-proxy metrics on the node address (for the node proxy)', () => {
    const proxy = parse(kubeProxyConfig(node, '/k'));
    expect(proxy.mode).toBe('iptables');
    expect(proxy.iptables).toEqual({ minSyncPeriod: '1s', syncPeriod: '30s' });
    expect(proxy.metricsBindAddress).toBe(`${node.address}:10249`);
    expect(parse(kubeletConfig(node, '/ca', serving)).featureGates).toBeUndefined();
  });

  it('carries the mode, the minimum sync period and the gate into kube-proxy’s and the kubelet’s files', () => {
    const settings = { proxyMode: 'nftables' as const, proxyMinSyncMs: 100, eventedPleg: true };
    const proxy = parse(kubeProxyConfig(node, '/k', settings));
    expect(proxy.mode).toBe('nftables');
    expect(proxy.nftables).toEqual({ minSyncPeriod: '100ms', syncPeriod: '30s' });
    expect(parse(kubeProxyConfig(node, '/k', { ...STOCK_CLUSTER_SETTINGS, proxyMinSyncMs: 1 })).iptables.minSyncPeriod).toBe('1ms');
    expect(parse(kubeletConfig(node, '/ca', serving, settings)).featureGates).toEqual({ EventedPLEG: true });
  });

  it('refuses a mode or period the lab cannot run, naming the option and an example', () => {
    expect(clusterSettingsProblems({ proxyMode: 'ipvs', proxyMinSyncMs: -1 })).toEqual([
      '--proxy-mode: ipvs is not a kube-proxy mode the lab runs; use one of iptables, nftables',
      '--proxy-min-sync-ms: -1 is not a whole number of milliseconds from 1 to 60000 (kube-proxy reads 0 as unset: its 1 s default); e.g. --proxy-min-sync-ms 1',
    ]);
    expect(clusterSettingsProblems({ proxyMode: 'iptables', proxyMinSyncMs: 1 })).toEqual([]);
    expect(clusterSettingsProblems({ proxyMinSyncMs: 0 })).toHaveLength(1);
    expect(clusterSettingsProblems({ proxyMinSyncMs: 2.5 })).toHaveLength(1);
  });
});
