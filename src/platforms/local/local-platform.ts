// The embedded platform: "nodes" are CPU shares of this host, pods are runc containers in their
// own network namespaces on a host bridge, a service is a NAT rule on the host, and the shared
// checkpoint directory stands in for the NFS share of a real cluster.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { EventRecorder } from '../../timeline.ts';
import type {
  Checkpoint, CheckpointingPlatform, Endpoint, Pod, PodSpec, RestoreStats, Service, StopResult,
} from '../platform.ts';
import { readDumpStats, readRestoreStats } from './criu-stats.ts';
import { AddressPool, Subnet, createPodNetwork, ensureBridge, removeBridge, removePodNetwork, type PodNetwork } from './network.ts';
import { CRIU_CONFIG_DIR, LOCK_FILE, PODS_DIR, RUN_DIR, containerId } from './names.ts';
import { prepareRootfs, type Rootfs } from './rootfs.ts';
import { Runc, processAlive, waitForExit, type ContainerFiles } from './runc.ts';
import { ServiceRules, removeAllServiceRules } from './service.ts';
import { cleanupLocalHost, otherLockHolder } from './cleanup.ts';

export interface LocalTools {
  runc: string;
  criu: string;
  iptables: string;
  ip: string;
}

export interface LocalPlatformOptions {
  nodes: readonly string[];
  subnet: string;
  checkpointDir: string;
  /** Where each pod's stdout/stderr is kept (`<logDir>/<pod>.log`). */
  logDir: string;
  tools: LocalTools;
  /** Reports what start-up had to clean (leftovers of a crashed run). */
  log?: (line: string) => void;
}

interface LocalPod extends Pod {
  readonly containerId: string;
  readonly network: PodNetwork;
  readonly octet: number;
  readonly files: ContainerFiles;
  pid: number;
}

/**
 * CRIU options for every pod. The pod's IP changes on migration, so its established TCP connections
 * cannot survive the move: `tcp-close` lets CRIU dump them and restore them closed (clients see the
 * connection die and reconnect), which is what the podmigration-operator's flow does to clients.
 * `skip-in-flight`: a client that reconnects while the app is frozen leaves a connection the kernel
 * accepted but the app never did; without this CRIU refuses to dump ("In-flight connection").
 */
const CRIU_CONFIG = 'tcp-close\nskip-in-flight\n';

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

export class LocalPlatform implements CheckpointingPlatform {
  readonly name = 'local';
  readonly nodes: readonly string[];
  readonly cpusets: Map<string, string>;
  private readonly options: LocalPlatformOptions;
  private readonly subnet: Subnet;
  private readonly addresses = new AddressPool();
  private readonly runc: Runc;
  private readonly rules: ServiceRules;
  private readonly rootfs: Rootfs;
  private readonly criuConfig = `${CRIU_CONFIG_DIR}/migbench.conf`;
  private readonly pods = new Map<string, LocalPod>();
  private readonly services = new Map<string, Service>();
  private readonly volumes = new Set<string>();
  private readonly checkpoints = new Set<string>();
  /** Nodes marked unschedulable (kubectl cordon): no new pod may start there. */
  private readonly cordoned = new Set<string>();
  private podCounter = 0;
  private nextServicePort = 30_000;

  private constructor(options: LocalPlatformOptions, rootfs: Rootfs) {
    this.options = options;
    this.nodes = options.nodes;
    this.subnet = new Subnet(options.subnet);
    this.runc = new Runc({ runc: options.tools.runc, criu: options.tools.criu });
    this.rules = new ServiceRules(options.tools.iptables);
    this.rootfs = rootfs;
    this.cpusets = nodeCpusets(options.nodes, availableParallelism());
  }

