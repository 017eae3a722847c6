// How the probes reach a workload's Service from where migbench runs. The ports are the cluster's to
// allocate (a fixed nodePort collides with another run's, or anything else on the cluster): migbench
// applies the Service without one and reads back what the API server gave it.
//  - nodePort: <nodeAddress, else the source node's InternalIP>:<the Service's allocated nodePort>;
//  - loadBalancer: <the Service's ingress IP or host name, once the cluster's load balancer gives one>:<its port>;
//  - address: the scenario's fixed host:port (a front the user runs; one workload only).
// Not `kubectl port-forward`: it tunnels to the one pod it picked when it started, so after a move
// it leads to the old pod, which is gone (docs/kubernetes.md).
import { sleep } from '../../clock.ts';
import type { Endpoint } from '../../model/endpoint.ts';
import type { K8sObject, KubeApi } from './api.ts';

export type Exposure = { via: 'nodePort'; nodeAddress?: string } | { via: 'loadBalancer' } | { via: 'address'; address: Endpoint };

/** How the scenario's `kubernetes` fields have the probes reach its Services; undefined: no app probes. */
export function exposureOf(k8s: { probes: boolean; address?: string; expose?: 'nodePort' | 'loadBalancer'; nodeAddress?: string }): Exposure | undefined {
  if (!k8s.probes) return undefined;
  if (k8s.address !== undefined) {
    const colon = k8s.address.lastIndexOf(':');
    return { via: 'address', address: { host: k8s.address.slice(0, colon), port: Number(k8s.address.slice(colon + 1)) } };
  }
  if (k8s.expose === 'loadBalancer') return { via: 'loadBalancer' };
  if (k8s.expose === 'nodePort' || k8s.nodeAddress !== undefined) return { via: 'nodePort', ...(k8s.nodeAddress ? { nodeAddress: k8s.nodeAddress } : {}) };
  return undefined;
}

/**
 * The workload's Service as a trial applies it: of the type the exposure needs, and with no fixed
 * nodePort (the cluster allocates one; two runs, or a run and anything else, never collide).
 */
export function exposedService(service: K8sObject, exposure: Exposure | undefined): K8sObject {
  const type = exposure?.via === 'loadBalancer' ? 'LoadBalancer' : exposure?.via === 'nodePort' ? 'NodePort' : service.spec?.type;
  const ports = (service.spec?.ports ?? []).map(({ nodePort: _fixed, ...port }: { nodePort?: number }) => port);
  return { ...service, spec: { ...service.spec, ...(type ? { type } : {}), ports } };
}

/**
 * Where the Service answers, read from the Service as the API server holds it; undefined while
 * the cluster has not given it an address yet (a load balancer being provisioned).
 * `sourceNodeAddress`: the InternalIP of the node the pod starts on (a NodePort's default host).
 */
export function serviceEndpoint(service: K8sObject, exposure: Exposure, sourceNodeAddress?: string): Endpoint | undefined {
  if (exposure.via === 'address') return exposure.address;
  const port = service.spec?.ports?.[0] as { port?: number; nodePort?: number } | undefined;
  const name = `Service ${service.metadata.name}`;
  if (exposure.via === 'nodePort') {
    if (typeof port?.nodePort !== 'number')
      throw new Error(`${name} has no nodePort (type ${service.spec?.type ?? 'ClusterIP'}); expose: nodePort needs a NodePort Service`);
    const host = exposure.nodeAddress ?? sourceNodeAddress;
    if (!host) throw new Error(`${name}: the source node has no InternalIP to reach its nodePort at; set kubernetes.nodeAddress`);
    return { host, port: port.nodePort };
  }
  const status = (service as { status?: { loadBalancer?: { ingress?: unknown[] } } }).status;
  const ingress = (status?.loadBalancer?.ingress ?? [])[0] as { ip?: string; hostname?: string } | undefined;
  const host = ingress?.ip ?? ingress?.hostname;
  if (!host || typeof port?.port !== 'number') return undefined;
  return { host, port: port.port };
}

/** How often a pending load balancer is asked again. */
const LOAD_BALANCER_POLL_MS = 250;

/** serviceEndpoint of the applied Service, waiting (up to `timeoutMs`) for a load balancer's address. */
export async function waitForServiceEndpoint(
  api: KubeApi,
  applied: K8sObject,
  exposure: Exposure,
  sourceNodeAddress: string | undefined,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Endpoint> {
  const deadline = performance.now() + timeoutMs;
  let service = applied;
  for (;;) {
    const endpoint = serviceEndpoint(service, exposure, sourceNodeAddress);
    if (endpoint) return endpoint;
    if (performance.now() > deadline) {
      throw new Error(
        `Service ${applied.metadata.name} got no load balancer address in ${timeoutMs} ms (status.loadBalancer.ingress is empty): does the cluster run a load balancer controller (e.g. MetalLB)? Otherwise use kubernetes.expose: nodePort`,
      );
    }
    await sleep(LOAD_BALANCER_POLL_MS, signal);
    service = (await api.cluster.core.readNamespacedService({ name: applied.metadata.name, namespace: api.namespace })) as unknown as K8sObject;
  }
}
