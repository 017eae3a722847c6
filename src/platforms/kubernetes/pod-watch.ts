// The trial's timeline on a cluster, from a watch on its pods. Each lifecycle step of each pod is
// recorded twice over: when this client received the update (the monotonic clock every other
// figure uses: events.csv's t_ms) and the API server's own timestamp for it (`api_time=` in the
// event's detail: RFC 3339, whole seconds — what Kubernetes stores). The two answer different
// questions: the first is what a client could know and when, the second when the cluster says it
// happened, independent of watch latency, but only to the second.
//
// Strategies wait on the same watch (never by polling): a condition is checked on every update.
import { Watch } from '@kubernetes/client-node';
import type { podWatchEvents } from '../../model/events.ts';
import type { EventRecorder } from '../../model/timeline.ts';
import type { Cluster } from './cluster.ts';

const WATCH_SOURCE = 'platform:kubernetes';

/** What migbench needs to know of a pod, from the watch's raw objects. */
export interface WatchedPod {
  name: string;
  uid: string;
  node?: string;
  phase?: string;
  ready: boolean;
  /** Being deleted (deletionTimestamp set). */
  terminating: boolean;
  /** Gone from the API. */
  deleted: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  ownerReferences: { kind: string; name: string; controller?: boolean }[];
  /** Why a container cannot run, as the kubelet says (e.g. "CreateContainerError: …"); undefined while all is well. */
  containerProblem?: string;
}

/**
 * Container states that do not go away by waiting (a pod stuck in one of them never becomes Ready).
 * A failed pull counts: the run's images were pulled on both nodes before the first trial
 * (images.ts), so a pull failing in a trial will not heal within its ready timeout either.
 */
const STUCK_REASONS = new Set([
  'CreateContainerError',
  'CreateContainerConfigError',
  'RunContainerError',
  'CrashLoopBackOff',
  'ErrImageNeverPull',
  'InvalidImageName',
  'ImageInspectError',
  'ErrImagePull',
  'ImagePullBackOff',
]);
const PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName']);

function containerProblem(statuses: NonNullable<NonNullable<RawPod['status']>['containerStatuses']>): string | undefined {
  for (const c of statuses) {
    const waiting = c.state?.waiting;
    if (waiting?.reason && STUCK_REASONS.has(waiting.reason))
      return `${waiting.reason}${PULL_REASONS.has(waiting.reason) && c.image ? ` (image ${c.image})` : ''}${waiting.message ? `: ${waiting.message}` : ''}`;
    const ended = c.state?.terminated ?? c.lastState?.terminated;
    if (ended && ended.exitCode !== 0)
      return `container exited with code ${ended.exitCode}${ended.reason ? ` (${ended.reason})` : ''}${ended.message ? `: ${ended.message}` : ''}`;
  }
  return undefined;
}

/** The lifecycle steps recorded per pod, in events.csv as `event`. */
export type PodLifecycleEvent = (typeof podWatchEvents)[number];

interface ContainerEnd {
  exitCode: number;
  reason?: string;
  message?: string;
}

interface RawPod {
  metadata: {
    name: string;
    uid: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: WatchedPod['ownerReferences'];
    resourceVersion?: string;
  };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; lastTransitionTime?: string }[];
    containerStatuses?: {
      image?: string;
      state?: { running?: { startedAt?: string }; waiting?: { reason?: string; message?: string }; terminated?: ContainerEnd };
      lastState?: { terminated?: ContainerEnd };
    }[];
  };
}

/** What strategies and the trial wait for; a dry run answers at once with a placeholder. */
export interface PodWaiter {
  /** The first pod (existing or still to come) that `matches`, checked on every update; `matches` throwing ends the wait with its error. */
  waitForPod(what: string, matches: (pod: WatchedPod) => boolean, timeoutMs: number, signal: AbortSignal): Promise<WatchedPod>;
  /** Until the named pod is gone from the API; with `uid`, that pod only (a StatefulSet's replacement has the same name). */
  waitGone(name: string, timeoutMs: number, signal: AbortSignal, uid?: string): Promise<void>;
}