  /** Takes the host lock, clears leftovers of an earlier crashed run, and sets up the bridge and NAT chains. */
  static async create(options: LocalPlatformOptions): Promise<LocalPlatform> {
    acquireLock();
    try {
      const leftovers = await cleanupLocalHost({ ...options.tools, checkpointDirs: [options.checkpointDir], keepLock: true });
      if (leftovers.length > 0) options.log?.(`migbench: removed leftovers of an earlier run: ${leftovers.join(', ')}`);
      mkdirSync(PODS_DIR, { recursive: true });
      mkdirSync(CRIU_CONFIG_DIR, { recursive: true });
      mkdirSync(options.logDir, { recursive: true });
      mkdirSync(`${options.checkpointDir}/volumes`, { recursive: true });
      mkdirSync(`${options.checkpointDir}/checkpoints`, { recursive: true });
      const platform = new LocalPlatform(options, prepareRootfs());
      writeFileSync(platform.criuConfig, CRIU_CONFIG);
      await ensureBridge(options.tools.ip, platform.subnet);
      await platform.rules.ensureBaseChains();
      return platform;
    } catch (err) {
      await cleanupLocalHost({ ...options.tools, checkpointDirs: [options.checkpointDir] }).catch(() => undefined);
      throw err;
    }
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
    if (!this.cpusets.has(node)) throw new Error(`unknown node "${node}" (nodes: ${this.nodes.join(', ')})`);
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

  isSchedulable(node: string): boolean {
    return this.cpusets.has(node) && !this.cordoned.has(node);
  }

  private requireNode(node: string): void {
    if (!this.cpusets.has(node)) throw new Error(`no node ${JSON.stringify(node)} on this platform (nodes: ${[...this.cpusets.keys()].join(', ')})`);
  }

  private async preparePod(spec: PodSpec, node: string): Promise<LocalPod> {
    this.requireNode(node);
    if (this.cordoned.has(node)) throw new Error(`node ${node} is cordoned (unschedulable): no pod may start there`);
    const { name, id, files } = this.newPodIdentity(spec, node);
    const octet = this.addresses.allocate();
    const pod: LocalPod = {
      name, node, spec, containerId: id, octet, files, pid: 0,
      ip: this.subnet.address(octet),
      network: { netns: `migbench-${name}`, netnsPath: '', veth: `mbv${octet}`, ip: this.subnet.address(octet) },
    };
    // Registered before anything is made, so a failure half-way is still torn down by removePod/close.
    this.pods.set(name, pod);
    const network = await createPodNetwork(this.options.tools.ip, name, octet, this.subnet);
    Object.assign(pod, { network });
    await this.runc.writeBundle(files, {
      containerId: id,
      hostname: name,
      command: spec.command,
      env: spec.env ?? {},
      rootfs: this.rootfs.path,
      netnsPath: network.netnsPath,
      cpus: this.cpusets.get(node)!,
      binds: [
        ...this.rootfs.binds,
        ...spec.volumes.map((v) => ({ source: this.volumePath(v.volume), destination: v.mountPath, readonly: false })),
        ...(spec.code ? [{ source: spec.code.hostPath, destination: spec.code.mountPath, readonly: true }] : []),
      ],
      criuConfig: this.criuConfig,
    });
    return pod;
  }

  async startPod(spec: PodSpec, node: string, events: EventRecorder): Promise<Pod> {
    const pod = await this.preparePod(spec, node);
    events.emit('platform:local', 'pod_created', `${pod.name} on ${node} (${pod.ip}, cpus ${this.cpusets.get(node)})`);
    pod.pid = await this.runc.run(pod.containerId, pod.files);
    events.emit('platform:local', 'pod_started', pod.name);
    return pod;
  }

  async stopPod(pod: Pod, gracePeriodMs: number, events: EventRecorder, signal?: AbortSignal): Promise<StopResult> {
    const p = this.local(pod);
    const t0 = performance.now();
    await this.runc.kill(p.containerId, 'TERM');
    events.emit('platform:local', 'pod_sigterm', pod.name);
    let killed = false;
    // The grace period can be long (Kubernetes' default is 30 s, a scenario may say an hour): an
    // interrupted run must not sit it out. waitForExit rejects on abort; removePod kills the pod.
    if (!(await waitForExit(p.pid, gracePeriodMs, signal))) {
      killed = true;
      await this.runc.kill(p.containerId, 'KILL');
      events.emit('platform:local', 'pod_sigkill', `${pod.name}: grace period of ${gracePeriodMs} ms over`);
      await waitForExit(p.pid, 10_000);
    }
    events.emit('platform:local', 'pod_stopped', pod.name);
    return { killed, stopMs: performance.now() - t0 };
  }

  async removePod(pod: Pod): Promise<void> {
    const p = this.pods.get(pod.name);
    if (!p) return;
    await this.runc.delete(p.containerId);
    if (p.pid > 0 && processAlive(p.pid)) await waitForExit(p.pid, 10_000);
    await removePodNetwork(this.options.tools.ip, p.network);
    this.addresses.release(p.octet);
    await rm(`${PODS_DIR}/${p.name}`, { recursive: true, force: true });
    this.pods.delete(p.name);
  }

  async checkpointPod(pod: Pod, events: EventRecorder): Promise<Checkpoint> {
    const p = this.local(pod);
    const dir = `${this.options.checkpointDir}/checkpoints/${p.name}`;
    this.checkpoints.add(dir);
    await rm(dir, { recursive: true, force: true });
    events.emit('platform:local', 'checkpoint_start', p.name);
    await this.keepLogOnFailure(`${dir}/dump-work/dump.log`, `${p.name}-criu-dump.log`, () =>
      this.runc.checkpoint(p.containerId, p.files, `${dir}/images`, `${dir}/dump-work`),
    );
    events.emit('platform:local', 'checkpoint_done', p.name);
    const stats = await readDumpStats(`${dir}/dump-work/stats-dump`);
    return { imagesDir: `${dir}/images`, fromPod: pod, bytes: await directoryBytes(`${dir}/images`), stats };
  }

  async restorePod(checkpoint: Checkpoint, node: string, events: EventRecorder): Promise<{ pod: Pod; stats: RestoreStats }> {
    const pod = await this.preparePod(checkpoint.fromPod.spec, node);
    events.emit('platform:local', 'pod_created', `${pod.name} on ${node} (${pod.ip}, cpus ${this.cpusets.get(node)})`);
    const workDir = `${checkpoint.imagesDir}/../restore-work-${pod.name}`;
    events.emit('platform:local', 'restore_start', pod.name);
    pod.pid = await this.keepLogOnFailure(`${workDir}/restore.log`, `${pod.name}-criu-restore.log`, () =>
      this.runc.restore(pod.containerId, pod.files, checkpoint.imagesDir, workDir),
    );
    events.emit('platform:local', 'restore_done', pod.name);
    const stats = existsSync(`${workDir}/stats-restore`) ? await readRestoreStats(`${workDir}/stats-restore`) : {};
    return { pod, stats };
  }

  /** CRIU's log explains a failed dump or restore; keep it beside the pod logs before the store is emptied. */
  private async keepLogOnFailure<T>(criuLog: string, keepAs: string, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      const kept = `${this.options.logDir}/${keepAs}`;
      await copyFile(criuLog, kept).catch(() => undefined);
      throw new Error(`${err instanceof Error ? err.message : String(err)} (CRIU log kept as ${kept})`);
    }
  }

