// The moved pod's way back to serving, step by step, each taken from the component that did it and
// reached as a user's cluster is reached (the API server only): the trial's pod watch (the target
// pod created, scheduled, its containers running as the kubelet reports them, Ready), a watch on the
// Service's EndpointSlices (the pod the only ready endpoint), and kube-proxy's own metric on the
// probed node through the API server's node proxy (`kubeproxy_sync_proxy_rules_last_timestamp_seconds`,
// the end of each rule sync, sub-millisecond; with `_duration_seconds` its start). The events go to the
// timeline as `platform:kubernetes` events (model/events.ts podBreakdownEvents) at the instant the
// component gives, so every kubernetes strategy — any that creates a target pod — is broken down
// the same way (metrics/anatomy.ts).
//
// Resolution, per source (in each event's detail): the watch's receive time (ms; the API's own
// condition times are whole seconds, so they are recorded but not used), kube-proxy's sync end
// (µs, wall clock; converted to the monotonic clock here, on the same host as the lab's nodes —
// a remote cluster's clock skew would shift it, see docs/methodology.md), and the polling period
// below, which only decides whether two syncs closer than it are told apart.
import { Watch } from '@kubernetes/client-node';
import { sleep } from '../../../clock.ts';
import type { EventRecorder } from '../../../model/timeline.ts';
import type { Cluster } from '../cluster.ts';
import type { PodWatch } from '../pod-watch.ts';
import { KUBE_PROXY_METRICS_PORT } from '../node-runtime.ts';
import { AgentClient } from '../agent/agent-client.ts';

const SOURCE = 'platform:kubernetes';
/** How often kube-proxy's metric is read: faster than its syncs can follow each other with the stock minSyncPeriod (1 s). */
const PROXY_POLL_MS = 40;
/** A sync that started this long before the EndpointSlice update arrived here may still carry it (kube-proxy's own watch is as fast as ours). */
const SYNC_START_SLACK_MS = 5;

/** One of kube-proxy's rule syncs, as its metrics tell it (wall-clock ms). */
export interface ProxySync {
  endWallMs: number;
  /** The sync's own duration, when exactly one sync happened between two reads. */
  durationMs?: number;
}

interface EndpointsSnapshot {
  at: number;
  ready: string[];
}

/** RFC 3339 with nanoseconds → wall-clock ms with its fraction (Date.parse keeps only ms). */
export function parseNanoTime(text: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) return Date.parse(text);
  return Date.parse(`${m[1]}${m[3]}`) + Number(`0.${m[2] ?? '0'}`) * 1000;
}

/** kube-proxy's last sync end and its sync-duration histogram's sum and count, from its /metrics text. */
export function parseProxyMetrics(text: string): { lastSyncSeconds?: number; durationSum?: number; durationCount?: number } {
  const value = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const lastSyncSeconds = value('kubeproxy_sync_proxy_rules_last_timestamp_seconds');
  const durationSum = value('kubeproxy_sync_proxy_rules_duration_seconds_sum');
  const durationCount = value('kubeproxy_sync_proxy_rules_duration_seconds_count');
  return {
    ...(lastSyncSeconds !== undefined ? { lastSyncSeconds } : {}),
    ...(durationSum !== undefined ? { durationSum } : {}),
    ...(durationCount !== undefined ? { durationCount } : {}),
  };
}

/**
 * The sync that put a change seen at `changedWallMs` into the rules: the first one to end after it
 * that started no earlier than it (less a little slack), else the first to end after it.
 */
export function syncCarrying(syncs: readonly ProxySync[], changedWallMs: number): ProxySync | undefined {
  const after = syncs.filter((s) => s.endWallMs > changedWallMs).sort((a, b) => a.endWallMs - b.endWallMs);
  return after.find((s) => s.durationMs === undefined || s.endWallMs - s.durationMs >= changedWallMs - SYNC_START_SLACK_MS) ?? after[0];
}

/** The node agent's answer to GET /v1/pods/<uid>/runtime-events (agent/runtime_events.go). */
interface RuntimeEvents {
  containers: { id: string; kind: string; name?: string; created?: string; taskCreated?: string; taskStarted?: string }[];
}

