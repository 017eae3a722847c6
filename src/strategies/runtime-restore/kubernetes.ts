// `runtime-restore`: CRIU migration with stock Kubernetes parts and no restore support in the
// runtime — what containerd 2.4 (no restore from a checkpoint image) still allows:
//  1. checkpoint: the kubelet's checkpoint API on the source node, as kubelet-checkpoint (the
//     source stops when its dump ends: leave-stopped through the pod's org.criu.config);
//  2. transfer: the node agents stream the archive to the target node (sha256-checked), and the
//     target's agent unpacks it where the runtime handler restores from (`checkpoint_unpacked`);
//  3. restore: a pod pinned to the target, of RuntimeClass `migbench`, with the workload's own
//     image and the annotation naming the checkpoint: the handler's runc wrapper turns its
//     container's create into `runc restore` (platforms/kubernetes/runtime-handler.ts,
//     agent/cmd/migbench-runc). No checkpoint image is built or imported;
//     With `targetPod: before-dump` that pod is created first, before the checkpoint: the agent
//     prepares the (empty) checkpoint directory, the pod's sandbox, network and image are set up
//     while the source still serves, and its create waits in the wrapper (`restore_waiting`) until
//     the unpacked checkpoint is marked ready — pod setup leaves the outage (issue 20, item 2);
//  4. ready → the Service's selector switched to the restored pod (one EndpointSlice update, so
//     kube-proxy syncs once) → the source deleted → the endpoints name the restored pod only → gone.
// Any failure after the dump resumes the stopped source (SIGCONT) and fails the trial with its step.
// The kubelet's archive is used rather than a runc checkpoint by the agent: the archive already
// carries the container's file changes (rootfs-diff.tar) that CRIU needs beside its images, and
// the kubelet keeps the runtime's view of the source consistent.
import { nodeAffinity } from '../../platforms/kubernetes/manifests.ts';
import type { K8sObject } from '../../platforms/kubernetes/api.ts';
import { RESTORE_ANNOTATION, RUNTIME_HANDLER } from '../../platforms/kubernetes/runtime-handler.ts';
import { MigrationStepError, type MigrationStep } from '../../criu/migration-errors.ts';
import type { EventName } from '../../model/events.ts';
import type { RuntimeRestoreStrategyOptions } from './options.ts';
import {
  isServing,
  type KubernetesMigrationContext,
  type KubernetesMigrationOutcome,
  type KubernetesPreflightContext,
  type KubernetesStrategy,
  type KubernetesSupportContext,
} from '../entry/kubernetes-strategy.ts';
import { checkpointPreflightProblems } from '../kubelet-checkpoint/support.ts';
import { describeRoute, kubeletRoute } from '../../platforms/kubernetes/kubelet-api.ts';
import { runtimeRestoreUnsupportedReason } from './support.ts';
import { restoredPodLabels, resumeSource, retireSource, SOURCE_GRACE_SECONDS, switchServiceToRestored } from '../kubelet-checkpoint/after-checkpoint.ts';

export const RUNTIME_RESTORE_SOURCE = 'strategy:runtime-restore';

export class RuntimeRestoreStrategy implements KubernetesStrategy {
  readonly name = 'runtime-restore';
  readonly shape = 'pod';
  private readonly options: RuntimeRestoreStrategyOptions;

  constructor(options: RuntimeRestoreStrategyOptions) {
    this.options = options;
  }

  /** The same API permissions as kubelet-checkpoint (the kubelet's checkpoint call by its route, the endpoints, the agent). */
  preflight({ cluster, usedNodes }: KubernetesPreflightContext): Promise<string[]> {
    return checkpointPreflightProblems(cluster, usedNodes, this.options.kubeletAccess ?? 'auto');
  }

  async unsupportedReason(context: KubernetesSupportContext): Promise<string | undefined> {
    try {
      return await runtimeRestoreUnsupportedReason(
        await context.usedNodes(),
        context.kubelet,
        context.checkpointNodes,
        context.namespace,
        context.cluster,
        this.options.kubeletAccess ?? 'auto',
      );
    } catch (err) {
      return `runtime-restore: ${(err as Error).message}`;
    }
  }

