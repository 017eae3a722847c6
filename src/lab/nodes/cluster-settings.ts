// The lab's cluster settings that the outage waits on (`migbench cluster start --proxy-mode …
// --proxy-min-sync-ms … --evented-pleg`): kube-proxy's mode and minimum sync period, and the
// kubelet's evented PLEG (feature gate EventedPLEG: the kubelet learns of container changes from
// containerd's CRI event stream instead of its 1 s relist). Stock settings unless asked; a run
// records what the nodes really run from the nodes themselves (platforms/kubernetes/node-runtime.ts).
import { lookPath } from '../../setup/apt.ts';

export const proxyModes = ['iptables', 'nftables'] as const;
export type ProxyMode = (typeof proxyModes)[number];

export interface ClusterSettings {
  /** kube-proxy's mode (stock: iptables). */
  proxyMode: ProxyMode;
  /** kube-proxy's minSyncPeriod in ms (stock: 1000). */
  proxyMinSyncMs: number;
  /** The kubelet's EventedPLEG feature gate (stock: off). */
  eventedPleg: boolean;
}

export const STOCK_CLUSTER_SETTINGS: ClusterSettings = { proxyMode: 'iptables', proxyMinSyncMs: 1000, eventedPleg: false };

/** The command line's values, checked: every problem, each naming the option and the fix. */
export function clusterSettingsProblems(input: { proxyMode?: string; proxyMinSyncMs?: number }): string[] {
  const problems: string[] = [];
  if (input.proxyMode !== undefined && !(proxyModes as readonly string[]).includes(input.proxyMode))
    problems.push(`--proxy-mode: ${input.proxyMode} is not a kube-proxy mode the lab runs; use one of ${proxyModes.join(', ')}`);
  const ms = input.proxyMinSyncMs;
  // kube-proxy's configuration defaulting turns a 0 minSyncPeriod into its 1 s default (measured: /configz said 1s), so 1 ms is the smallest.
  if (ms !== undefined && (!Number.isInteger(ms) || ms < 1 || ms > 60_000))
    problems.push(
      `--proxy-min-sync-ms: ${String(ms)} is not a whole number of milliseconds from 1 to 60000 (kube-proxy reads 0 as unset: its 1 s default); e.g. --proxy-min-sync-ms 1`,
    );
  return problems;
}

/** What the host must have for the settings (nftables mode: the `nft` command kube-proxy drives). */
export async function clusterSettingsHostProblems(settings: ClusterSettings): Promise<string[]> {
  if (settings.proxyMode === 'nftables' && !(await lookPath('nft')))
    return [
      "--proxy-mode nftables: kube-proxy's nftables mode runs the `nft` command, which this host lacks; install it (apt-get install nftables) or use --proxy-mode iptables",
    ];
  return [];
}

/** kube-proxy's duration format ("1s", "100ms", "0s"). */
export const goDuration = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);
