// Every call migbench makes that changes something in the cluster goes through here, described as
// the API sees it (verb, path, body summary). With --dry-run the description is printed instead of
// the call being made, so the dry run walks the same code as a real run and cannot drift from it;
// reads are made in both modes (they change nothing).
import { DiscoveryV1Api, PatchStrategy, type KubernetesObject, type V1EndpointSlice, type V1Pod } from '@kubernetes/client-node';
import { apiStatus, describeApiError, type Cluster } from './cluster.ts';

export const FIELD_MANAGER = 'migbench';
/** On every object migbench creates: what `migbench cleanup --platform kubernetes` looks for. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
/** On a node migbench cordoned, until it uncordons it: the run that did it, as `<namespace>/<run id>` (cordonOwner). */
export const CORDONED_BY_ANNOTATION = 'migbench.io/cordoned-by';

/** CORDONED_BY_ANNOTATION's value for a run: its namespace first, so a cleanup of one namespace leaves another run's cordons alone. */
function cordonOwner(namespace: string, runId: string): string {
  return `${namespace}/${runId}`;
}

/**
 * Whether a cordon annotation is one of a run in `namespace` (what `migbench cleanup` of that
 * namespace may undo). A value without a namespace is from a migbench before runs shared clusters.
 */
export function cordonedFrom(annotation: string, namespace: string): boolean {
  return !annotation.includes('/') || annotation.startsWith(`${namespace}/`);
}

export interface ApiCall {
  verb: 'POST' | 'PATCH' | 'DELETE';
  path: string;
  summary: string;
}

export interface K8sObject extends KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: NonNullable<KubernetesObject['metadata']> & { name: string };
  spec?: any;
}

// Plural resource names of the kinds migbench writes (for the printed paths; the client discovers them itself).
const PLURAL: Record<string, string> = {
  Pod: 'pods',
  Service: 'services',
  PersistentVolumeClaim: 'persistentvolumeclaims',
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  Podmigration: 'podmigrations',
  Node: 'nodes',
  PodDisruptionBudget: 'poddisruptionbudgets',
};

function objectPath(apiVersion: string, kind: string, namespace: string | undefined, name?: string): string {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const plural = PLURAL[kind] ?? `${kind.toLowerCase()}s`;
  return `${base}${namespace ? `/namespaces/${namespace}` : ''}/${plural}${name ? `/${name}` : ''}`;
}

/** A failed mutating call, in one line: the call and the API server's answer; `status` kept for retries (429). */
class KubeApiError extends Error {
  readonly status: number | undefined;
  constructor(call: ApiCall, cause: unknown) {
    super(`${call.verb} ${call.path.replace(/\?.*$/, '')}: ${describeApiError(cause)}`);
    this.name = 'KubeApiError';
    this.status = apiStatus(cause);
  }
}

export class KubeApi {
  readonly cluster: Cluster;
  readonly dryRun: boolean;
  private readonly print: (line: string) => void;

  constructor(cluster: Cluster, options: { dryRun: boolean; print: (line: string) => void }) {
    this.cluster = cluster;
    this.dryRun = options.dryRun;
    this.print = options.print;
  }

  get namespace(): string {
    return this.cluster.namespace;
  }

  /** Runs a mutating call, or in a dry run prints it and returns `dryResult`. */
  private async call<T>(call: ApiCall, run: () => Promise<T>, dryResult: T): Promise<T> {
    if (this.dryRun) {
      this.print(`${call.verb} ${call.path}  ${call.summary}`);
      return dryResult;
    }
    try {
      return await run();
    } catch (err) {
      throw new KubeApiError(call, err);
    }
  }