  podAnnotations(context: { checkpointNodes?: KubernetesMigrationContext['checkpointNodes']; trialKey: string }): Record<string, string> {
    return context.checkpointNodes?.checkpointPodAnnotations(context.trialKey) ?? {};
  }

  async migrate(ctx: KubernetesMigrationContext): Promise<KubernetesMigrationOutcome> {
    const { api, events, sourcePod, kubelet, checkpointNodes: nodes } = ctx;
    const emit = (event: EventName, detail: string) => events.emit(RUNTIME_RESTORE_SOURCE, event, detail);
    if (!kubelet || !nodes?.unpackForRestore) throw new Error('runtime-restore: no node agent (`migbench agent install --runtime-handler`)');
    const endpoint = ctx.sourceNode.kubelet;
    if (!endpoint)
      throw new Error(`runtime-restore: node ${ctx.sourceNode.name} reports no kubelet endpoint (status.addresses InternalIP, status.daemonEndpoints)`);
    const template = ctx.manifests.podTemplate;
    const containers = (template.spec.containers ?? []) as { name: string; image: string }[];
    if (containers.length !== 1 || (template.spec.initContainers ?? []).length > 0)
      throw new Error(
        `runtime-restore: moves pods of one container (the kubelet checkpoints containers, one at a time); ${sourcePod.name} has ${containers.length}`,
      );
    const container = containers[0]!.name;
    const restoredName = `${sourcePod.name.slice(0, 50)}-restored`;
    if (api.dryRun) {
      await api.external(
        'POST',
        `https://${endpoint.address}:${endpoint.port}/checkpoint/${api.namespace}/${sourcePod.name}/${container}`,
        `kubelet checkpoint; then the node agents stream the archive to ${ctx.targetNode} and unpack it for the runtime handler ${RUNTIME_HANDLER}`,
        async () => undefined,
      );
      await api.create({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: restoredName, namespace: api.namespace, labels: restoredPodLabels(template.metadata.labels) },
        spec: { runtimeClassName: RUNTIME_HANDLER, affinity: nodeAffinity([ctx.targetNode]), containers },
      });
      await switchServiceToRestored(ctx, restoredName, emit);
      await api.deletePod(sourcePod.name, SOURCE_GRACE_SECONDS);
      return { pod: await ctx.pods.waitForPod(`pod ${restoredName}`, () => true, ctx.readyTimeoutMs, ctx.signal) };
    }
    let kubeletArchive: string | undefined;
    const trial = { key: ctx.trialKey, namespace: api.namespace, source: ctx.sourceNode.name, target: ctx.targetNode };
    ctx.onTeardown('checkpoint archive and its unpacked copy', async () => [
      ...(await nodes.removeTrial(trial, '', kubeletArchive)),
      ...((await nodes.removeUnpacked?.(trial)) ?? []),
    ]);
    const before = this.options.targetPod === 'before-dump';
    const podFor = (checkpoint: string): K8sObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: restoredName,
        namespace: api.namespace,
        labels: restoredPodLabels(template.metadata.labels),
        annotations: { ...(template.metadata.annotations ?? {}), ...nodes.restorePodAnnotations(ctx.trialKey), [RESTORE_ANNOTATION]: checkpoint },
      },
      spec: { ...template.spec, runtimeClassName: RUNTIME_HANDLER, affinity: nodeAffinity([ctx.targetNode]) },
    });
    // A target pod waiting in the handler ends its create when its checkpoint directory goes: done at
    // once on failure, else the pod's deletion would wait on that create (up to the handler's 2 min).
    const abandonTarget = async () => {
      if (before) await nodes.removeUnpacked?.(trial).catch(() => []);
    };
    const createPod = async (checkpoint: string) => {
      const pod = podFor(checkpoint);
      ctx.created(pod);
      await api.create(pod);
      emit('restore_pod_created', `${restoredName} on ${ctx.targetNode}`);
    };
    try {
      await nodes.prepare(trial);
      if (before) {
        if (!nodes.prepareRestore || !nodes.restoreWaiting) throw new Error('the node agent cannot prepare a checkpoint directory');
        await createPod(await nodes.prepareRestore(trial));
        await waitUntil(() => nodes.restoreWaiting!(trial), ctx, `pod ${restoredName}'s create waiting for the checkpoint on ${ctx.targetNode}`);
        emit('restore_waiting', `${restoredName} on ${ctx.targetNode}`);
      }
    } catch (err) {
      // The source was not touched: it still serves.
      await abandonTarget();
      throw new MigrationStepError('dump', `the target pod or the node agents could not be prepared: ${(err as Error).message}`, true);
    }

    const route = await kubeletRoute(endpoint, this.options.kubeletAccess ?? 'auto');
    emit('checkpoint_request', `${api.namespace}/${sourcePod.name}/${container} on ${ctx.sourceNode.name} (kubelet ${describeRoute(endpoint, route)})`);
    try {
      kubeletArchive = await kubelet.checkpoint(
        endpoint,
        api.namespace,
        sourcePod.name,
        container,
        this.options.checkpointTimeoutSeconds * 1000,
        ctx.signal,
        route,
      );
    } catch (err) {
      await abandonTarget();
      const criu = await nodes.criuError('dump', trial);
      throw new MigrationStepError('dump', `kubelet checkpoint: ${(err as Error).message}${criu ? `; CRIU: ${criu}` : ''}`, true);
    }
    emit('checkpoint_done', kubeletArchive);

    // From here the source is stopped (leave-stopped): every failure resumes it.
    const step = async <T>(name: MigrationStep, run: () => Promise<T>): Promise<T> => {
      try {
        return await run();
      } catch (err) {
        await abandonTarget();
        const criu = name === 'restore' ? await nodes.criuError('restore', trial) : undefined;
        throw await resumeSource(ctx, RUNTIME_RESTORE_SOURCE, name, criu ? new Error(`${(err as Error).message}; CRIU: ${criu}`) : err);
      }
    };
    const stored = await step('transfer', () => nodes.transfer(trial, kubeletArchive!, this.options.transfer ?? 'stream'));
    emit('transfer_done', `${stored.bytes} bytes to ${ctx.targetNode} ${stored.path} (sha256 ${stored.sha256.slice(0, 12)}…)`);
    const criu = await nodes.dumpStats(trial).catch(() => undefined);
    const checkpoint = await step('transfer', () => nodes.unpackForRestore!(trial));
    emit('checkpoint_unpacked', `${checkpoint} on ${ctx.targetNode}`);

    const restored = await step('restore', async () => {
      if (!before) await createPod(checkpoint);
      return ctx.pods.waitForPod(
        `pod ${restoredName} restored and ready on ${ctx.targetNode}`,
        (p) => {
          if (p.name !== restoredName) return false;
          if (p.containerProblem) throw new Error(`pod ${restoredName}: ${p.containerProblem}`);
          return isServing(p);
        },
        ctx.readyTimeoutMs,
        ctx.signal,
      );
    });
    emit('ready', `${restored.name} on ${restored.node}`);

    await retireSource(ctx, restored, emit);
    return { pod: restored, ...(criu ? { criu } : {}), checkpointBytes: stored.bytes };
  }
}

/** Polls `done` (20 ms) until it is true; the pod's readiness timeout bounds it. */
async function waitUntil(done: () => Promise<boolean>, ctx: KubernetesMigrationContext, what: string): Promise<void> {
  const deadline = performance.now() + ctx.readyTimeoutMs;
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ctx.readyTimeoutMs} ms waiting for ${what}`);
    if (ctx.signal.aborted) throw ctx.signal.reason;
    await new Promise((r) => setTimeout(r, 20));
  }
}
