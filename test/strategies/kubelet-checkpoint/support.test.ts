// Which nodes kubelet-checkpoint refuses (its trials `unsupported`, with the reason) before any
// trial: from what the nodes report (kubelet and runtime versions), the kubelet's answer to a
// checkpoint of a pod that does not exist, and whether the node agent can take the node steps. The
// kubelet's answer is given here; the real one is exercised in kubelet-checkpoint.test.ts.
import { expect, it } from 'vitest';
import type { CheckpointNodes } from '../../../src/platforms/kubernetes/checkpoint-nodes.ts';
import { checkpointUnsupportedReason } from '../../../src/strategies/kubelet-checkpoint/support.ts';
import { restoreWindow, type CriRestoreSettings } from '../../../src/platforms/kubernetes/runtime-window.ts';
import type { NodeInfo } from '../../../src/platforms/kubernetes/cluster.ts';
import type { CheckpointApiState, KubeletApi } from '../../../src/platforms/kubernetes/kubelet-api.ts';

const node = (name: string, kubeletVersion: string, containerRuntimeVersion: string): NodeInfo => ({
  name,
  schedulable: true,
  ready: true,
  controlPlane: false,
  kubelet: { address: '198.19.240.10', port: 10250 },
  kubeletVersion,
  containerRuntimeVersion,
});
const kubeletAnswering = (state: CheckpointApiState) => ({ checkpointApi: async () => state }) as unknown as KubeletApi;
const gateOn = kubeletAnswering({ enabled: true });
/** docs/kubernetes.md's step 1, as the agent reads it back (the lab's nodes run so). */
const labSettings: CriRestoreSettings = {
  restoreViaCreate: 'true',
  defaultRuntime: 'runc',
  podAnnotations: ['org.criu.config'],
  criuConfigAnnotation: 'true',
  configFile: '/etc/containerd/config.toml',
};
const agentReading = (settings: Record<string, CriRestoreSettings | undefined>) =>
  ({ unsupportedReason: async () => undefined, restoreSettings: async (n: string) => settings[n] }) as unknown as CheckpointNodes;
const reachable = agentReading({ a: labSettings, b: labSettings });

it('accepts kubelet ≥ 1.30 on containerd 2.1–2.3 nodes migbench can reach', async () => {
  expect(
    await checkpointUnsupportedReason([node('a', 'v1.36.3', 'containerd://2.3.7'), node('b', 'v1.30.0', 'containerd://2.1.0')], gateOn, reachable, 'migbench'),
  ).toBeUndefined();
});