/** containerd's steps of a pod, as chain events: its sandbox's task started, the app container created and its task started. */
export function runtimeChain(answer: RuntimeEvents): { event: 'sandbox_ready' | 'container_created' | 'container_started'; wall: string; what: string }[] {
  const sandbox = answer.containers.find((c) => c.kind === 'sandbox');
  // The app container: the last created, when a pod has more than one (init containers run first).
  const apps = answer.containers.filter((c) => c.kind === 'container' && c.created).sort((a, b) => Date.parse(a.created!) - Date.parse(b.created!));
  const app = apps.at(-1);
  const out: ReturnType<typeof runtimeChain> = [];
  if (sandbox?.taskStarted) out.push({ event: 'sandbox_ready', wall: sandbox.taskStarted, what: `sandbox ${sandbox.id.slice(0, 12)} /tasks/start` });
  if (app?.created) out.push({ event: 'container_created', wall: app.created, what: `${app.name ?? app.id.slice(0, 12)} /containers/create` });
  if (app?.taskStarted) out.push({ event: 'container_started', wall: app.taskStarted, what: `${app.name ?? app.id.slice(0, 12)} /tasks/start` });
  return out;
}

/** Wall-clock ms → this process's monotonic clock (performance.now()), read now. */
const wallToMonotonic = (wallMs: number) => wallMs - (Date.now() - performance.now());
const monotonicToWall = (at: number) => at + (Date.now() - performance.now());

export class OutageBreakdown {
  private readonly cluster: Cluster;
  private readonly service: string;
  private readonly probedNode: string | undefined;
  private readonly snapshots: EndpointsSnapshot[] = [];
  private readonly slices = new Map<string, { uid: string; ready: boolean }[]>();
  private readonly syncs: ProxySync[] = [];
  private proxyProblem: string | undefined;
  private sliceWatch: AbortController | undefined;
  private readonly stopPolling = new AbortController();
  private polling: Promise<void> | undefined;

  private constructor(cluster: Cluster, service: string, probedNode: string | undefined) {
    this.cluster = cluster;
    this.service = service;
    this.probedNode = probedNode;
  }