/** A dry run's waits: nothing was created, so nothing is awaited; the pod a wait would find is named by what it is. */
export const dryRunPods: PodWaiter = {
  waitForPod: async (what) => ({
    name: what.startsWith('pod ') && !what.includes(' ', 4) ? what.slice(4) : `<${what}>`,
    uid: '',
    ready: true,
    terminating: false,
    deleted: false,
    labels: {},
    annotations: {},
    ownerReferences: [],
  }),
  waitGone: async () => undefined,
};

export class PodWatch implements PodWaiter {
  private readonly cluster: Cluster;
  private readonly selector: string;
  private readonly events: EventRecorder;
  private readonly known = new Map<string, { pod: WatchedPod; steps: Set<PodLifecycleEvent> }>();
  /** When each pod's steps were received (monotonic ms) and the API's timestamp for them, by uid. */
  private readonly received = new Map<string, Partial<Record<PodLifecycleEvent, { at: number; apiTime?: string }>>>();
  private readonly listeners = new Set<() => void>();
  private resourceVersion = '';
  private controller: AbortController | undefined;
  private stopped = false;
  private failure: Error | undefined;

  private constructor(cluster: Cluster, selector: string, events: EventRecorder) {
    this.cluster = cluster;
    this.selector = selector;
    this.events = events;
  }

  /** Lists the pods the selector matches now, then watches from that list's resourceVersion on. */
  static async start(cluster: Cluster, selector: string, events: EventRecorder): Promise<PodWatch> {
    const watch = new PodWatch(cluster, selector, events);
    await watch.relist();
    await watch.connect();
    return watch;
  }

  /** When this watch received each lifecycle step of the pod with `uid` (the first time), with the API's own timestamp. */
  stepsOf(uid: string): Partial<Record<PodLifecycleEvent, { at: number; apiTime?: string }>> {
    return { ...this.received.get(uid) };
  }

  pods(): WatchedPod[] {
    return [...this.known.values()].map((k) => k.pod);
  }

  waitForPod(what: string, matches: (pod: WatchedPod) => boolean, timeoutMs: number, signal: AbortSignal): Promise<WatchedPod> {
    return this.waitFor(what, (pods) => pods.find((p) => !p.deleted && matches(p)), timeoutMs, signal);
  }

  waitGone(name: string, timeoutMs: number, signal: AbortSignal, uid?: string): Promise<void> {
    const isIt = (p: WatchedPod) => p.name === name && !p.deleted && (uid === undefined || p.uid === uid);
    return this.waitFor(`pod ${name} to be gone`, (pods) => (pods.some(isIt) ? undefined : true), timeoutMs, signal).then(() => undefined);
  }

