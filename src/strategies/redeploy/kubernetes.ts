// `redeploy` on a cluster: the original k8s_default_migrate.sh — delete the pod (SIGTERM, SIGKILL
// after the grace period), and once it is gone create it again, the same pod pinned to the target
// node (required node affinity), then wait until it is ready.
import { nodeAffinity } from '../../platforms/kubernetes/manifests.ts';
import type { K8sObject } from '../../platforms/kubernetes/api.ts';
import type { RedeployStrategyOptions } from './options.ts';
import { isServing, type KubernetesMigrationContext, type KubernetesMigrationOutcome, type KubernetesStrategy } from '../entry/kubernetes-strategy.ts';

const SOURCE = 'strategy:redeploy';

export class KubernetesRedeployStrategy implements KubernetesStrategy {
  readonly name = 'redeploy';
  readonly shape = 'pod';
  private readonly options: RedeployStrategyOptions;

  constructor(options: RedeployStrategyOptions) {
    this.options = options;
  }

  async migrate(ctx: KubernetesMigrationContext): Promise<KubernetesMigrationOutcome> {
    const { api, events, sourcePod } = ctx;
    await api.deletePod(sourcePod.name, this.options.gracePeriodSeconds);
    events.emit(SOURCE, 'source_deleting', sourcePod.name);
    await ctx.pods.waitGone(sourcePod.name, this.options.gracePeriodSeconds * 1000 + ctx.readyTimeoutMs, ctx.signal);
    events.emit(SOURCE, 'source_deleted', sourcePod.name);
    const template = ctx.manifests.podTemplate;
    const pod: K8sObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: sourcePod.name,
        namespace: api.namespace,
        labels: template.metadata.labels,
        ...(template.metadata.annotations ? { annotations: template.metadata.annotations } : {}),
      },
      spec: { ...template.spec, affinity: nodeAffinity([ctx.targetNode]) },
    };
    await api.create(pod);
    ctx.created(pod);
    events.emit(SOURCE, 'pod_created', `${pod.metadata.name} on ${ctx.targetNode}`);
    const ready = await ctx.pods.waitForPod(
      `pod ${pod.metadata.name} ready on ${ctx.targetNode}`,
      (p) => p.name === pod.metadata.name && p.uid !== sourcePod.uid && isServing(p),
      ctx.readyTimeoutMs,
      ctx.signal,
    );
    events.emit(SOURCE, 'ready', `${ready.name} on ${ready.node}`);
    return { pod: ready };
  }
}
