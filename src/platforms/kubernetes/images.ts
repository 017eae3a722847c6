// Which image a workload's pods run on a cluster (`kubernetes.images`, pinned by digest) and getting
// it onto the nodes before the first trial: a pod per node of the pair whose containers are the run's
// images, each running `true` (the images are Debian's essential set, which has it), so the kubelet
// pulls each one there and the trials' pods find them present (IfNotPresent) — no pull inside a
// downtime. An image the node cannot pull fails the run at once, naming the image and the node,
// instead of waiting out the ready timeout.
import type { K8sObject } from './api.ts';
import { MANAGED_BY_LABEL } from './api.ts';
import { ClusterError, describeApiError, type Cluster } from './cluster.ts';
import { RUN_LABEL, labelValue } from './manifests.ts';

/** kubelet's waiting reasons of a pull that failed (the second is the same failure, backing off). */
const PULL_FAILURES = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName']);

/** The workload's pod specs with `image` for its containers, pulled IfNotPresent with the scenario's secrets. */
export function withWorkloadImage(objects: readonly K8sObject[], image: string | undefined, pullSecrets: readonly string[]): K8sObject[] {
  if (image === undefined && pullSecrets.length === 0) return [...objects];
  return objects.map((original) => {
    const o = structuredClone(original);
    const spec = o.kind === 'Pod' ? o.spec : o.spec?.template?.spec;
    if (!spec) return o;
    if (image !== undefined) {
      for (const c of spec.containers ?? []) {
        c.image = image;
        c.imagePullPolicy = 'IfNotPresent';
      }
    }
    if (pullSecrets.length > 0) spec.imagePullSecrets = pullSecrets.map((name) => ({ name }));
    return o;
  });
}

const PULL_POD_PREFIX = 'migbench-pull';

/**
 * Pulls `images` on each of `nodes` (one pod per node, pinned by nodeName, deleted afterwards) and
 * returns the seconds each node took; throws ClusterError naming the first image a node cannot pull.
 */
export async function prePullImages(
  cluster: Cluster,
  options: { runId: string; nodes: readonly string[]; images: readonly string[]; pullSecrets: readonly string[]; timeoutMs: number; tolerations?: unknown[] },
): Promise<Record<string, number>> {
  if (options.images.length === 0) return {};
  const seconds: Record<string, number> = {};
  const pods = options.nodes.map((node, i) => ({
    node,
    name: `${PULL_POD_PREFIX}-${i}-${labelValue(options.runId)
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .slice(-30)
      .replace(/^-+/, '')}`,
  }));
  const started = performance.now();
  try {
    for (const { node, name } of pods) {
      await cluster.core
        .createNamespacedPod({
          namespace: cluster.namespace,
          body: {
            metadata: { name, labels: { [MANAGED_BY_LABEL]: 'migbench', [RUN_LABEL]: labelValue(options.runId) } },
            spec: {
              nodeName: node,
              restartPolicy: 'Never',
              terminationGracePeriodSeconds: 0,
              ...(options.pullSecrets.length ? { imagePullSecrets: options.pullSecrets.map((s) => ({ name: s })) } : {}),
              ...(options.tolerations ? { tolerations: options.tolerations as never } : {}),
              containers: options.images.map((image, j) => ({ name: `pull-${j}`, image, imagePullPolicy: 'IfNotPresent', command: ['true'] })),
            },
          },
        })
        .catch((err: unknown) => {
          throw new ClusterError(`could not create the image pull pod on ${node}: ${describeApiError(err)}`);
        });
    }
    const pending = new Map(pods.map((p) => [p.name, p.node]));
    while (pending.size > 0) {
      // Listed by the run's label (the role's `list pods`; it grants no `get`), one call for every node's pod.
      const listed = await cluster.core
        .listNamespacedPod({ namespace: cluster.namespace, labelSelector: `${RUN_LABEL}=${labelValue(options.runId)}` })
        .catch((err: unknown) => {
          throw new ClusterError(`could not read the image pull pods: ${describeApiError(err)}`);
        });
      for (const [name, node] of [...pending]) {
        const pod = listed.items.find((p) => p.metadata?.name === name);
        if (!pod) throw new ClusterError(`the image pull pod ${name} on ${node} is gone before it pulled ${options.images.join(', ')}`);
        for (const c of pod.status?.containerStatuses ?? []) {
          const reason = c.state?.waiting?.reason;
          if (reason && PULL_FAILURES.has(reason)) {
            throw new ClusterError(
              `kubernetes.images: node ${node} cannot pull ${c.image}: ${reason}${c.state?.waiting?.message ? ` (${c.state.waiting.message})` : ''}. Fix: push the image there (\`migbench images build --push REGISTRY\`), name a reference the nodes can pull, or give kubernetes.imagePullSecrets`,
            );
          }
        }
        const statuses = pod.status?.containerStatuses ?? [];
        if (
          pod.status?.phase === 'Succeeded' ||
          pod.status?.phase === 'Failed' ||
          (statuses.length === options.images.length && statuses.every((c) => c.state?.terminated))
        ) {
          seconds[node] = Math.round((performance.now() - started) / 100) / 10;
          pending.delete(name);
        }
      }
      if (pending.size === 0) break;
      if (performance.now() - started > options.timeoutMs)
        throw new ClusterError(
          `kubernetes.images: the images were not pulled on ${[...pending.values()].join(', ')} within ${options.timeoutMs / 1000} s: ${options.images.join(', ')}`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
    return seconds;
  } finally {
    for (const { name } of pods) await cluster.core.deleteNamespacedPod({ name, namespace: cluster.namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
  }
}
