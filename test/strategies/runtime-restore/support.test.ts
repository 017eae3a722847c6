// Which nodes runtime-restore refuses (its trials `unsupported`, with the reason) before any trial,
// and what the runtime handler asks of a node's containerd: from what the nodes report. The real
// handler is exercised in runtime-restore.host.test.ts.
import { expect, it } from 'vitest';
import type { CheckpointNodes } from '../../../src/platforms/kubernetes/checkpoint-nodes.ts';
import type { NodeInfo } from '../../../src/platforms/kubernetes/cluster.ts';
import type { KubeletApi } from '../../../src/platforms/kubernetes/kubelet-api.ts';
import { RESTORE_ANNOTATION, runtimeHandlerDropIn } from '../../../src/platforms/kubernetes/runtime-handler.ts';
import { runtimeHandlerRuntimeProblem, runtimeRestoreUnsupportedReason } from '../../../src/strategies/runtime-restore/support.ts';
import { containerdConfig } from '../../../src/lab/nodes/configs.ts';
import { nodeLayout } from '../../../src/lab/nodes/layout.ts';
import type { NodeBinaries } from '../../../src/lab/build/node-build.ts';

const node = (name: string, kubeletVersion: string, containerRuntimeVersion: string): NodeInfo => ({
  name,
  schedulable: true,
  ready: true,
  controlPlane: false,
  kubelet: { address: '198.19.240.10', port: 10250 },
  kubeletVersion,
  containerRuntimeVersion,
});
const gateOn = { checkpointApi: async () => ({ enabled: true }) } as unknown as KubeletApi;
const agent = { unsupportedReason: async () => undefined, unpackForRestore: async () => 'k' } as unknown as CheckpointNodes;

it.each([
  ['containerd://2.4.2', undefined],
  ['containerd://2.3.7', undefined],
  ['containerd://2.0.0', undefined],
  ['containerd://1.7.24', /needs containerd ≥ 2\.0/],
  ['cri-o://1.34.0', /containerd's runtime table only/],
])('a node on %s: %s', (runtime, problem) => {
  const found = runtimeHandlerRuntimeProblem(runtime);
  if (problem) expect(found).toMatch(problem);
  else expect(found).toBeUndefined();
});

it('accepts containerd 2.4 (which kubelet-checkpoint refuses) and names the kubelet or the runtime where they fall short', async () => {
  expect(await runtimeRestoreUnsupportedReason([node('a', 'v1.36.3', 'containerd://2.4.2')], gateOn, agent, 'migbench', undefined)).toBeUndefined();
  expect(await runtimeRestoreUnsupportedReason([node('a', 'v1.29.9', 'containerd://2.4.2')], gateOn, agent, 'migbench', undefined)).toMatch(
    /node a runs kubelet v1\.29\.9/,
  );
  expect(await runtimeRestoreUnsupportedReason([node('b', 'v1.36.3', 'cri-o://1.34.0')], gateOn, agent, 'migbench', undefined)).toMatch(/^node b runs cri-o/);
  expect(await runtimeRestoreUnsupportedReason([node('a', 'v1.36.3', 'containerd://2.4.2')], gateOn, undefined, 'migbench', undefined)).toMatch(
    /agent install --runtime-handler/,
  );
});

it('refuses a node whose kubelet reports runtime handlers without migbench, naming the install; a kubelet that reports none is not judged by it', async () => {
  const withHandlers = (handlers: string[] | undefined): NodeInfo => ({
    ...node('a', 'v1.36.3', 'containerd://2.3.7'),
    ...(handlers ? { runtimeHandlers: handlers } : {}),
  });
  expect(await runtimeRestoreUnsupportedReason([withHandlers(['', 'runc'])], gateOn, agent, 'migbench', undefined)).toBe(
    'node a has no runtime handler migbench (its status.runtimeHandlers: runc): install it with `migbench agent install --runtime-handler`',
  );
  expect(await runtimeRestoreUnsupportedReason([withHandlers(['', 'runc', 'migbench'])], gateOn, agent, 'migbench', undefined)).toBeUndefined();
  expect(await runtimeRestoreUnsupportedReason([withHandlers(undefined)], gateOn, agent, 'migbench', undefined)).toBeUndefined();
});

it("the drop-in puts the wrapper in containerd's runtime table with the restore annotation passed through", () => {
  const toml = runtimeHandlerDropIn('/var/lib/migbench-agent/bin/migbench-runc', true);
  expect(toml).toContain('[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.migbench]');
  expect(toml).toContain('runtime_type = "io.containerd.runc.v2"');
  expect(toml).toContain(`pod_annotations = ["org.criu.config", "${RESTORE_ANNOTATION}"]`);
  expect(toml).toContain('BinaryName = "/var/lib/migbench-agent/bin/migbench-runc"');
  expect(toml).toContain('SystemdCgroup = true');
});

it("the lab's containerd 2.4.2 config has no restore-via-create (2.4 removed it) and imports the drop-in directory; 2.3.7's keeps it", () => {
  const layout = nodeLayout('worker-a', 0);
  const config = (containerdVersion: string) =>
    containerdConfig(layout, { runc: '/runc', cniBinDir: '/cni', containerdVersion } as NodeBinaries, '/cni-conf', '/certs.d');
  expect(config('2.4.2')).not.toContain('enable_experimental_restore_via_create');
  expect(config('2.3.7')).toContain('enable_experimental_restore_via_create = true');
  expect(config('2.4.2')).toContain(`imports = ["${layout.runDir}/containerd.d/*.toml"]`);
});

it("asks the kubelet's checkpoint API by the route kubeletAccess names, as kubelet-checkpoint does (apiServer: the node proxy, for kubelets migbench cannot reach)", async () => {
  const routes: unknown[] = [];
  const recording = {
    checkpointApi: async (_node: unknown, _namespace: string, _signal: unknown, route: unknown) => {
      routes.push(route);
      return { enabled: true };
    },
  } as unknown as KubeletApi;
  const nodes = [node('a', 'v1.36.3', 'containerd://2.4.2')];
  expect(await runtimeRestoreUnsupportedReason(nodes, recording, agent, 'migbench', undefined, 'apiServer')).toBeUndefined();
  expect(await runtimeRestoreUnsupportedReason(nodes, recording, agent, 'migbench', undefined, 'direct')).toBeUndefined();
  expect(routes).toEqual(['apiServer', 'direct']);
});