  async removeCheckpoint(checkpoint: Checkpoint): Promise<void> {
    const dir = checkpoint.imagesDir.replace(/\/images$/, '');
    await rm(dir, { recursive: true, force: true });
    this.checkpoints.delete(dir);
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

  /** Removes everything still there, in reverse order of creation, then the shared pieces. */
  async close(): Promise<void> {
    // A run never leaves a node cordoned, whatever happened to the strategy that cordoned it.
    this.cordoned.clear();
    const errors: unknown[] = [];
    const attempt = async (f: () => Promise<void>) => {
      try {
        await f();
      } catch (err) {
        errors.push(err);
      }
    };
    for (const service of [...this.services.values()].reverse()) await attempt(() => this.removeService(service));
    for (const pod of [...this.pods.values()].reverse()) await attempt(() => this.removePod(pod));
    for (const volume of [...this.volumes]) await attempt(() => this.removeVolume(volume));
    for (const dir of [...this.checkpoints]) await attempt(() => rm(dir, { recursive: true, force: true }));
    await attempt(async () => void (await removeAllServiceRules(this.options.tools.iptables)));
    await attempt(() => removeBridge(this.options.tools.ip));
    await attempt(() => rm(RUN_DIR, { recursive: true, force: true }));
    if (errors.length > 0) throw new AggregateError(errors, `local platform teardown: ${errors.length} step(s) failed`);
  }

  private local(pod: Pod): LocalPod {
    const p = this.pods.get(pod.name);
    if (!p) throw new Error(`pod ${pod.name} is not managed by this platform`);
    return p;
  }
}

/** One run at a time per host: a second run would share the bridge, the address plan and the CPUs. */
function acquireLock(): void {
  mkdirSync(RUN_DIR, { recursive: true });
  const holder = otherLockHolder();
  if (holder !== undefined) {
    throw new Error(`another migbench run (pid ${holder}) is using the local platform; wait for it or stop it, then run: migbench cleanup`);
  }
  writeFileSync(LOCK_FILE, String(process.pid));
}

export function releaseLock(): void {
  rmSync(LOCK_FILE, { force: true });
}

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    total += entry.isDirectory() ? await directoryBytes(path) : (await stat(path)).size;
  }
  return total;
}
