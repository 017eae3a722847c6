// A workload's image on a cluster (kubernetes.images, pinned by digest): the pods run it
// IfNotPresent with the scenario's pull secrets; the lab leaves such an image as it is (no host /usr,
// no `Never`), while its own stand-ins keep theirs; the scenario refuses a reference not pinned by
// digest, naming the field and how to get one; the lab's containerd reads its registry's hosts.toml.
import { describe, expect, it } from 'vitest';
import { withWorkloadImage } from '../../../src/platforms/kubernetes/images.ts';
import { readWorkloadManifests } from '../../../src/platforms/kubernetes/manifests.ts';
import { realNodeManifests } from '../../../src/lab/nodes/real-node-manifests.ts';
import { LAB_REGISTRY, registryHostsToml } from '../../../src/lab/nodes/lab-registry.ts';
import { containerdConfig } from '../../../src/lab/nodes/configs.ts';
import { nodeLayout } from '../../../src/lab/nodes/layout.ts';
import type { NodeBinaries } from '../../../src/lab/build/node-build.ts';
import { parseScenario, ScenarioError } from '../../../src/scenario/load.ts';

const IMAGE = `${LAB_REGISTRY}/migbench/redis@sha256:${'a'.repeat(64)}`;

describe('withWorkloadImage', () => {
  it('sets the image, IfNotPresent and the pull secrets on the Deployment and leaves the rest', () => {
    const original = readWorkloadManifests('redis');
    const out = withWorkloadImage(original, IMAGE, ['regcred']);
    const spec = out.find((o) => o.kind === 'Deployment')?.spec.template.spec;
    expect(spec.containers.map((c: { image: string; imagePullPolicy: string }) => [c.image, c.imagePullPolicy])).toEqual([[IMAGE, 'IfNotPresent']]);
    expect(spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    expect(out.filter((o) => o.kind !== 'Deployment')).toEqual(original.filter((o) => o.kind !== 'Deployment'));
    expect(original.find((o) => o.kind === 'Deployment')?.spec.template.spec.containers[0].image).toBe('redis:7.0');
  });

  it('without an image or secrets is the manifest as it is', () => {
    expect(withWorkloadImage(readWorkloadManifests('video'), undefined, [])).toEqual(readWorkloadManifests('video'));
  });
});

describe('the lab and a pulled image', () => {
  it('pulls an image pinned by digest as any cluster would: no host /usr, no Never; its claim as it is', () => {
    const spec = realNodeManifests(withWorkloadImage(readWorkloadManifests('redis'), IMAGE, [])).find((o) => o.kind === 'Deployment')?.spec.template.spec;
    expect(spec.containers[0].imagePullPolicy).toBe('IfNotPresent');
    expect(spec.containers[0].volumeMounts).toEqual([{ name: 'data', mountPath: '/data' }]);
    expect(spec.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'migbench-redis-data' } }]);
  });

  it("points the nodes' containerd at the registry's hosts.toml, plain HTTP on the lab network", () => {
    const config = containerdConfig(nodeLayout('worker-a', 0), { runc: '/runc', cniBinDir: '/cni' } as NodeBinaries, '/cni-conf', '/certs.d');
    expect(config).toContain('[plugins."io.containerd.cri.v1.images".registry]\n    config_path = "/certs.d"');
    expect(registryHostsToml()).toContain(`server = "http://${LAB_REGISTRY}"`);
    expect(registryHostsToml()).toContain(`[host."http://${LAB_REGISTRY}"]\n  capabilities = ["pull", "resolve"]`);
  });
});

describe('kubernetes.images in a scenario', () => {
  const K8S = 'platform: kubernetes\nworkloads: [{ type: redis }]\nstrategies: [redeploy]\n';
  const problems = (text: string) => {
    try {
      parseScenario('k8s.yaml', text);
      return [];
    } catch (err) {
      if (err instanceof ScenarioError) return err.problems.map((p) => `${p.path}: ${p.expected}`);
      throw err;
    }
  };

  it('takes references pinned by digest and pull secrets', () => {
    const { scenario } = parseScenario('k8s.yaml', `${K8S}kubernetes: { probes: false, images: { redis: '${IMAGE}' }, imagePullSecrets: [regcred] }\n`);
    expect(scenario.kubernetes?.images).toEqual({ redis: IMAGE });
    expect(scenario.kubernetes?.imagePullSecrets).toEqual(['regcred']);
  });

  it('refuses a tag, naming the field and the command that prints pinned references', () => {
    const found = problems(`${K8S}kubernetes: { probes: false, images: { redis: 'registry.example.org/migbench/redis:latest' } }\n`);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^kubernetes\.images\.redis: .*pinned by digest.*migbench images build --push REGISTRY/);
  });

  it('refuses an image for a workload that does not exist', () => {
    expect(problems(`${K8S}kubernetes: { probes: false, images: { postgres: '${IMAGE}' } }\n`)[0]).toMatch(/^kubernetes\.images/);
  });
});