  /** Server-side apply (creates or updates the object; migbench owns the fields it sets). */
  apply<T extends K8sObject>(object: T): Promise<T> {
    const path = `${objectPath(object.apiVersion, object.kind, object.metadata.namespace, object.metadata.name)}?fieldManager=${FIELD_MANAGER}&force=true`;
    return this.call(
      { verb: 'PATCH', path, summary: `server-side apply ${object.kind} ${object.metadata.name}${summarize(object)}` },
      () => this.cluster.objects.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply) as Promise<T>,
      object,
    );
  }

  create<T extends K8sObject>(object: T): Promise<T> {
    return this.call(
      {
        verb: 'POST',
        path: objectPath(object.apiVersion, object.kind, object.metadata.namespace),
        summary: `create ${object.kind} ${object.metadata.name}${summarize(object)}`,
      },
      () => this.cluster.objects.create(object, undefined, undefined, FIELD_MANAGER) as Promise<T>,
      object,
    );
  }

  /** Deletes an object; one that is already gone is not an error. */
  async delete(object: Pick<K8sObject, 'apiVersion' | 'kind' | 'metadata'>, gracePeriodSeconds?: number): Promise<void> {
    const path = objectPath(object.apiVersion, object.kind, object.metadata.namespace, object.metadata.name);
    const grace = gracePeriodSeconds === undefined ? '' : ` gracePeriodSeconds=${gracePeriodSeconds}`;
    await this.call(
      { verb: 'DELETE', path, summary: `delete ${object.kind} ${object.metadata.name}${grace} propagationPolicy=Background` },
      async () => {
        try {
          await this.cluster.objects.delete(object, undefined, undefined, gracePeriodSeconds, undefined, 'Background');
        } catch (err) {
          if (apiStatus(err) !== 404) throw err;
        }
      },
      undefined,
    );
  }

  deletePod(name: string, gracePeriodSeconds: number): Promise<void> {
    return this.delete({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: this.namespace } }, gracePeriodSeconds);
  }

  /** The Eviction API (what kubectl drain uses): honours PodDisruptionBudgets, answering 429 while one forbids it. */
  evictPod(name: string, gracePeriodSeconds: number): Promise<void> {
    const path = `${objectPath('v1', 'Pod', this.namespace, name)}/eviction`;
    return this.call(
      { verb: 'POST', path, summary: `evict pod ${name} (policy/v1 Eviction, deleteOptions.gracePeriodSeconds=${gracePeriodSeconds})` },
      async () => {
        await this.cluster.core.createNamespacedPodEviction({
          name,
          namespace: this.namespace,
          body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: this.namespace }, deleteOptions: { gracePeriodSeconds } },
        });
      },
      undefined,
    );
  }

  /**
   * Cordons or uncordons a node (spec.unschedulable, as kubectl does), marking a node migbench
   * cordoned with an annotation, so `migbench cleanup` can find it after a crash.
   */
  setUnschedulable(node: string, unschedulable: boolean, runId: string): Promise<void> {
    // null removes the field (JSON merge patch): an uncordoned node looks as if never touched.
    const patch = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: node, annotations: { [CORDONED_BY_ANNOTATION]: unschedulable ? cordonOwner(this.namespace, runId) : null } },
      spec: { unschedulable: unschedulable ? true : null },
    } as unknown as K8sObject;
    return this.call(
      {
        verb: 'PATCH',
        path: objectPath('v1', 'Node', undefined, node),
        summary: `merge patch spec.unschedulable=${unschedulable} (${unschedulable ? 'cordon' : 'uncordon'} ${node})`,
      },
      async () => {
        await this.cluster.objects.patch(patch, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch);
      },
      undefined,
    );
  }

  /**
   * Points the Service at the pods labelled `label=value` instead (a merge patch of one selector key):
   * the endpoints controller then drops the old pods and adds the new in one EndpointSlice update.
   */
  switchServiceTo(service: string, label: string, value: string): Promise<void> {
    const patch = { apiVersion: 'v1', kind: 'Service', metadata: { name: service, namespace: this.namespace }, spec: { selector: { [label]: value } } };
    return this.call(
      { verb: 'PATCH', path: objectPath('v1', 'Service', this.namespace, service), summary: `merge patch spec.selector.${label}=${value}` },
      async () => {
        await this.cluster.objects.patch(patch as K8sObject, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch);
      },
      undefined,
    );
  }

  /** A mutating request to something other than the API server (the operator's REST API), printed the same way in a dry run. */
  external(verb: ApiCall['verb'], url: string, summary: string, run: () => Promise<void>): Promise<void> {
    return this.call({ verb, path: url, summary }, run, undefined);
  }

  // Reads: made in dry runs too.

  async listPods(labelSelector: string): Promise<V1Pod[]> {
    return (await this.cluster.core.listNamespacedPod({ namespace: this.namespace, labelSelector })).items;
  }

  /** The Service's EndpointSlices (which pods kube-proxy sends its traffic to). */
  async listEndpointSlices(service: string): Promise<V1EndpointSlice[]> {
    this.discovery ??= this.cluster.kubeConfig.makeApiClient(DiscoveryV1Api);
    return (await this.discovery.listNamespacedEndpointSlice({ namespace: this.namespace, labelSelector: `kubernetes.io/service-name=${service}` })).items;
  }

  private discovery: DiscoveryV1Api | undefined;
}

/** The parts of a body worth a glance in a dry run: labels, node placement, replicas, the Podmigration's spec. */
function summarize(object: K8sObject): string {
  const parts: string[] = [];
  const labels = object.metadata.labels;
  if (labels)
    parts.push(
      `labels ${Object.entries(labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}`,
    );
  const spec = object.spec ?? {};
  if (typeof spec.replicas === 'number' && object.kind !== 'Podmigration') parts.push(`replicas ${spec.replicas}`);
  const podSpec = object.kind === 'Pod' ? spec : spec.template?.spec;
  const terms = podSpec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms as
    | { matchFields?: { values?: string[] }[] }[]
    | undefined;
  if (terms) parts.push(`nodes ${terms.flatMap((t) => t.matchFields?.[0]?.values ?? []).join('|')}`);
  if (object.kind === 'Podmigration')
    parts.push(`spec ${JSON.stringify({ action: spec.action, sourcePod: spec.sourcePod, destHost: spec.destHost, snapshotPath: spec.snapshotPath })}`);
  if (object.kind === 'Service') parts.push(`type ${spec.type ?? 'ClusterIP'}`);
  return parts.length > 0 ? `: ${parts.join('; ')}` : '';
}
