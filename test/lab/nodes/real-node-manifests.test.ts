// The workloads' manifests as the real-node cluster runs them: only the image pull policy, the host's
// program directories and the claims (now shared host directories) change.
import { describe, expect, it } from 'vitest';
import { readWorkloadManifests } from '../../../src/platforms/kubernetes/manifests.ts';
import { realNodeManifests } from '../../../src/lab/nodes/real-node-manifests.ts';

describe('realNodeManifests', () => {
  it('turns the Redis claim into a shared hostPath, pulls nothing and mounts the host /usr read-only', () => {
    const out = realNodeManifests(readWorkloadManifests('redis'), '/shared');
    expect(out.map((o) => o.kind)).toEqual(['Deployment', 'Service']);
    const spec = out[0]?.spec.template.spec;
    expect(spec.containers[0].imagePullPolicy).toBe('Never');
    expect(spec.containers[0].image).toBe('redis:7.0');
    expect(spec.volumes).toContainEqual({ name: 'data', hostPath: { path: '/shared/migbench-redis-data', type: 'DirectoryOrCreate' } });
    expect(spec.containers[0].volumeMounts).toContainEqual({ name: 'migbench-host-usr', mountPath: '/usr', readOnly: true });
    expect(spec.containers[0].volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
  });

  it('is idempotent and leaves the original objects untouched', () => {
    const original = readWorkloadManifests('video');
    const before = structuredClone(original);
    const once = realNodeManifests(original);
    expect(realNodeManifests(once)).toEqual(once);
    expect(original).toEqual(before);
  });
});
