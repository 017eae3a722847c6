// What a trial applies: the workload's own manifest, in the scenario's namespace, marked as
// migbench's (cleanup finds it by that), its pods selected by the trial alone, and placed on the
// source node — a Deployment (for drain) free to go to the target too, a bare pod (re-deploy,
// podmigration) pinned to the source.
import { describe, expect, it } from 'vitest';
import { GENERATION_LABEL, labelValue, prepareManifests, readWorkloadManifests, RESTORED_GENERATION } from '../../../src/platforms/kubernetes/manifests.ts';
import { restoredPodLabels } from '../../../src/strategies/kubelet-checkpoint/after-checkpoint.ts';
import { workloadSchema } from '../../../src/scenario/schema.ts';
import { createWorkload } from '../../../src/workloads/registry.ts';

const options = { namespace: 'bench', runId: '20261125T070138Z-k8s-sim', trial: 3, source: 'worker-a', target: 'worker-b' };
/** The node names a pod may run on: one term per node (the API allows one name per field selector). */
const required = (spec: any) => spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.map((t: any) => t.matchFields[0]);

describe.each(['redis', 'video', 'ml-training'])('workloads/%s/k8s.yaml on a cluster', (type) => {
  const original = readWorkloadManifests(type);

  it('as a Deployment: every object in the namespace and labelled, the pods of this trial only, source preferred, target allowed', () => {
    const m = prepareManifests(original, { ...options, shape: 'deployment' });
    expect(m.objects.map((o) => o.kind).sort()).toEqual(original.map((o) => o.kind).sort());
    for (const o of m.objects) {
      expect(o.metadata.namespace).toBe('bench');
      expect(o.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'migbench', 'migbench.io/run': '20261125T070138Z-k8s-sim' });
    }
    expect(m.owner.kind).toBe('Deployment');
    expect(m.owner.spec.selector.matchLabels).toEqual({ ...m.appLabels, 'migbench.io/trial': '3' });
    expect(m.owner.spec.template.metadata.labels).toMatchObject(m.owner.spec.selector.matchLabels);
    expect(required(m.owner.spec.template.spec)).toEqual([
      { key: 'metadata.name', operator: 'In', values: ['worker-a'] },
      { key: 'metadata.name', operator: 'In', values: ['worker-b'] },
    ]);
    expect(m.owner.spec.template.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchFields[0].values).toEqual([
      'worker-a',
    ]);
    expect(m.podSelector).toBe(`app=${m.appLabels.app},migbench.io/run=20261125T070138Z-k8s-sim,migbench.io/trial=3`);
    // The objects given are not changed (the next trial starts from the file's manifest again).
    expect(original.find((o) => o.kind === 'Deployment')!.metadata.namespace).toBeUndefined();
  });

  it("as a StatefulSet of one (drain, controller: statefulset): the Deployment's template and volumes, its Service as serviceName, source preferred, target allowed", () => {
    const m = prepareManifests(original, { ...options, shape: 'statefulset' });
    expect(m.objects.map((o) => o.kind).sort()).toEqual(original.map((o) => (o.kind === 'Deployment' ? 'StatefulSet' : o.kind)).sort());
    const deployment = original.find((o) => o.kind === 'Deployment')!;
    expect(m.owner).toMatchObject({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: deployment.metadata.name, namespace: 'bench', labels: { 'app.kubernetes.io/managed-by': 'migbench' } },
    });
    expect(m.owner.spec.replicas).toBe(1);
    expect(m.owner.spec.serviceName).toBe(original.find((o) => o.kind === 'Service')!.metadata.name);
    expect(m.owner.spec.selector.matchLabels).toEqual({ ...m.appLabels, 'migbench.io/trial': '3' });
    expect(m.owner.spec.template.spec.containers).toEqual(deployment.spec.template.spec.containers);
    expect(m.owner.spec.template.spec.volumes).toEqual(deployment.spec.template.spec.volumes);
    // A Deployment's own fields are not StatefulSet fields (the API server would refuse them).
    expect(Object.keys(m.owner.spec).sort()).toEqual(['replicas', 'selector', 'serviceName', 'template']);
    expect(required(m.owner.spec.template.spec).map((t: any) => t.values[0])).toEqual(['worker-a', 'worker-b']);
  });

  it("the Service selects the template's pods (generation 0) and not a restored pod until its selector switches (one EndpointSlice update)", () => {
    const m = prepareManifests(original, { ...options, shape: 'pod' });
    const service = m.objects.find((o) => o.kind === 'Service')!;
    const selects = (labels: Record<string, string>) => Object.entries(service.spec.selector).every(([k, v]) => labels[k] === v);
    expect(service.spec.selector).toMatchObject({ ...original.find((o) => o.kind === 'Service')!.spec.selector, [GENERATION_LABEL]: '0' });
    expect(selects(m.podTemplate.metadata.labels)).toBe(true);
    const restored = restoredPodLabels(m.podTemplate.metadata.labels);
    expect(selects(restored)).toBe(false);
    // What KubeApi.switchServiceTo merges into the selector: the restored pod alone matches it.
    const switched = { ...service.spec.selector, [GENERATION_LABEL]: RESTORED_GENERATION };
    expect(Object.entries(switched).every(([k, v]) => restored[k] === v)).toBe(true);
    expect(Object.entries(switched).every(([k, v]) => m.podTemplate.metadata.labels[k] === v)).toBe(false);
    // The trial's pods are still found by podSelector, whichever generation.
    expect(m.podSelector).not.toContain(GENERATION_LABEL);
  });

  it("as a bare pod: the Deployment's pod template, pinned to the source, the same Service and claims", () => {
    const m = prepareManifests(original, { ...options, shape: 'pod' });
    expect(m.owner.kind).toBe('Pod');
    expect(m.objects.some((o) => o.kind === 'Deployment')).toBe(false);
    const deployment = original.find((o) => o.kind === 'Deployment')!;
    expect(m.owner.metadata.name).toBe(deployment.metadata.name);
    expect(m.owner.spec.containers).toEqual(deployment.spec.template.spec.containers);
    expect(required(m.owner.spec)).toEqual([{ key: 'metadata.name', operator: 'In', values: ['worker-a'] }]);
    expect(m.objects.filter((o) => o.kind === 'Service')).toHaveLength(1);
  });
});

