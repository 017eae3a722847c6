// `podmigration`: the SSU-DCN podmigration-operator's live migration (github.com/SSU-DCN/
// podmigration-operator). migbench asks for it as a user does — a `Podmigration` resource
// (podmig.dcn.ssu.ac.kr/v1, action live-migration), or the operator's REST API (POST /Podmigrations)
// — and watches the pods for the result, because the operator writes no status. Its controller
// (controllers/podmigration_controller.go) has the modified kubelet checkpoint the source pod into
// the snapshot path, creates the restored pod on destHost — named `<source>-migration-<n>`, the
// source's labels, annotations `sourcePod`, `snapshotPolicy: restore`, `snapshotPath`, and the
// Podmigration as its controlling owner — then deletes the source pod. Completion here is the
// restored pod Running and ready, and the source pod gone.
import type { K8sObject } from '../../platforms/kubernetes/api.ts';
import { labelValue } from '../../platforms/kubernetes/manifests.ts';
import { PODMIGRATION_API_VERSION, PODMIGRATION_KIND } from '../../platforms/kubernetes/podmigration-operator.ts';
import type { WatchedPod } from '../../platforms/kubernetes/pod-watch.ts';
import type { PodmigrationStrategyOptions } from './options.ts';
import { describeApiError } from '../../platforms/kubernetes/cluster.ts';
import {
  isServing,
  type KubernetesMigrationContext,
  type KubernetesMigrationOutcome,
  type KubernetesPreflightContext,
  type KubernetesStrategy,
} from '../entry/kubernetes-strategy.ts';

const SOURCE = 'strategy:podmigration';
/**
 * The mark migbench's test double of the operator (test/platforms/kubernetes/podmigration-operator-
 * double.ts) puts on every pod it restores. The SSU-DCN operator never writes it, so a row can only
 * say `test-double` when the double made the pod; a real operator's rows cannot be mislabelled.
 */
export const OPERATOR_DOUBLE_ANNOTATION = 'migbench.io/operator-test-double';

/** Who restored the pod: `test-double` when the double marked it, else `real` (trials.csv's `operator`). */
export type PodmigrationOperator = 'test-double' | 'real';

export function operatorOf(restored: WatchedPod, source: WatchedPod): PodmigrationOperator {
  // The operator copies the source's annotations onto the restored pod: a mark the source already
  // carried (put there by someone else) proves nothing about who restored it.
  const marked = (p: WatchedPod) => p.annotations[OPERATOR_DOUBLE_ANNOTATION] === 'true';
  return marked(restored) && !marked(source) ? 'test-double' : 'real';
}

/** The pod the operator restored for `migration` from `sourcePod` (the operator sets any of these marks). */
function isRestoredPod(pod: WatchedPod, migration: string, sourcePod: string): boolean {
  if (pod.name === sourcePod) return false;
  return (
    pod.ownerReferences.some((o) => o.kind === PODMIGRATION_KIND && o.name === migration) ||
    pod.labels.migratingPod === migration ||
    (pod.annotations.sourcePod === sourcePod && pod.annotations.snapshotPolicy === 'restore')
  );
}

export class PodmigrationStrategy implements KubernetesStrategy {
  readonly name = 'podmigration';
  readonly shape = 'pod';
  private readonly options: PodmigrationStrategyOptions;

  constructor(options: PodmigrationStrategyOptions) {
    this.options = options;
  }

  /**
   * api: resource needs the operator's resource type served, or every trial would fail the same way;
   * api: rest works in namespace default only (the loader checked the scenario's; --namespace may name another).
   */
  async preflight({ cluster }: KubernetesPreflightContext): Promise<string[]> {
    if (this.options.api === 'rest') {
      if (cluster.namespace === 'default') return [];
      return [
        `--namespace ${cluster.namespace}: podmigration api: rest works in namespace default only (the operator's REST API creates its resources there); use api: resource, or namespace default`,
      ];
    }
    try {
      await cluster.objects.list(PODMIGRATION_API_VERSION, PODMIGRATION_KIND, cluster.namespace);
      return [];
    } catch (err) {
      return [
        `strategies: podmigration: the cluster does not serve ${PODMIGRATION_API_VERSION} Podmigration (${describeApiError(err)}); install the podmigration-operator (or at least its CRD: kubectl apply -f deploy/kubernetes/podmigration-crd.yaml)`,
      ];
    }
  }

