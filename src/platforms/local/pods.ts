// The local platform's pods: runc containers on a node's CPU share, each in its own network
// namespace, with the run's volumes bind-mounted from the shared store; node cordons. Creating,
// stopping and removing them; CRIU's side (dump, restore) is in checkpoint-restore.ts.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import type { EventRecorder } from '../../model/timeline.ts';
import type { Pod, StopResult } from './node-runtime.ts';
import type { PodSpec } from '../../model/pod-spec.ts';
import type { HostNetwork } from './host-network.ts';
import type { PodNetwork } from './network.ts';
import { PODS_DIR, containerId } from './names.ts';
import type { Rootfs } from './rootfs.ts';
import type { ContainerFiles, Runc } from './runc.ts';
import { processAlive, waitForExit } from '../../system/processes.ts';
import { podCgroups, removeCgroups } from './pod-cgroups.ts';

export interface LocalPod extends Pod {
  readonly containerId: string;
  readonly network: PodNetwork;
  readonly octet: number;
  readonly files: ContainerFiles;
  /** CRIU configuration file of this pod (runc hands it to CRIU); written again before each dump. */
  readonly criuConfig: string;
  pid: number;
  /** Restored by CRIU itself (runtime: criu): runc does not know it; removal kills its pid and removes its cgroups. */
  restoredByCriu?: boolean;
  /** Its address went to the pod restored from it (ip: preserve): removing this pod must not touch it. */
  addressHandedOver?: boolean;
}

/**
 * CRIU options of a pod's dump and restore. Normally the pod's IP changes on migration, so its
 * established TCP connections cannot survive the move: `tcp-close` lets CRIU dump them and restore
 * them closed (clients see the connection die and reconnect), which is what the
 * podmigration-operator's flow does to clients. With the IP preserved, `--tcp-established` (given
 * on the command line) carries them over instead, and `tcp-close` must not be there.
 * `skip-in-flight`: a client that reconnects while the app is frozen leaves a connection the kernel
 * accepted but the app never did; without this CRIU refuses to dump ("In-flight connection").
 */
export function criuConfig(preserveIp: boolean): string {
  return preserveIp ? 'skip-in-flight\n' : 'tcp-close\nskip-in-flight\n';
}

/** Spreads the host's CPUs over the nodes, one contiguous share each; with fewer CPUs than nodes, all share all. */
export function nodeCpusets(nodes: readonly string[], cpuCount: number): Map<string, string> {
  const shares = new Map<string, string>();
  const per = Math.floor(cpuCount / nodes.length);
  nodes.forEach((node, i) => {
    if (per < 1) shares.set(node, cpuCount > 1 ? `0-${cpuCount - 1}` : '0');
    else shares.set(node, per === 1 ? `${i * per}` : `${i * per}-${i * per + per - 1}`);
  });
  return shares;
}

export interface LocalPodsOptions {
  nodes: readonly string[];
  cpusets: Map<string, string>;
  /** The shared store; volumes live in its volumes/ directory. */
  checkpointDir: string;
  logDir: string;
}

export class LocalPods {
  private readonly options: LocalPodsOptions;
  private readonly network: HostNetwork;
  private readonly runc: Runc;
  private readonly rootfs: Rootfs;
  private readonly pods = new Map<string, LocalPod>();
  private readonly volumes = new Set<string>();
  /** Nodes marked unschedulable (kubectl cordon): no new pod may start there. */
  private readonly cordoned = new Set<string>();
  private podCounter = 0;

  constructor(options: LocalPodsOptions, network: HostNetwork, runc: Runc, rootfs: Rootfs) {
    this.options = options;
    this.network = network;
    this.runc = runc;
    this.rootfs = rootfs;
  }

  volumePath(volume: string): string {
    return `${this.options.checkpointDir}/volumes/${volume}`;
  }

  async createVolume(volume: string): Promise<void> {
    await rm(this.volumePath(volume), { recursive: true, force: true });
    await mkdir(this.volumePath(volume), { recursive: true });
    this.volumes.add(volume);
  }

  async removeVolume(volume: string): Promise<void> {
    await rm(this.volumePath(volume), { recursive: true, force: true });
    this.volumes.delete(volume);
  }

  private newPodIdentity(spec: PodSpec, node: string) {
    if (!this.options.cpusets.has(node)) throw new Error(`unknown node "${node}" (nodes: ${this.options.nodes.join(', ')})`);
    const name = `${spec.app}-${++this.podCounter}`;
    const id = containerId(name);
    const dir = `${PODS_DIR}/${name}`;
    const files: ContainerFiles = {
      bundleDir: `${dir}/bundle`,
      pidFile: `${dir}/pid`,
      runcLog: `${dir}/runc.log`,
      podLog: `${this.options.logDir}/${name}.log`,
    };
    return { name, id, files };
  }

  cordon(node: string, events: EventRecorder): void {
    this.requireNode(node);
    this.cordoned.add(node);
    events.emit('platform:local', 'node_cordoned', node);
  }

  uncordon(node: string, events: EventRecorder): void {
    if (!this.cordoned.delete(node)) return;
    events.emit('platform:local', 'node_uncordoned', node);
  }

  /** A run never leaves a node cordoned, whatever happened to the strategy that cordoned it. */
  uncordonAll(): void {
    this.cordoned.clear();
  }

  isSchedulable(node: string): boolean {
    return this.options.cpusets.has(node) && !this.cordoned.has(node);
  }

  requireNode(node: string): void {
    if (!this.options.cpusets.has(node))
      throw new Error(`no node ${JSON.stringify(node)} on this platform (nodes: ${[...this.options.cpusets.keys()].join(', ')})`);
  }