  /** Watches the Service's EndpointSlices from now on; kube-proxy is read from `startProxyPolling` (the trigger) on. */
  static async start(cluster: Cluster, service: string, probedNode: string | undefined): Promise<OutageBreakdown> {
    const breakdown = new OutageBreakdown(cluster, service, probedNode);
    breakdown.sliceWatch = await new Watch(cluster.kubeConfig).watch(
      `/apis/discovery.k8s.io/v1/namespaces/${cluster.namespace}/endpointslices`,
      { labelSelector: `kubernetes.io/service-name=${service}` },
      (type: string, slice: { metadata?: { name?: string }; endpoints?: { targetRef?: { uid?: string }; conditions?: { ready?: boolean } }[] }) => {
        const name = slice.metadata?.name;
        if (!name || (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED')) return;
        if (type === 'DELETED') breakdown.slices.delete(name);
        else
          breakdown.slices.set(
            name,
            (slice.endpoints ?? []).map((e) => ({ uid: e.targetRef?.uid ?? '', ready: e.conditions?.ready === true })),
          );
        const ready = [...breakdown.slices.values()]
          .flat()
          .filter((e) => e.ready)
          .map((e) => e.uid);
        breakdown.snapshots.push({ at: performance.now(), ready });
      },
      () => undefined,
    );
    return breakdown;
  }

  /** containerd's times of the pod's sandbox and container, from the node's agent; none when the node has no agent that answers. */
  private async runtimeSteps(
    node: string,
    uid: string,
  ): Promise<{ at: number; event: 'sandbox_ready' | 'container_created' | 'container_started'; wall: string; what: string }[]> {
    try {
      const answer = await new AgentClient(this.cluster).json<RuntimeEvents>(
        node,
        'GET',
        `/v1/pods/${encodeURIComponent(uid)}/runtime-events`,
        undefined,
        5_000,
      );
      return runtimeChain(answer).map((s) => ({ ...s, at: wallToMonotonic(parseNanoTime(s.wall)) }));
    } catch {
      // An agent without this endpoint (older) or none: the chain goes from scheduled to the kubelet's report.
      return [];
    }
  }

  /** Reads kube-proxy's metric on the probed node until finish(); a node whose kube-proxy the API server cannot reach is said so once. */
  startProxyPolling(): void {
    if (!this.probedNode || this.polling) return;
    const name = `${this.probedNode}:${KUBE_PROXY_METRICS_PORT}`;
    const signal = this.stopPolling.signal;
    let last: { end: number; sum?: number; count?: number } | undefined;
    this.polling = (async () => {
      while (!signal.aborted) {
        try {
          const text = String(await this.cluster.core.connectGetNodeProxyWithPath({ name, path: 'metrics' }));
          const m = parseProxyMetrics(text);
          if (m.lastSyncSeconds === undefined) {
            this.proxyProblem = `kube-proxy's metrics on ${this.probedNode} have no kubeproxy_sync_proxy_rules_last_timestamp_seconds`;
            return;
          }
          const end = m.lastSyncSeconds * 1000;
          if (last && end !== last.end) {
            const one = m.durationCount !== undefined && last.count !== undefined && m.durationCount - last.count === 1;
            this.syncs.push({
              endWallMs: end,
              ...(one && m.durationSum !== undefined && last.sum !== undefined ? { durationMs: (m.durationSum - last.sum) * 1000 } : {}),
            });
          }
          last = { end, ...(m.durationSum !== undefined ? { sum: m.durationSum } : {}), ...(m.durationCount !== undefined ? { count: m.durationCount } : {}) };
        } catch (err) {
          this.proxyProblem = `kube-proxy's metrics on ${this.probedNode} (API server node proxy to port ${KUBE_PROXY_METRICS_PORT}; metricsBindAddress must be the node's address): ${String((err as Error)?.message ?? err).slice(0, 160)}`;
          return;
        }
        await sleep(PROXY_POLL_MS, signal).catch(() => undefined);
      }
    })();
  }

  /** Stops reading and watching; records the moved pod's chain (the pod with `uid` on `node`; none when the move failed) on the timeline. */
  async finish(
    events: EventRecorder | undefined,
    pods: PodWatch | undefined,
    uid: string | undefined,
    node: string | undefined,
    triggerAt: number,
  ): Promise<void> {
    this.stopPolling.abort();
    await this.polling;
    this.sliceWatch?.abort();
    const emitAt = events?.emitAt?.bind(events);
    if (!events || !emitAt || !pods || !uid) return;
    const steps = pods.stepsOf(uid);
    const fromWatch = [
      ['pod_created', 'target_pod_created'],
      ['pod_scheduled', 'target_pod_scheduled'],
      ['containers_started', 'kubelet_running'],
      ['pod_ready', 'kubelet_ready'],
    ] as const;
    for (const [step, event] of fromWatch) {
      const s = steps[step];
      if (s && s.at >= triggerAt) emitAt(s.at, SOURCE, event, `${uid} watch receive time (ms); api_time=${s.apiTime ?? ''} (1 s resolution)`);
    }
    if (node) {
      for (const step of await this.runtimeSteps(node, uid))
        if (step.at >= triggerAt) emitAt(step.at, SOURCE, step.event, `${uid} containerd ${step.what} ${step.wall} (ns; node agent)`);
    }
    const endpoint = this.snapshots.find((s) => s.at >= triggerAt && s.ready.length === 1 && s.ready[0] === uid);
    if (!endpoint) return;
    emitAt(endpoint.at, SOURCE, 'endpoint_ready', `${this.service}: ${uid} the only ready endpoint; watch receive time (ms)`);
    const sync = syncCarrying(this.syncs, monotonicToWall(endpoint.at));
    if (sync)
      emitAt(
        wallToMonotonic(sync.endWallMs),
        SOURCE,
        'proxy_synced',
        `kube-proxy on ${this.probedNode}: sync ended ${new Date(sync.endWallMs).toISOString()}${sync.durationMs !== undefined ? ` after ${sync.durationMs.toFixed(1)} ms` : ''}; read every ${PROXY_POLL_MS} ms`,
      );
    // Without kube-proxy's sync the chain ends at the endpoint: the rest is the client's part, and the trial's events say why.
    else if (this.proxyProblem) events.emit(SOURCE, 'proxy_unknown', this.proxyProblem);
  }
}
