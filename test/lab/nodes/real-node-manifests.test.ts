// The workloads' manifests as the real-node cluster runs them: only the image pull policy and the
// host's program directories change; the claims stay claims (the lab's StorageClass serves them).
import { describe, expect, it } from 'vitest';
import { readWorkloadManifests } from '../../../src/platforms/kubernetes/manifests.ts';
import { realNodeManifests } from '../../../src/lab/nodes/real-node-manifests.ts';

describe('realNodeManifests', () => {
  it('keeps the Redis claim and its volume, pulls nothing and mounts the host /usr read-only', () => {
    const original = readWorkloadManifests('redis');
    const out = realNodeManifests(original);
    expect(out.map((o) => o.kind)).toEqual(['PersistentVolumeClaim', 'Deployment', 'Service']);
    expect(out[0]).toEqual(original[0]);
    const spec = out[1]?.spec.template.spec;
    expect(spec.containers[0].imagePullPolicy).toBe('Never');
    expect(spec.containers[0].image).toBe('redis:7.0');
    expect(spec.volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: 'migbench-redis-data' } });
    expect(spec.volumes.some((v: { hostPath?: { path: string } }) => v.hostPath?.path.includes('migbench-redis-data'))).toBe(false);
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
