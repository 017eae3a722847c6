// How the probes reach a workload's Service: its ports are the cluster's to allocate (no fixed
// nodePort survives into what a trial applies), and the address is read back from the Service as the
// API server holds it — a NodePort at the scenario's node address or the source node's, a load
// balancer's ingress once it has one.
import { describe, expect, it } from 'vitest';
import { prepareManifests, readWorkloadManifests } from '../../../src/platforms/kubernetes/manifests.ts';
import { exposedService, exposureOf, serviceEndpoint } from '../../../src/platforms/kubernetes/service-exposure.ts';
import { kubernetesPlatformSchema } from '../../../src/scenario/schema.ts';

const k8s = (fields: object) => kubernetesPlatformSchema.parse(fields);
const service = (spec: object, status?: object) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'migbench-redis' },
  spec,
  ...(status ? { status } : {}),
});

describe('exposureOf', () => {
  it.each([
    [{ probes: false, nodeAddress: '10.0.0.1' }, undefined],
    [{ nodeAddress: '10.0.0.1' }, { via: 'nodePort', nodeAddress: '10.0.0.1' }],
    [{ expose: 'nodePort' }, { via: 'nodePort' }],
    [{ expose: 'loadBalancer' }, { via: 'loadBalancer' }],
    [{ address: '10.0.0.5:8080' }, { via: 'address', address: { host: '10.0.0.5', port: 8080 } }],
  ])('%o → %o', (fields, expected) => {
    expect(exposureOf(k8s(fields))).toEqual(expected);
  });
});

describe('the Service a trial applies', () => {
  it.each(['redis', 'video', 'ml-training'])('%s: no fixed nodePort, of the type the exposure needs', (type) => {
    const options = { namespace: 'a', runId: 'r', trial: 1, shape: 'deployment' as const, source: 'n1', target: 'n2' };
    for (const [exposure, type_] of [
      [{ via: 'nodePort' as const }, 'NodePort'],
      [{ via: 'loadBalancer' as const }, 'LoadBalancer'],
      [undefined, 'NodePort'],
    ] as const) {
      const applied = prepareManifests(readWorkloadManifests(type), { ...options, ...(exposure ? { exposure } : {}) }).objects.find(
        (o) => o.kind === 'Service',
      )!;
      expect(applied.spec.type).toBe(type_);
      expect(applied.spec.ports.length).toBeGreaterThan(0);
      for (const port of applied.spec.ports) expect(port).not.toHaveProperty('nodePort');
    }
    // The file's own Service is left as it is (the next trial starts from it again).
    expect(readWorkloadManifests(type).find((o) => o.kind === 'Service')!.spec.ports[0].nodePort).toBeTypeOf('number');
  });

  it('keeps every other port field', () => {
    expect(
      exposedService(service({ type: 'NodePort', ports: [{ port: 6379, targetPort: 'redis', nodePort: 30379, name: 'redis' }] }), { via: 'loadBalancer' }).spec,
    ).toEqual({ type: 'LoadBalancer', ports: [{ port: 6379, targetPort: 'redis', name: 'redis' }] });
  });
});

describe('serviceEndpoint: where the probes go, from the Service the API server returned', () => {
  const allocated = service({ type: 'NodePort', ports: [{ port: 6379, nodePort: 31234 }] });
  it('nodePort: the allocated nodePort at nodeAddress, else at the source node', () => {
    expect(serviceEndpoint(allocated, { via: 'nodePort', nodeAddress: '10.0.0.1' }, '192.168.1.7')).toEqual({ host: '10.0.0.1', port: 31234 });
    expect(serviceEndpoint(allocated, { via: 'nodePort' }, '192.168.1.7')).toEqual({ host: '192.168.1.7', port: 31234 });
    expect(() => serviceEndpoint(allocated, { via: 'nodePort' }, undefined)).toThrow(/set kubernetes.nodeAddress/);
    expect(() => serviceEndpoint(service({ type: 'ClusterIP', ports: [{ port: 6379 }] }), { via: 'nodePort' }, '192.168.1.7')).toThrow(/has no nodePort/);
  });

  it('loadBalancer: nothing while pending, then the ingress IP (or host name) on the Service port', () => {
    const lb = (ingress: object[]) => service({ type: 'LoadBalancer', ports: [{ port: 6379, nodePort: 31234 }] }, { loadBalancer: { ingress } });
    expect(serviceEndpoint(lb([]), { via: 'loadBalancer' })).toBeUndefined();
    expect(serviceEndpoint(lb([{ ip: '203.0.113.9' }]), { via: 'loadBalancer' })).toEqual({ host: '203.0.113.9', port: 6379 });
    expect(serviceEndpoint(lb([{ hostname: 'lb.example' }]), { via: 'loadBalancer' })).toEqual({ host: 'lb.example', port: 6379 });
  });

  it("address: the scenario's, whatever the Service says", () => {
    expect(serviceEndpoint(allocated, { via: 'address', address: { host: '10.0.0.5', port: 8080 } })).toEqual({ host: '10.0.0.5', port: 8080 });
  });
});
