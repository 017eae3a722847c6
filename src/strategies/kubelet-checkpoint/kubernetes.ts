// `kubelet-checkpoint`: Kubernetes' own checkpoint/restore (KEP-2008), as a user of a stock cluster
// can do it today — what the seed's podmigration-operator did with a forked kubelet and containerd.
//  1. checkpoint: POST https://<source node>:10250/checkpoint/<ns>/<pod>/<container>; the kubelet
//     has containerd dump the container with CRIU into an archive on the node. containerd asks for
//     leave-running; the nodes' CRIU configuration (the pod's org.criu.config) overrides it with
//     leave-stopped, so the source stops the moment its dump ends (the node agent writes those
//     options per trial: agent/criu.go): no write, step or frame after the checkpoint that the
//     restored copy would not have.
//  2. transfer: the source node's agent streams the archive to the target node's agent.
//  3. image: the target's agent builds a checkpoint image from it (the archive as its only layer,
//     annotated for containerd and CRI-O) and imports it into the node's containerd.
//     (`delivery: registry` instead: the source's agent builds the image and pushes it to the
//     scenario's registry; the restored pod names it by digest and the target's kubelet pulls it.)
//  4. restore: a pod pinned to the target node whose container's image is the checkpoint image;
//     containerd (2.1–2.3; from 2.2.7/2.3.4 with enable_experimental_restore_via_create) restores it instead of starting it.
//  5. ready → the source deleted → the Service's endpoints name the restored pod only → source gone.
// A restore that fails resumes the stopped source (SIGCONT) where it was: the service is served again
// by the pod that never lost its state, and the trial fails with the step (`failed_phase`).
import { labelValue, nodeAffinity } from '../../platforms/kubernetes/manifests.ts';
import type { K8sObject } from '../../platforms/kubernetes/api.ts';
import { checkpointImageName, type CheckpointNodes, type CheckpointTrial } from '../../platforms/kubernetes/checkpoint-nodes.ts';
import type { CriuStats } from '../../model/criu-stats.ts';
import { MigrationStepError, type MigrationStep } from '../../criu/migration-errors.ts';
import type { EventName } from '../../model/events.ts';
import type { KubeletCheckpointStrategyOptions } from './options.ts';
import {
  isServing,
  type KubernetesMigrationContext,
  type KubernetesMigrationOutcome,
  type KubernetesPreflightContext,
  type KubernetesStrategy,
  type KubernetesSupportContext,
} from '../entry/kubernetes-strategy.ts';
import { checkpointPreflightProblems, checkpointUnsupportedReason } from './support.ts';
import { describeRoute, kubeletRoute } from '../../platforms/kubernetes/kubelet-api.ts';
import { restoredPodLabels, resumeSource, retireSource, SOURCE_GRACE_SECONDS, switchServiceToRestored } from './after-checkpoint.ts';

export const KUBELET_CHECKPOINT_SOURCE = 'strategy:kubelet-checkpoint';
/**
 * How long the kubelet took to pull the restored pod's image, from its Pulled event ("Successfully
 * pulled image "…" in 812ms (812ms including waiting)…"), or undefined (no event, or no permission to list events).
 */
