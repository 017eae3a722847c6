// A workload on a cluster is its manifest (workloads/<type>/k8s.yaml: a Deployment, a Service,
// maybe a claim), applied with what a trial needs added: the app's flags and environment from the
// scenario's workload options (the same as the local platform's pod; the file's args are only the
// defaults, for `kubectl apply`), the scenario's namespace, the labels that let migbench find (and
// clean up) only its own objects, and where the pod may run.
//
// Three shapes, chosen by the strategy: `deployment` keeps the Deployment (a drain needs a controller
// to recreate the evicted pod), `statefulset` turns it into a StatefulSet of one (drain with
// `controller: statefulset`: the replacement, of the same name, is created only once the evicted pod
// is gone), `pod` turns its pod template into one bare Pod (what the podmigration-operator and the
// original re-deploy script move: a pod that no controller replaces).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { PodSpec } from '../../model/pod-spec.ts';
import { MANAGED_BY_LABEL, type K8sObject } from './api.ts';
import { exposedService, type Exposure } from './service-exposure.ts';

const WORKLOADS_DIR = join(import.meta.dirname, '..', '..', '..', 'workloads');

export const RUN_LABEL = 'migbench.io/run';
export const TRIAL_LABEL = 'migbench.io/trial';
/**
 * Which of a trial's pods its Service sends traffic to: every pod of the template is generation
 * FIRST_GENERATION; a CRIU strategy's restored pod is RESTORED_GENERATION and joins the Service only
 * when the Service's selector switches to it — one EndpointSlice update that drops the source and adds
 * the restored pod together, so kube-proxy syncs once. (Two updates — the restored pod added, then
 * the source removed — had the second wait out kube-proxy's minSyncPeriod, 1 s by default.)
 */
export const GENERATION_LABEL = 'migbench.io/generation';
export const FIRST_GENERATION = '0';
export const RESTORED_GENERATION = '1';

export type WorkloadShape = 'deployment' | 'statefulset' | 'pod';

export interface TrialManifests {
  /** In apply order (claims and the Service before the pod's owner). */
  objects: K8sObject[];
  /** The Deployment, the StatefulSet, or the bare Pod. */
  owner: K8sObject;
  /** The pod as it is created (shape `pod`) or as the Deployment's template makes it. */
  podTemplate: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: any };
  /** Selects this trial's pods and nothing else (the watch and the teardown use it). */
  podSelector: string;
  /** The app's own label, e.g. app=migbench-video. */
  appLabels: Record<string, string>;
}

export function readWorkloadManifests(type: string): K8sObject[] {
  const file = join(WORKLOADS_DIR, type, 'k8s.yaml');
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

/** A label value: at most 63 characters of [A-Za-z0-9._-], starting and ending alphanumeric. */
export function labelValue(text: string): string {
  return text
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(-63)
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/[^A-Za-z0-9]+$/, '');
}

/**
 * Required placement on the named nodes, by node name (matchFields works whatever labels the nodes
 * carry; the API allows one name per field selector, so one term per node — terms are ORed).
 */
export function nodeAffinity(nodes: string[], preferred?: string): Record<string, unknown> {
  const byName = (node: string) => ({ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] });
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: nodes.map(byName) },
      ...(preferred ? { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: byName(preferred) }] } : {}),
    },
  };
}

export interface PrepareOptions {
  namespace: string;
  runId: string;
  trial: number;
  shape: WorkloadShape;
  source: string;
  target: string;
  /** Tolerations added to the pod (kubernetes.tolerations). */
  tolerations?: unknown[];
  /** The StorageClass of the claims (kubernetes.storageClass); default: the cluster's default class. */
  storageClass?: string;
  /** Labels the pod's node must carry (kubernetes.nodeSelector), over the manifest's own. */
  nodeSelector?: Record<string, string>;
  /** Annotations added to the pod (the strategy's: kubelet-checkpoint's CRIU options). */
  podAnnotations?: Record<string, string>;
  /** The workload as the scenario configures it: its flags become the app container's args, its environment is set over the file's. */
  app?: Pick<PodSpec, 'args' | 'env'>;
  /** How the probes reach the Service (its type); its nodePort is always the cluster's to allocate. */
  exposure?: Exposure;
  /** Where a Deployment's replacement may go (an evacuation's targets, or every other worker for the scheduler to choose); default: the target. */
  replacementNodes?: string[];
  /** Over the app container's readinessProbe (kubernetes.readinessProbe). */
  readinessProbe?: { periodSeconds?: number; initialDelaySeconds?: number };
}

/** The app container's readiness probe with the scenario's period and initial delay over the manifest's. */
function withReadinessProbe(podSpec: any, probe: { periodSeconds?: number; initialDelaySeconds?: number }): any {
  const [container, ...others] = podSpec.containers ?? [];
  if (!container?.readinessProbe) return podSpec;
  return { ...podSpec, containers: [{ ...container, readinessProbe: { ...container.readinessProbe, ...probe } }, ...others] };
}

