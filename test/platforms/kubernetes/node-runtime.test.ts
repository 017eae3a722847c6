// run.json's record of what each node runs: the ContainerCheckpoint gate as the kubelet's /metrics
// reports it (the effective value, whatever the configuration says).
import { expect, it } from 'vitest';
import { checkpointGate } from '../../../src/platforms/kubernetes/node-runtime.ts';

it.each([
  ['kubernetes_feature_enabled{name="ContainerCheckpoint",stage="BETA"} 1\n', 'on'],
  ['# HELP x\nkubernetes_feature_enabled{name="AllAlpha",stage="ALPHA"} 0\nkubernetes_feature_enabled{name="ContainerCheckpoint",stage="ALPHA"} 0\n', 'off'],
  ['kubernetes_feature_enabled{name="Other",stage=""} 1\n', undefined],
])("reads the gate from the kubelet's metrics (%#)", (metrics, gate) => {
  expect(checkpointGate(metrics)).toBe(gate);
});
