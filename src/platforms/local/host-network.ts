// The local platform's share of the host network: the pod subnet and its addresses, the host
// bridge, the services (NAT rules, service.ts) and the emulated node-to-node links (node-link.ts).
// The primitives live in network.ts; this file owns what one platform instance made of them.
import type { EventRecorder } from '../../model/timeline.ts';
import { exec } from '../../system/exec.ts';
import type { Endpoint, Pod, Service } from '../platform.ts';
import { createNodeLinks, removeNodeLinks, type NodeLink } from './node-link.ts';
import { AddressPool, Subnet, announcePod, createPodNetwork, ensureBridge, removeBridge, removePodNetwork, setPodLink, type PodNetwork } from './network.ts';
import { ServiceRules, removeAllServiceRules } from './service.ts';

export class HostNetwork {
  readonly subnet: Subnet;
  private readonly ip: string;
  private readonly iptables: string;
  private readonly addresses = new AddressPool();
  private readonly rules: ServiceRules;
  private readonly services = new Map<string, Service>();
  /** The emulated node network, when the scenario asks for one. */
  private links = new Map<string, NodeLink>();
  private nextServicePort = 30_000;

  constructor(tools: { ip: string; iptables: string }, subnet: string) {
    this.ip = tools.ip;
    this.iptables = tools.iptables;
    this.subnet = new Subnet(subnet);
    this.rules = new ServiceRules(tools.iptables);
  }

  /** The bridge, the node links (when `nodeLinkMbit` is given) and the NAT chains. */
  async setUp(nodes: readonly string[], nodeLinkMbit: number | undefined): Promise<void> {
    await ensureBridge(this.ip, this.subnet);
    if (nodeLinkMbit !== undefined) this.links = await createNodeLinks(this.ip, 'tc', nodes, nodeLinkMbit);
    await this.rules.ensureBaseChains();
  }

  /** The link to `node` that CRIU's transfers cross; undefined without a node network. */
  link(node: string): NodeLink | undefined {
    return this.links.get(node);
  }

  allocateAddress(): number {
    return this.addresses.allocate();
  }

  releaseAddress(octet: number): void {
    this.addresses.release(octet);
  }

  address(octet: number): string {
    return this.subnet.address(octet);
  }

  createPodNetwork(pod: string, octet: number, attached: boolean): Promise<PodNetwork> {
    return createPodNetwork(this.ip, pod, octet, this.subnet, { attached });
  }

  /**
   * Forgets the host's connection-tracking entries of a removed pod's address. A pod that vanished
   * mid-connection (dumped behind CRIU's network lock, or killed) never closed them: with data in
   * flight they stay 5 minutes (nf_conntrack_tcp_timeout_unacknowledged), without 5 days, and a later
   * pod given the same address would meet their NAT state. Without conntrack(8) they expire by themselves.
   */
  async forgetConnections(address: string): Promise<void> {
    for (const match of ['--reply-src', '--orig-dst']) {
      await exec('conntrack', ['-D', match, address], { allowFailure: true, timeoutMs: 10_000 }).catch(() => undefined);
    }
  }

  removePodNetwork(network: PodNetwork): Promise<void> {
    return removePodNetwork(this.ip, network);
  }

  /** Takes a pod off the bridge or puts it back (ip: preserve; see setPodLink). */
  setPodLink(network: PodNetwork, attached: boolean): Promise<void> {
    return setPodLink(this.ip, network, attached);
  }

  announcePod(network: PodNetwork, octet: number): Promise<void> {
    return announcePod(this.ip, network, octet);
  }

  async createService(name: string, targetPort: number): Promise<Service> {
    const address: Endpoint = { host: this.subnet.gateway, port: this.nextServicePort++ };
    const service: Service = { name, address, targetPort };
    this.services.set(name, service);
    await this.rules.create(address, name);
    return service;
  }

  async setServiceEndpoint(service: Service, pod: Pod | null, events: EventRecorder): Promise<void> {
    await this.rules.setEndpoint(service.address, pod ? { host: pod.ip, port: service.targetPort } : null);
    events.emit('platform:local', 'service_endpoint', pod ? `${service.name} -> ${pod.name} (${pod.ip}:${service.targetPort})` : `${service.name} -> none`);
  }

  async removeService(service: Service): Promise<void> {
    await this.rules.remove(service.address);
    this.services.delete(service.name);
  }

  /** The services still there, newest first (the order close() removes them in). */
  servicesNewestFirst(): Service[] {
    return [...this.services.values()].reverse();
  }

  /** The host-wide pieces, after every service and pod is gone: NAT chains, bridge, node links. */
  async tearDown(attempt: (step: () => Promise<void>) => Promise<void>): Promise<void> {
    await attempt(async () => void (await removeAllServiceRules(this.iptables)));
    await attempt(() => removeBridge(this.ip));
    await attempt(() => removeNodeLinks(this.ip, this.links.values()));
  }
}