  /** Makes the pod's network and bundle; `octet` is an address reserved for it (a preserved IP), else a new one. */
  async prepare(spec: PodSpec, node: string, reservedOctet?: number, attached = true): Promise<LocalPod> {
    this.requireNode(node);
    if (this.cordoned.has(node)) {
      if (reservedOctet !== undefined) this.network.releaseAddress(reservedOctet);
      throw new Error(`node ${node} is cordoned (unschedulable): no pod may start there`);
    }
    const { name, id, files } = this.newPodIdentity(spec, node);
    const octet = reservedOctet ?? this.network.allocateAddress();
    const criuConfigFile = `${PODS_DIR}/${name}/criu.conf`;
    const pod: LocalPod = {
      name,
      node,
      spec,
      containerId: id,
      octet,
      files,
      pid: 0,
      criuConfig: criuConfigFile,
      ip: this.network.address(octet),
      network: { netns: `migbench-${name}`, netnsPath: '', veth: `mbv${octet}`, ip: this.network.address(octet) },
    };
    // Registered before anything is made, so a failure half-way is still torn down by remove/close.
    this.pods.set(name, pod);
    const network = await this.network.createPodNetwork(name, octet, attached);
    Object.assign(pod, { network });
    await mkdir(`${PODS_DIR}/${name}`, { recursive: true });
    await writeFile(criuConfigFile, criuConfig(false));
    await this.runc.writeBundle(files, {
      containerId: id,
      hostname: name,
      command: [...spec.command, ...(spec.args ?? [])],
      env: spec.env ?? {},
      rootfs: this.rootfs.path,
      netnsPath: network.netnsPath,
      cpus: this.options.cpusets.get(node)!,
      binds: [
        ...this.rootfs.binds,
        ...spec.volumes.map((v) => ({ source: this.volumePath(v.volume), destination: v.mountPath, readonly: false })),
        ...(spec.code ? [{ source: spec.code.hostPath, destination: spec.code.mountPath, readonly: true }] : []),
      ],
      criuConfig: criuConfigFile,
    });
    return pod;
  }

  /** The cpuset of a node's pods. */
  cpus(node: string): string {
    this.requireNode(node);
    return this.options.cpusets.get(node)!;
  }

  /** The `pod_created` event of a pod about to start (or be restored) on `node`. */
  emitCreated(pod: LocalPod, events: EventRecorder): void {
    events.emit('platform:local', 'pod_created', `${pod.name} on ${pod.node} (${pod.ip}, cpus ${this.options.cpusets.get(pod.node)})`);
  }

  async start(spec: PodSpec, node: string, events: EventRecorder): Promise<Pod> {
    const pod = await this.prepare(spec, node);
    this.emitCreated(pod, events);
    pod.pid = await this.runc.run(pod.containerId, pod.files);
    events.emit('platform:local', 'pod_started', pod.name);
    return pod;
  }

  async stop(pod: Pod, gracePeriodMs: number, events: EventRecorder, signal?: AbortSignal): Promise<StopResult> {
    const p = this.get(pod);
    const t0 = performance.now();
    await this.signal(p, 'TERM');
    events.emit('platform:local', 'pod_sigterm', pod.name);
    let killed = false;
    // The grace period can be long (Kubernetes' default is 30 s, a scenario may say an hour): an
    // interrupted run must not sit it out. waitForExit rejects on abort; remove() kills the pod.
    if (!(await waitForExit(p.pid, gracePeriodMs, signal))) {
      killed = true;
      await this.signal(p, 'KILL');
      events.emit('platform:local', 'pod_sigkill', `${pod.name}: grace period of ${gracePeriodMs} ms over`);
      await waitForExit(p.pid, 10_000);
    }
    events.emit('platform:local', 'pod_stopped', pod.name);
    return { killed, stopMs: performance.now() - t0 };
  }

  /** The pod's init gets the signal (from runc, or directly for a pod runc does not know). */
  private async signal(p: LocalPod, signal: 'TERM' | 'KILL'): Promise<void> {
    if (!p.restoredByCriu) return this.runc.kill(p.containerId, signal);
    try {
      process.kill(p.pid, `SIG${signal}`);
    } catch {
      // Already gone.
    }
  }

  async remove(pod: Pod): Promise<void> {
    const p = this.pods.get(pod.name);
    if (!p) return;
    await this.runc.delete(p.containerId);
    // The init of the pod's pid namespace: killing it ends every process of the pod.
    if (p.restoredByCriu && p.pid > 0 && processAlive(p.pid)) await this.signal(p, 'KILL');
    if (p.pid > 0 && processAlive(p.pid)) await waitForExit(p.pid, 10_000);
    if (p.restoredByCriu) await removeCgroups(podCgroups(p.containerId));
    if (!p.addressHandedOver) {
      await this.network.removePodNetwork(p.network);
      await this.network.forgetConnections(p.ip);
      this.network.releaseAddress(p.octet);
    }
    await rm(`${PODS_DIR}/${p.name}`, { recursive: true, force: true });
    this.pods.delete(p.name);
  }

  get(pod: Pod): LocalPod {
    const p = this.pods.get(pod.name);
    if (!p) throw new Error(`pod ${pod.name} is not managed by this platform`);
    return p;
  }

  /** The pods still there, newest first (the order close() removes them in). */
  podsNewestFirst(): LocalPod[] {
    return [...this.pods.values()].reverse();
  }

  volumeNames(): string[] {
    return [...this.volumes];
  }
}