it('makes label values Kubernetes accepts (≤ 63 characters, alphanumeric at both ends)', () => {
  expect(labelValue('20261125T070138Z-default')).toBe('20261125T070138Z-default');
  expect(labelValue(`-${'x'.repeat(80)}/`)).toMatch(/^x{62,63}$/);
});

describe("the app container on a cluster runs with the scenario's workload options, as the local pod does", () => {
  it.each([
    { config: { type: 'redis', appendfsync: 'always' }, flag: '--appendfsync', value: 'always' },
    { config: { type: 'video', fps: 10, bitrateKbps: 500 }, flag: '--fps', value: '10' },
    { config: { type: 'video', fps: 10, bitrateKbps: 500 }, flag: '--bitrate-kbps', value: '500' },
    { config: { type: 'ml-training', modelWidth: 48, threads: 2 }, flag: '--model-width', value: '48' },
  ])('$config.type: $flag $value', ({ config, flag, value }) => {
    const workload = createWorkload(workloadSchema.parse(config));
    for (const shape of ['deployment', 'statefulset', 'pod'] as const) {
      const m = prepareManifests(readWorkloadManifests(config.type), { ...options, shape, app: workload.podSpec() });
      const [container] = (shape === 'pod' ? m.owner.spec : m.owner.spec.template.spec).containers;
      expect(container.args, shape).toEqual(workload.podSpec().args);
      expect(container.args[container.args.indexOf(flag) + 1], shape).toBe(value);
    }
  });

  it("sets the workload's environment over the manifest's, by name (ml-training: one BLAS thread per configured thread)", () => {
    const workload = createWorkload(workloadSchema.parse({ type: 'ml-training', threads: 3 }));
    const m = prepareManifests(readWorkloadManifests('ml-training'), { ...options, shape: 'deployment', app: workload.podSpec() });
    const env = m.owner.spec.template.spec.containers[0].env as { name: string; value: string }[];
    expect(env.filter((e) => e.name === 'OMP_NUM_THREADS')).toEqual([{ name: 'OMP_NUM_THREADS', value: '3' }]);
    expect(env.find((e) => e.name === 'OPENBLAS_NUM_THREADS')?.value).toBe('3');
    expect(m.owner.spec.template.spec.containers[0].args).toContain('--threads');
  });
});

it('puts kubernetes.nodeSelector and kubernetes.tolerations on the pods of every shape', () => {
  const tolerations = [{ key: 'bench', operator: 'Exists', effect: 'NoSchedule' }];
  for (const shape of ['deployment', 'statefulset', 'pod'] as const) {
    const m = prepareManifests(readWorkloadManifests('video'), { ...options, shape, nodeSelector: { pool: 'b' }, tolerations });
    const spec = shape === 'pod' ? m.owner.spec : m.owner.spec.template.spec;
    expect(spec.nodeSelector, shape).toEqual({ pool: 'b' });
    expect(spec.tolerations, shape).toEqual(tolerations);
    expect(m.podTemplate.spec.nodeSelector, shape).toEqual({ pool: 'b' });
  }
});

it('gives the claims kubernetes.storageClass, and leaves them to the default class without it', () => {
  for (const type of ['redis', 'ml-training']) {
    const claim = (storageClass?: string) =>
      prepareManifests(readWorkloadManifests(type), { ...options, shape: 'deployment', ...(storageClass ? { storageClass } : {}) }).objects.find(
        (o) => o.kind === 'PersistentVolumeClaim',
      )!;
    expect(claim('nfs').spec).toMatchObject({ storageClassName: 'nfs', accessModes: ['ReadWriteMany'] });
    expect(claim().spec).not.toHaveProperty('storageClassName');
  }
});
