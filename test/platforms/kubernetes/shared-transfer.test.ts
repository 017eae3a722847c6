// kubelet-checkpoint's and runtime-restore's `transfer: shared-volume` — the option, its label, refused
// with delivery: registry (named with the fix), the agent DaemonSet mounting the shared claim only when installed
// with one, and the claim checks' messages (missing, not ReadWriteMany, lost), each naming the fix.
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError } from '../../../src/scenario/load.ts';
import { strategyLabel } from '../../../src/strategies/registry.ts';
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

describe("kubelet-checkpoint's and runtime-restore's transfer", () => {
  it.each([
    ['kubelet-checkpoint', 'kubelet-checkpoint+shared-volume'],
    ['runtime-restore', 'runtime-restore+shared-volume'],
  ])('%s takes transfer: shared-volume, labelled so one run interleaves both ways', (name, label) => {
    const { scenario } = parseScenario('k8s.yaml', `${K8S}kubernetes: { probes: false }\nstrategies: [${name}, { name: ${name}, transfer: shared-volume }]\n`);
    expect(scenario.strategies[1]).toMatchObject({ name, transfer: 'shared-volume' });
    expect(scenario.strategies.map(strategyLabel)).toEqual([name, label]);
  });

  it('is absent unless written (the stream, as before)', () => {
    const { scenario } = parseScenario('k8s.yaml', `${K8S}kubernetes: { probes: false }\nstrategies: [kubelet-checkpoint, runtime-restore]\n`);
    for (const s of scenario.strategies) expect(s).not.toHaveProperty('transfer');
  });

  it('refuses shared-volume with delivery: registry, naming the fix', () => {
    const problems = problemsOf(
      `${K8S}kubernetes: { probes: false }\nstrategies: [{ name: kubelet-checkpoint, delivery: registry, registry: "198.19.240.1:5000", transfer: shared-volume }]\n`,
    );
    expect(problems).toEqual([
      {
        path: 'strategies[0].transfer',
        expected:
          'no shared-volume with delivery: registry (the image goes through the registry, no archive moves between the agents); use delivery: import or leave transfer out',
        found: '"shared-volume"',
      },
    ]);
  });

  it('refuses a way it does not know, and the option on a strategy that moves no archive', () => {
    expect(problemsOf(`${K8S}kubernetes: { probes: false }\nstrategies: [{ name: runtime-restore, transfer: nfs }]\n`).map((p) => p.path)).toEqual([
      'strategies[0].transfer',
    ]);
    expect(problemsOf(`${K8S}kubernetes: { probes: false }\nstrategies: [{ name: drain, transfer: shared-volume }]\n`)).not.toEqual([]);
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
