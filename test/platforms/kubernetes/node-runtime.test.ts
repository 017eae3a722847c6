// run.json's record of what each node runs: the ContainerCheckpoint gate as the kubelet's /metrics
// reports it (the effective value, whatever the configuration says), and containerd's restore
// settings as the node agent reads them, which replace the version's default where containerd has the setting.
import { expect, it } from 'vitest';
import { checkpointGate, withAgentFacts } from '../../../src/platforms/kubernetes/node-runtime.ts';
import { restoreSettingsFacts, restoreWindow, type CriRestoreSettings } from '../../../src/platforms/kubernetes/runtime-window.ts';

it.each([
  ['kubernetes_feature_enabled{name="ContainerCheckpoint",stage="BETA"} 1\n', 'on'],
  ['# HELP x\nkubernetes_feature_enabled{name="AllAlpha",stage="ALPHA"} 0\nkubernetes_feature_enabled{name="ContainerCheckpoint",stage="ALPHA"} 0\n', 'off'],
  ['kubernetes_feature_enabled{name="Other",stage=""} 1\n', undefined],
])("reads the gate from the kubelet's metrics (%#)", (metrics, gate) => {
  expect(checkpointGate(metrics)).toBe(gate);
});

const runc = { defaultRuntime: 'runc', podAnnotations: ['org.criu.config'], criuConfigAnnotation: 'true' } as const;

it.each<[string, CriRestoreSettings, Record<string, string>]>([
  [
    'on, as the lab sets it',
    { restoreViaCreate: 'true', ...runc, podAnnotations: ['org.criu.config'] },
    {
      checkpointRestore: 'on (enable_experimental_restore_via_create = true)',
      criuConfigAnnotation: 'passed (runtime runc: pod_annotations = ["org.criu.config"])',
    },
  ],
  [
    "off, containerd's default",
    { restoreViaCreate: 'false', defaultRuntime: 'runc', podAnnotations: null, criuConfigAnnotation: 'false' },
    { checkpointRestore: 'off (enable_experimental_restore_via_create = false)', criuConfigAnnotation: 'not passed (runtime runc: pod_annotations = [])' },
  ],
  [
    'absent (containerd 2.4, or before 2.2.7/2.3.4): the window stays',
    { restoreViaCreate: 'absent', ...runc, podAnnotations: ['org.*'] },
    {
      criuConfigAnnotation: 'passed (runtime runc: pod_annotations = ["org.*"])',
    },
  ],
  [
    'unknown: why, beside the window',
    { restoreViaCreate: 'unknown', restoreViaCreateWhy: 'no CRI', podAnnotations: [], criuConfigAnnotation: 'unknown', criuConfigAnnotationWhy: 'no CRI' },
    { checkpointRestoreSetting: 'unknown (no CRI)', criuConfigAnnotation: 'unknown (no CRI)' },
  ],
])('records the restore settings the agent read: %s', (_, settings, facts) => {
  expect(restoreSettingsFacts(settings)).toEqual(facts);
});

it("records the node's setting over the version's default, and the default where the agent does not tell", () => {
  const window = { checkpointRestore: restoreWindow('containerd://2.3.7').restore! };
  expect(window.checkpointRestore).toBe('off by default: needs enable_experimental_restore_via_create = true');
  const agent = { a: restoreSettingsFacts({ restoreViaCreate: 'true', ...runc, podAnnotations: ['org.criu.config'] }), b: { criu: '4.2.1' } };
  const merged = withAgentFacts({ a: window, b: window, c: window }, agent);
  expect(merged.a!.checkpointRestore).toBe('on (enable_experimental_restore_via_create = true)');
  expect(merged.b!.checkpointRestore).toBe('off by default: needs enable_experimental_restore_via_create = true');
  expect(merged.c).toEqual(window);
});