async function kubeletPullMs(ctx: KubernetesMigrationContext, pod: string): Promise<number | undefined> {
  try {
    const events = await ctx.api.cluster.core.listNamespacedEvent({
      namespace: ctx.api.namespace,
      fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${pod},reason=Pulled`,
    });
    for (const e of events.items) {
      const took = / in ((?:\d+(?:\.\d+)?(?:h|ms|m|s|µs|us|ns))+)/.exec(e.message ?? '')?.[1];
      if (took) return goDurationMs(took);
    }
  } catch {
    /* not readable with this kubeconfig: the column stays empty */
  }
  return undefined;
}

/** A Go duration string (1m2.5s, 812ms, 90.1µs) in milliseconds. */
export function goDurationMs(text: string): number {
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
  let ms = 0;
  for (const [, value, u] of text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|µs|us|ns)/g)) ms += Number(value) * unit[u!]!;
  return Math.round(ms * 1000) / 1000;
}

export class KubeletCheckpointStrategy implements KubernetesStrategy {
  readonly name = 'kubelet-checkpoint';
  readonly shape = 'pod';
  private readonly options: KubeletCheckpointStrategyOptions;

  constructor(options: KubeletCheckpointStrategyOptions) {
    this.options = options;
  }

  /** The kubeconfig's user may call the kubelet's checkpoint API, list the Service's endpoints and reach the node agent, which runs on both nodes. */
  preflight({ cluster, usedNodes }: KubernetesPreflightContext): Promise<string[]> {
    return checkpointPreflightProblems(cluster, usedNodes, this.options.kubeletAccess ?? 'auto');
  }

  /** Whether these nodes' kubelet and containerd can checkpoint and restore at all, and migbench can reach them. */
  async unsupportedReason(context: KubernetesSupportContext): Promise<string | undefined> {
    const used = await context.usedNodes();
    try {
      return await checkpointUnsupportedReason(used, context.kubelet, context.checkpointNodes, context.namespace, this.options.kubeletAccess ?? 'auto');
    } catch (err) {
      return `kubelet-checkpoint: ${(err as Error).message}`;
    }
  }

  podAnnotations(context: { checkpointNodes?: CheckpointNodes; trialKey: string }): Record<string, string> {
    return context.checkpointNodes?.checkpointPodAnnotations(context.trialKey) ?? {};
  }

  async migrate(ctx: KubernetesMigrationContext): Promise<KubernetesMigrationOutcome> {
    const { api, events, sourcePod, kubelet, checkpointNodes: nodes } = ctx;
    const emit = (event: EventName, detail: string) => events.emit(KUBELET_CHECKPOINT_SOURCE, event, detail);
    // Checked before any trial (unsupportedReason); here for a caller that did not.
    if (!kubelet || !nodes) throw new Error('kubelet-checkpoint: no node agent (`migbench agent install`)');
    const endpoint = ctx.sourceNode.kubelet;
    if (!endpoint)
      throw new Error(`kubelet-checkpoint: node ${ctx.sourceNode.name} reports no kubelet endpoint (status.addresses InternalIP, status.daemonEndpoints)`);
    const template = ctx.manifests.podTemplate;
    const containers = (template.spec.containers ?? []) as { name: string; image: string }[];
    if (containers.length !== 1 || (template.spec.initContainers ?? []).length > 0)
      throw new Error(
        `kubelet-checkpoint: moves pods of one container (the kubelet checkpoints containers, one at a time); ${sourcePod.name} has ${containers.length}`,
      );
    const container = containers[0]!.name;
    const imageName = checkpointImageName(api.namespace, labelValue(sourcePod.name).toLowerCase(), labelValue(ctx.trialKey.replace(/\//g, '-')).toLowerCase());
    if (api.dryRun) return this.dryRun(ctx, endpoint, container, imageName);
    let kubeletArchive: string | undefined;
    const trial = { key: ctx.trialKey, namespace: api.namespace, source: ctx.sourceNode.name, target: ctx.targetNode };
    // delivery: registry — the reference the target's kubelet pulled (removed from its containerd too)
    let pulledImage: string | undefined;
    ctx.onTeardown(`checkpoint archive and image ${imageName}`, () => nodes.removeTrial(trial, imageName, kubeletArchive, pulledImage));
    try {
      await nodes.prepare(trial);
    } catch (err) {
      throw new MigrationStepError('dump', `the node agents could not prepare the trial: ${(err as Error).message}`, true);
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
      // A failed dump leaves the container as it was (CRIU resumes what it froze): still serving.
      const criu = await nodes.criuError('dump', trial);
      throw new MigrationStepError('dump', `kubelet checkpoint: ${(err as Error).message}${criu ? `; CRIU: ${criu}` : ''}`, true);
    }
    emit('checkpoint_done', kubeletArchive);

    // From here the source is stopped (leave-stopped): every failure resumes it.
    const step = async <T>(name: MigrationStep, run: () => Promise<T>): Promise<T> => {
      try {
        return await run();
      } catch (err) {
        const criu = name === 'restore' ? await nodes.criuError('restore', trial) : undefined;
        throw await resumeSource(ctx, KUBELET_CHECKPOINT_SOURCE, name, criu ? new Error(`${(err as Error).message}; CRIU: ${criu}`) : err);
      }
    };
    const delivered = await this.deliver(ctx, step, trial, kubeletArchive!, container, imageName);
    if (delivered.image.imagePullPolicy !== 'Never') pulledImage = delivered.image.image;
    const restoredName = `${sourcePod.name.slice(0, 50)}-restored`;
    const pod: K8sObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: restoredName,
        namespace: api.namespace,
        labels: restoredPodLabels(template.metadata.labels),
        annotations: { ...(template.metadata.annotations ?? {}), ...nodes.restorePodAnnotations(ctx.trialKey) },
      },
      spec: {
        ...template.spec,
        affinity: nodeAffinity([ctx.targetNode]),
        containers: [{ ...containers[0], ...delivered.image }],
      },
    };
    const restored = await step('restore', async () => {
      ctx.created(pod);
      await api.create(pod);
      emit('restore_pod_created', `${restoredName} on ${ctx.targetNode}`);
      const ready = await ctx.pods.waitForPod(
        `pod ${restoredName} restored and ready on ${ctx.targetNode}`,
        (p) => {
          if (p.name !== restoredName) return false;
          if (p.containerProblem) throw new Error(`pod ${restoredName}: ${p.containerProblem}`);
          return isServing(p);
        },
        ctx.readyTimeoutMs,
        ctx.signal,
      );
      return ready;
    });
    emit('ready', `${restored.name} on ${restored.node}`);

    await retireSource(ctx, restored, emit);
    if (delivered.image.imagePullPolicy !== 'Never') {
      // After the switch, so the read is no boundary of the outage's anatomy; the kubelet's own measure of the pull.
      const pulledMs = await kubeletPullMs(ctx, restoredName);
      if (pulledMs !== undefined) emit('image_pulled', `${pulledMs} ms by the kubelet on ${ctx.targetNode} (its Pulled event)`);
    }
    return { pod: restored, ...(delivered.criu ? { criu: delivered.criu } : {}), checkpointBytes: delivered.bytes };
  }

  /**
   * The checkpoint image to the target node, as the options say: imported (the archive streamed from
   * the source's agent to the target's, the image built and imported there) or through the registry
   * (built and pushed by the source's agent; the target's kubelet pulls it when the pod is created).
   */
  private async deliver(
    ctx: KubernetesMigrationContext,
    step: <T>(name: MigrationStep, run: () => Promise<T>) => Promise<T>,
    trial: CheckpointTrial,
    kubeletArchive: string,
    container: string,
    imageName: string,
  ): Promise<{ image: { image: string; imagePullPolicy: 'Never' | 'IfNotPresent' }; bytes: number; criu?: CriuStats }> {
    const nodes = ctx.checkpointNodes!;
    const emit = (event: EventName, detail: string) => ctx.events.emit(KUBELET_CHECKPOINT_SOURCE, event, detail);
    if (this.options.delivery === 'registry') {
      const registry = this.options.registry!;
      const pushed = await step('transfer', () =>
        nodes.pushImage(trial, { kubeletArchive, containerName: container, imageName, registry, plainHttp: this.options.registryPlainHttp ?? false }),
      );
      emit('image_pushed', `${pushed.reference} (${pushed.bytes} bytes from ${trial.source})`);
      return { image: { image: pushed.reference, imagePullPolicy: 'IfNotPresent' }, bytes: pushed.bytes, ...(pushed.criu ? { criu: pushed.criu } : {}) };
    }
    const stored = await step('transfer', () => nodes.transfer(trial, kubeletArchive, this.options.transfer ?? 'stream'));
    emit('transfer_done', `${stored.bytes} bytes to ${ctx.targetNode} ${stored.path} (sha256 ${stored.sha256.slice(0, 12)}…)`);
    const criu = await nodes.dumpStats(trial).catch(() => undefined);
    await step('image', () => nodes.buildImage(trial, container, imageName));
    emit('image_built', imageName);
    await step('image', () => nodes.importImage(trial));
    emit('image_imported', `${imageName} on ${ctx.targetNode}`);
    return { image: { image: imageName, imagePullPolicy: 'Never' }, bytes: stored.bytes, ...(criu ? { criu } : {}) };
  }

  /** A dry run: the calls a trial would make, printed; the node steps between them named. */
  private async dryRun(
    ctx: KubernetesMigrationContext,
    endpoint: { address: string; port: number },
    container: string,
    imageName: string,
  ): Promise<KubernetesMigrationOutcome> {
    const { api, sourcePod } = ctx;
    await api.external(
      'POST',
      `https://${endpoint.address}:${endpoint.port}/checkpoint/${api.namespace}/${sourcePod.name}/${container}`,
      this.options.delivery === 'registry'
        ? `kubelet checkpoint; then the source's node agent builds image ${imageName} and pushes it to ${this.options.registry}, and ${ctx.targetNode}'s kubelet pulls it by digest`
        : `kubelet checkpoint; then the node agents stream the archive to ${ctx.targetNode}, build image ${imageName} and import it into its containerd`,
      async () => undefined,
    );
    const restoredName = `${sourcePod.name.slice(0, 50)}-restored`;
    await api.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: restoredName, namespace: api.namespace, labels: restoredPodLabels(ctx.manifests.podTemplate.metadata.labels) },
      spec: { affinity: nodeAffinity([ctx.targetNode]), containers: [{ name: container, image: imageName }] },
    });
    await switchServiceToRestored(ctx, restoredName, (event, detail) => ctx.events.emit(KUBELET_CHECKPOINT_SOURCE, event, detail));
    await api.deletePod(sourcePod.name, SOURCE_GRACE_SECONDS);
    return { pod: await ctx.pods.waitForPod(`pod ${restoredName}`, () => true, ctx.readyTimeoutMs, ctx.signal) };
  }
}