it.each([
  [
    'a kubelet older than 1.30 (gate off by default)',
    node('a', 'v1.29.4', 'containerd://2.3.7'),
    /kubelet v1\.29\.4: its checkpoint API .* on by default from 1\.30/,
  ],
  ['containerd 1.7', node('a', 'v1.36.3', 'containerd://1.7.24'), /containerd 1\.7\.24: checkpointing through the kubelet needs containerd ≥ 2\.0/],
  // containerd 2.0 checkpoints, but its CreateContainer restores no checkpoint image (2.1 added it).
  [
    'containerd 2.0',
    node('a', 'v1.36.3', 'containerd://2.0.5'),
    /containerd 2\.0\.5: containerd 2\.0 checkpoints but cannot restore from a checkpoint image \(that came in 2\.1/,
  ],
  ['containerd 2.4, which removed the restore', node('a', 'v1.36.3', 'containerd://2.4.0'), /containerd 2\.4\.0: containerd 2\.4 removed the restore/],
  [
    'CRI-O',
    node('a', 'v1.36.3', 'cri-o://1.34.1'),
    /runs cri-o:\/\/1\.34\.1: migbench restores checkpoint images through containerd only; CRI-O restores them .* with \[crio\.checkpoint_restore\] enabled/,
  ],
])('refuses %s, naming the node and the version', async (_, n, reason) => {
  expect(await checkpointUnsupportedReason([n], gateOn, reachable, 'migbench')).toMatch(reason);
});

it('refuses a kubelet whose checkpoint API is off, as the kubelet says', async () => {
  const off = kubeletAnswering({ enabled: false, reason: 'kubelet on 198.19.240.10 has no checkpoint API (feature gate ContainerCheckpoint off)' });
  expect(await checkpointUnsupportedReason([node('a', 'v1.36.3', 'containerd://2.3.7')], off, reachable, 'migbench')).toMatch(/ContainerCheckpoint off/);
});

it('refuses nodes without the node agent, and passes on what the agent reports of the nodes', async () => {
  const n = [node('a', 'v1.36.3', 'containerd://2.3.7')];
  expect(await checkpointUnsupportedReason(n, gateOn, undefined, 'migbench')).toMatch(/no node agent: install it with `migbench agent install`/);
  const notReady = { unsupportedReason: async () => "the node agent's pod migbench-agent-x on node a is not ready" } as unknown as CheckpointNodes;
  expect(await checkpointUnsupportedReason(n, gateOn, notReady, 'migbench')).toBe("the node agent's pod migbench-agent-x on node a is not ready");
});

it.each([
  ['containerd://2.1.4', 'on by default'],
  ['containerd://2.2.6', 'on by default'],
  ['containerd://2.2.7', 'off by default: needs enable_experimental_restore_via_create = true'],
  ['containerd://2.3.3', 'on by default'],
  ['containerd://2.3.4', 'off by default: needs enable_experimental_restore_via_create = true'],
  ['containerd://2.3.7', 'off by default: needs enable_experimental_restore_via_create = true'],
])('%s restores from a checkpoint image %s', (runtime, restore) => {
  expect(restoreWindow(runtime)).toEqual({ restore });
});

it.each([
  [
    'the restore via CreateContainer off',
    { restoreViaCreate: 'false' },
    'node b runs containerd 2.3.7 with enable_experimental_restore_via_create = false: it refuses the restore from a checkpoint image ("checkpoint restore via CreateContainer is disabled by configuration"); set it to true under [plugins."io.containerd.cri.v1.runtime"] in /etc/containerd/config.toml and restart containerd',
  ],
  [
    'org.criu.config not passed to runc',
    { criuConfigAnnotation: 'false', podAnnotations: null },
    'node b runs containerd 2.3.7 whose runtime runc (the default, which the pods get) has pod_annotations = []: containerd does not pass the pod annotation org.criu.config on to runc, so CRIU would run without the options migbench writes for each trial (established TCP connections); set pod_annotations = ["org.criu.config"] under [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc] in /etc/containerd/config.toml and restart containerd',
  ],
])("refuses a node whose containerd runs with %s, naming the setting and the file (the agent's reading)", async (_, changed, reason) => {
  const nodes = [node('a', 'v1.36.3', 'containerd://2.3.7'), node('b', 'v1.36.3', 'containerd://2.3.7')];
  const settings = { ...labSettings, ...changed } as CriRestoreSettings;
  expect(await checkpointUnsupportedReason(nodes, gateOn, agentReading({ a: labSettings, b: settings }), 'migbench')).toBe(reason);
});

it('names both settings when both are missing, in the file the agent names', async () => {
  const settings: CriRestoreSettings = {
    restoreViaCreate: 'false',
    defaultRuntime: 'crun',
    podAnnotations: ['io.kubernetes.cri.*'],
    criuConfigAnnotation: 'false',
    configFile: '/var/lib/nodes/a/containerd.toml',
  };
  const reason = await checkpointUnsupportedReason([node('a', 'v1.36.3', 'containerd://2.2.7')], gateOn, agentReading({ a: settings }), 'migbench');
  expect(reason).toMatch(
    /^node a runs containerd 2\.2\.7 with enable_experimental_restore_via_create = false: .* in \/var\/lib\/nodes\/a\/containerd\.toml and restart containerd; and whose runtime crun .* pod_annotations = \["io\.kubernetes\.cri\.\*"\]: .*under \[plugins\."io\.containerd\.cri\.v1\.runtime"\.containerd\.runtimes\.crun\] in \/var\/lib\/nodes\/a\/containerd\.toml and restart containerd$/,
  );
});

it('refuses nothing the agent could not read, or an older agent does not report: the version window stands', async () => {
  const unknown: CriRestoreSettings = {
    restoreViaCreate: 'unknown',
    restoreViaCreateWhy: "containerd's CRI status (RuntimeService.Status): Unimplemented",
    podAnnotations: [],
    criuConfigAnnotation: 'unknown',
  };
  const absent: CriRestoreSettings = { restoreViaCreate: 'absent', defaultRuntime: 'runc', podAnnotations: ['org.criu.config'], criuConfigAnnotation: 'true' };
  const nodes = [node('a', 'v1.36.3', 'containerd://2.3.7'), node('b', 'v1.36.3', 'containerd://2.3.3')];
  expect(await checkpointUnsupportedReason(nodes, gateOn, agentReading({ a: unknown, b: absent }), 'migbench')).toBeUndefined();
  expect(await checkpointUnsupportedReason(nodes, gateOn, agentReading({}), 'migbench')).toBeUndefined();
});

it("asks the agent for the settings only once it passed the agent's own checks", async () => {
  const asked: string[] = [];
  const notReady = {
    unsupportedReason: async () => 'the node agent on a: containerd at /run/containerd/containerd.sock: connection refused',
    restoreSettings: async (n: string) => (asked.push(n), labSettings),
  } as unknown as CheckpointNodes;
  expect(await checkpointUnsupportedReason([node('a', 'v1.36.3', 'containerd://2.3.7')], gateOn, notReady, 'migbench')).toMatch(/connection refused/);
  expect(asked).toEqual([]);
});