/** A claim of the scenario's StorageClass (none named: the cluster's default, as the file leaves it). */
function withStorageClass(claim: K8sObject, storageClass: string | undefined): K8sObject {
  return storageClass === undefined ? claim : { ...claim, spec: { ...claim.spec, storageClassName: storageClass } };
}

/**
 * The pod's (only) app container with the workload's flags as args — the image's entrypoint is the
 * program, as PodSpec.command is locally — and its environment over the manifest's, by name.
 */
function withAppFlags(podSpec: any, app: Pick<PodSpec, 'args' | 'env'>): any {
  const [container, ...others] = podSpec.containers ?? [];
  if (!container) throw new Error("the workload manifest's pod has no container");
  const env: { name: string; value?: string }[] = [...(container.env ?? [])];
  for (const [name, value] of Object.entries(app.env ?? {})) {
    const at = env.findIndex((e) => e.name === name);
    if (at >= 0) env[at] = { name, value };
    else env.push({ name, value });
  }
  return { ...podSpec, containers: [{ ...container, args: [...(app.args ?? [])], ...(env.length > 0 ? { env } : {}) }, ...others] };
}

/** The Service selects the template's pods (generation FIRST_GENERATION) until a restored pod replaces them (KubeApi.switchServiceTo). */
function servingFirstGeneration(service: K8sObject): K8sObject {
  return { ...service, spec: { ...service.spec, selector: { ...service.spec?.selector, [GENERATION_LABEL]: FIRST_GENERATION } } };
}

export function prepareManifests(original: K8sObject[], options: PrepareOptions): TrialManifests {
  const marks = { [MANAGED_BY_LABEL]: 'migbench', [RUN_LABEL]: labelValue(options.runId) };
  const podMarks = { ...marks, [TRIAL_LABEL]: String(options.trial), [GENERATION_LABEL]: FIRST_GENERATION };
  const withMarks = (o: K8sObject, labels: Record<string, string>): K8sObject => ({
    ...structuredClone(o),
    metadata: { ...structuredClone(o.metadata), namespace: options.namespace, labels: { ...o.metadata.labels, ...labels } },
  });
  const deployment = original.find((o) => o.kind === 'Deployment');
  if (!deployment) throw new Error('the workload manifest has no Deployment');
  const template = structuredClone(deployment.spec.template) as TrialManifests['podTemplate'];
  const appLabels = { ...(deployment.spec.selector?.matchLabels ?? {}) } as Record<string, string>;
  template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, ...podMarks } };
  if (options.podAnnotations && Object.keys(options.podAnnotations).length > 0)
    template.metadata.annotations = { ...template.metadata.annotations, ...options.podAnnotations };
  const appSpec = options.app ? withAppFlags(template.spec, options.app) : template.spec;
  template.spec = {
    ...(options.readinessProbe ? withReadinessProbe(appSpec, options.readinessProbe) : appSpec),
    // A Deployment's replacement may go to either node, the source preferred for the first pod; a
    // bare pod starts on the source (re-deploy and podmigration pin the moved pod themselves).
    affinity:
      options.shape !== 'pod'
        ? nodeAffinity([options.source, ...(options.replacementNodes ?? [options.target])], options.source)
        : nodeAffinity([options.source]),
    ...(options.tolerations ? { tolerations: [...(template.spec?.tolerations ?? []), ...options.tolerations] } : {}),
    ...(options.nodeSelector ? { nodeSelector: { ...template.spec?.nodeSelector, ...options.nodeSelector } } : {}),
  };
  const others = original
    .filter((o) => o !== deployment)
    .map((o) =>
      withMarks(
        o.kind === 'Service'
          ? servingFirstGeneration(exposedService(o, options.exposure))
          : o.kind === 'PersistentVolumeClaim'
            ? withStorageClass(o, options.storageClass)
            : o,
        marks,
      ),
    );
  let owner: K8sObject;
  if (options.shape === 'deployment') {
    owner = withMarks(deployment, marks);
    owner.spec = { ...owner.spec, selector: { matchLabels: { ...appLabels, [TRIAL_LABEL]: String(options.trial) } }, template };
  } else if (options.shape === 'statefulset') {
    // The Deployment's pod template and volumes as they are (a claim shared by name, not a
    // volumeClaimTemplate: the data must be the same volume on either node); a Deployment's own
    // fields (strategy, progressDeadlineSeconds…) do not exist on a StatefulSet.
    const service = others.find((o) => o.kind === 'Service');
    owner = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: withMarks(deployment, marks).metadata,
      spec: {
        replicas: 1,
        serviceName: service?.metadata.name ?? deployment.metadata.name,
        selector: { matchLabels: { ...appLabels, [TRIAL_LABEL]: String(options.trial) } },
        template,
      },
    };
  } else {
    owner = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: deployment.metadata.name,
        namespace: options.namespace,
        labels: template.metadata.labels,
        ...(template.metadata.annotations ? { annotations: template.metadata.annotations } : {}),
      },
      spec: template.spec,
    };
  }
  const podSelector = Object.entries({ ...appLabels, [RUN_LABEL]: marks[RUN_LABEL], [TRIAL_LABEL]: String(options.trial) })
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return { objects: [...others, owner], owner, podTemplate: template, podSelector, appLabels };
}
