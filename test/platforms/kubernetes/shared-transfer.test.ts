// kubernetes.checkpointTransfer: shared-volume — the scenario field refused where no strategy moves
// an archive (named with the fix), the agent DaemonSet mounting the shared claim only when installed
// with one, and the claim checks' messages (missing, not ReadWriteMany, lost), each naming the fix.
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError } from '../../../src/scenario/load.ts';
import { agentObjects, DEFAULT_AGENT_NODE_PATHS, SHARED_MOUNT } from '../../../src/platforms/kubernetes/agent/agent-manifests.ts';
import {
  SHARED_CLAIM,
  sharedClaimName,
  sharedClaimObject,
  sharedClaimOf,
  sharedClaimProblem,
} from '../../../src/platforms/kubernetes/agent/agent-shared-volume.ts';

function problemsOf(text: string) {
  try {
    parseScenario('k8s.yaml', text);
  } catch (err) {
    if (err instanceof ScenarioError) return err.problems.map((p) => ({ path: p.path, expected: p.expected, found: p.found }));
    throw err;
  }
  return [];
}

const K8S = 'platform: kubernetes\nworkloads: [{ type: redis }]\n';

describe('kubernetes.checkpointTransfer', () => {
  it.each([
    ['kubelet-checkpoint (import)', 'kubelet-checkpoint'],
    ['runtime-restore', 'runtime-restore'],
    ['kubelet-checkpoint beside drain', 'drain, kubelet-checkpoint'],
  ])('accepts shared-volume with %s', (_, strategies) => {
    const { scenario } = parseScenario('k8s.yaml', `${K8S}kubernetes: { probes: false, checkpointTransfer: shared-volume }\nstrategies: [${strategies}]\n`);
    expect(scenario.kubernetes?.checkpointTransfer).toBe('shared-volume');
  });

  it('is absent unless written (the stream, as before: run.json of existing scenarios unchanged)', () => {
    const { scenario } = parseScenario('k8s.yaml', `${K8S}kubernetes: { probes: false }\nstrategies: [kubelet-checkpoint]\n`);
    expect(scenario.kubernetes).not.toHaveProperty('checkpointTransfer');
  });

  it.each([
    [
      'no strategy that moves an archive',
      'strategies: [drain, redeploy]',
      /^shared-volume only with kubelet-checkpoint or runtime-restore .*drop checkpointTransfer$/,
    ],
    [
      'kubelet-checkpoint through the registry',
      'strategies: [{ name: kubelet-checkpoint, delivery: registry, registry: "198.19.240.1:5000" }]',
      /with delivery: registry the image goes through the registry; drop checkpointTransfer or use delivery: import/,
    ],
  ])('refuses shared-volume with %s, naming the fix', (_, strategies, expected) => {
    const problems = problemsOf(`${K8S}kubernetes: { probes: false, checkpointTransfer: shared-volume }\n${strategies}\n`);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe('kubernetes.checkpointTransfer');
    expect(problems[0]!.expected).toMatch(expected);
  });

  it('refuses a way it does not know', () => {
    const problems = problemsOf(`${K8S}kubernetes: { probes: false, checkpointTransfer: nfs }\nstrategies: [kubelet-checkpoint]\n`);
    expect(problems.map((p) => p.path)).toEqual(['kubernetes.checkpointTransfer']);
    expect(problems[0]!.expected).toMatch(/stream.*shared-volume/);
  });
});

describe('the agent with a shared volume', () => {
  const podOf = (sharedClaim?: string) => agentObjects('agent:1', DEFAULT_AGENT_NODE_PATHS, undefined, [], sharedClaim)[1]!;

  it('mounts the claim at SHARED_DIR only when installed with one', () => {
    const withShared = podOf('nfs-archives');
    const container = withShared.spec.template.spec.containers[0];
    expect(withShared.spec.template.spec.volumes).toContainEqual({ name: 'shared', persistentVolumeClaim: { claimName: 'nfs-archives' } });
    expect(container.volumeMounts).toContainEqual({ name: 'shared', mountPath: SHARED_MOUNT });
    expect(container.env).toContainEqual({ name: 'SHARED_DIR', value: SHARED_MOUNT });
    expect(sharedClaimOf(withShared)).toBe('nfs-archives');

    const plain = podOf();
    expect(JSON.stringify(plain)).not.toMatch(/shared|SHARED_DIR/i);
    expect(sharedClaimOf(plain)).toBeUndefined();
  });

  it('makes an RWX claim of the class for --shared-class, uses the named one for --shared-claim', () => {
    expect(sharedClaimName({ storageClass: 'nfs-csi' })).toBe(SHARED_CLAIM);
    expect(sharedClaimName({ claim: 'lab-archives' })).toBe('lab-archives');
    const claim = sharedClaimObject('nfs-csi');
    expect(claim.metadata).toMatchObject({ name: SHARED_CLAIM, namespace: 'migbench-agent' });
    expect(claim.spec).toMatchObject({ accessModes: ['ReadWriteMany'], storageClassName: 'nfs-csi' });
  });

  it.each([
    ['missing', undefined, /^no PersistentVolumeClaim archives in namespace migbench-agent; FIX$/],
    [
      'ReadWriteOnce',
      { spec: { accessModes: ['ReadWriteOnce'] }, status: { phase: 'Bound' } },
      /^PersistentVolumeClaim migbench-agent\/archives is ReadWriteOnce, not ReadWriteMany: both nodes' agents must mount it at once; FIX$/,
    ],
    ['Lost', { spec: { accessModes: ['ReadWriteMany'] }, status: { phase: 'Lost' } }, /^PersistentVolumeClaim migbench-agent\/archives is Lost; FIX$/],
  ])('names a claim that cannot be the shared volume: %s', (_, claim, expected) => {
    expect(sharedClaimProblem('archives', claim, 'FIX')).toMatch(expected);
  });

  it('takes a bound (or still binding) ReadWriteMany claim', () => {
    expect(sharedClaimProblem('archives', { spec: { accessModes: ['ReadWriteMany'] }, status: { phase: 'Bound' } }, 'FIX')).toBeUndefined();
    expect(sharedClaimProblem('archives', { spec: { accessModes: ['ReadWriteMany'] }, status: { phase: 'Pending' } }, 'FIX')).toBeUndefined();
  });
});