  /** The resource's name: one per trial, so a leftover of an earlier trial is never mistaken for this one. */
  migrationName(ctx: KubernetesMigrationContext): string {
    const trial = ctx.manifests.podTemplate.metadata.labels['migbench.io/trial'] ?? '0';
    return `${labelValue(ctx.sourcePod.name).slice(0, 40)}-${trial}-${Date.now().toString(36)}`.toLowerCase();
  }

  async migrate(ctx: KubernetesMigrationContext): Promise<KubernetesMigrationOutcome> {
    const { api, events, sourcePod } = ctx;
    const name = this.migrationName(ctx);
    if (this.options.api === 'rest') {
      await this.requestOverRest(ctx, name);
    } else {
      const migration: K8sObject = {
        apiVersion: PODMIGRATION_API_VERSION,
        kind: PODMIGRATION_KIND,
        metadata: { name, namespace: api.namespace, labels: { 'app.kubernetes.io/managed-by': 'migbench', 'migbench.io/run': labelValue(ctx.runId) } },
        spec: {
          replicas: 1,
          sourcePod: sourcePod.name,
          destHost: ctx.targetNode,
          snapshotPath: this.options.snapshotPath,
          selector: { matchLabels: ctx.manifests.appLabels },
          // Without a template name the operator takes the source pod's own (getSourcePodTemplate).
          template: { metadata: { labels: ctx.manifests.podTemplate.metadata.labels }, spec: { containers: [] } },
          action: 'live-migration',
        },
      };
      ctx.created(migration);
      await api.create(migration);
    }
    events.emit(SOURCE, 'requested', `${name}: ${sourcePod.name} -> ${ctx.targetNode} (${this.options.api})`);
    const restored = await ctx.pods.waitForPod(
      `the pod restored by ${name} ready on ${ctx.targetNode}`,
      (p) => isRestoredPod(p, name, sourcePod.name) && p.node === ctx.targetNode && isServing(p),
      ctx.readyTimeoutMs,
      ctx.signal,
    );
    const operator = operatorOf(restored, sourcePod);
    events.emit(SOURCE, 'ready', `${restored.name} on ${restored.node}`);
    events.emit(SOURCE, 'operator', operator === 'test-double' ? "test-double: restored by migbench's test double of the operator, not checkpointed" : 'real');
    await ctx.pods.waitGone(sourcePod.name, ctx.readyTimeoutMs, ctx.signal);
    events.emit(SOURCE, 'source_deleted', sourcePod.name);
    return { pod: restored, operator };
  }

  /** The operator's api-server: POST /Podmigrations {name, action, sourcePod, destHost, snapshotPath}. */
  private async requestOverRest(ctx: KubernetesMigrationContext, name: string): Promise<void> {
    const url = `${this.options.restUrl!.replace(/\/$/, '')}/Podmigrations`;
    const body = { name, action: 'live-migration', sourcePod: ctx.sourcePod.name, destHost: ctx.targetNode, snapshotPath: this.options.snapshotPath };
    // The REST API creates the resource in `default` with no labels: teardown deletes it by name.
    ctx.created({ apiVersion: PODMIGRATION_API_VERSION, kind: PODMIGRATION_KIND, metadata: { name, namespace: ctx.api.namespace } });
    await ctx.api.external('POST', url, JSON.stringify(body), async () => {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: ctx.signal });
      if (!response.ok) throw new Error(`podmigration: POST ${url} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
    });
  }
}