  /** Resolves with the first non-undefined value `pick` returns over the current pods, checked on every update. */
  waitFor<T>(what: string, pick: (pods: WatchedPod[]) => T | undefined, timeoutMs: number, signal: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        signal.removeEventListener('abort', onAbort);
        settle();
      };
      const check = () => {
        if (this.failure) return finish(() => reject(this.failure));
        let value: T | undefined;
        try {
          value = pick(this.pods());
        } catch (err) {
          // `pick` may say a pod will never get there (e.g. its container cannot be created).
          return finish(() => reject(err));
        }
        if (value !== undefined) finish(() => resolve(value));
      };
      const onAbort = () => finish(() => reject(signal.reason));
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))), timeoutMs);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.listeners.add(check);
      check();
    });
  }

  stop(): void {
    this.stopped = true;
    this.controller?.abort();
    this.listeners.clear();
  }

  private async relist(): Promise<void> {
    const list = await this.cluster.core.listNamespacedPod({ namespace: this.cluster.namespace, labelSelector: this.selector });
    const seen = new Set<string>();
    for (const pod of list.items) {
      // The typed client turns timestamps into Dates; the watch delivers strings: one form here.
      const raw = JSON.parse(JSON.stringify(pod)) as RawPod;
      seen.add(raw.metadata.uid);
      this.update(raw, false);
    }
    for (const [uid, entry] of this.known) if (!seen.has(uid) && !entry.pod.deleted) this.update(undefined, true, entry.pod);
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const path = `/api/v1/namespaces/${this.cluster.namespace}/pods`;
    this.controller = await new Watch(this.cluster.kubeConfig).watch(
      path,
      { labelSelector: this.selector, resourceVersion: this.resourceVersion, allowWatchBookmarks: true },
      (type: string, object: RawPod & { code?: number }) => {
        if (type === 'BOOKMARK') {
          this.resourceVersion = object.metadata?.resourceVersion ?? this.resourceVersion;
          return;
        }
        if (type === 'ERROR') {
          // 410 Gone: the resourceVersion is too old; list again on reconnect.
          this.resourceVersion = '';
          return;
        }
        if (object.metadata?.resourceVersion) this.resourceVersion = object.metadata.resourceVersion;
        this.update(object, type === 'DELETED');
      },
      (err: unknown) => {
        if (this.stopped) return;
        // The server ends watches now and then (timeouts); pick up where it ended, without losing an update.
        void (async () => {
          try {
            if (!this.resourceVersion) await this.relist();
            await this.connect();
          } catch (reconnectError) {
            this.failure = new Error(
              `the pod watch ended (${String((err as Error)?.message ?? err)}) and could not be restarted: ${String((reconnectError as Error)?.message ?? reconnectError)}`,
            );
            for (const listener of [...this.listeners]) listener();
          }
        })();
      },
    );
  }

  private update(raw: RawPod | undefined, deleted: boolean, previous?: WatchedPod): void {
    const uid = raw?.metadata.uid ?? previous!.uid;
    let entry = this.known.get(uid);
    const pod: WatchedPod = raw
      ? {
          name: raw.metadata.name,
          uid,
          node: raw.spec?.nodeName || undefined,
          phase: raw.status?.phase,
          ready: (raw.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
          terminating: raw.metadata.deletionTimestamp !== undefined,
          deleted,
          labels: raw.metadata.labels ?? {},
          annotations: raw.metadata.annotations ?? {},
          ownerReferences: raw.metadata.ownerReferences ?? [],
          ...(containerProblem(raw.status?.containerStatuses ?? []) ? { containerProblem: containerProblem(raw.status?.containerStatuses ?? []) } : {}),
        }
      : { ...previous!, deleted: true };
    if (!entry) {
      entry = { pod, steps: new Set() };
      this.known.set(uid, entry);
    }
    entry.pod = pod;
    const emit = (step: PodLifecycleEvent, apiTime: string | undefined) => {
      if (entry.steps.has(step)) return;
      entry.steps.add(step);
      const steps = this.received.get(uid) ?? {};
      steps[step] ??= { at: performance.now(), ...(apiTime ? { apiTime } : {}) };
      this.received.set(uid, steps);
      this.events.emit(WATCH_SOURCE, step, `${pod.name}${pod.node ? ` node=${pod.node}` : ''} api_time=${apiTime ?? ''}`);
    };
    // The recorder stamps each event as it is emitted, synchronously in the watch callback: the
    // receive time. A pod first seen late still gets every step once, in order.
    const condition = (type: string) => raw?.status?.conditions?.find((c) => c.type === type);
    emit('pod_created', raw?.metadata.creationTimestamp);
    if (pod.node) emit('pod_scheduled', condition('PodScheduled')?.lastTransitionTime);
    const containers = raw?.status?.containerStatuses ?? [];
    if (containers.length > 0 && containers.every((c) => c.state?.running)) {
      const started = containers
        .map((c) => c.state!.running!.startedAt ?? '')
        .sort()
        .at(-1);
      emit('containers_started', started);
    }
    if (pod.ready) {
      entry.steps.delete('pod_unready');
      emit('pod_ready', condition('Ready')?.lastTransitionTime);
    } else if (entry.steps.has('pod_ready') && !deleted) {
      emit('pod_unready', condition('Ready')?.lastTransitionTime);
    }
    // deletionTimestamp is when the grace period ends; less the grace period, it is when the deletion was asked for.
    if (pod.terminating) emit('pod_terminating', deletionRequestedAt(raw?.metadata));
    // A deletion has no timestamp of its own in the API: only the receive time.
    if (deleted) emit('pod_deleted', undefined);
    for (const listener of [...this.listeners]) listener();
  }
}

function deletionRequestedAt(metadata: RawPod['metadata'] | undefined): string | undefined {
  if (!metadata?.deletionTimestamp) return undefined;
  const at = Date.parse(metadata.deletionTimestamp) - (metadata.deletionGracePeriodSeconds ?? 0) * 1000;
  return Number.isFinite(at) ? new Date(at).toISOString().replace(/\.\d+Z$/, 'Z') : metadata.deletionTimestamp;
}
