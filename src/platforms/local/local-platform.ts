// The embedded platform: "nodes" are CPU shares of this host, pods are runc containers in their
// own network namespaces on a host bridge, a service is a NAT rule on the host, and the shared
// checkpoint directory stands in for the NFS share of a real cluster.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { EventRecorder } from '../../timeline.ts';
import type {
  Checkpoint, CheckpointRequest, CheckpointingPlatform, Endpoint, Pod, PodSpec, RestoredPod, Service, StopResult,
} from '../platform.ts';
import { exec } from '../../system/exec.ts';
import { criuFeatureCheck } from '../../setup/criu.ts';
import { startLazyPagesDaemon, startPageServer, type CriuDaemon, type Placement } from './criu-daemons.ts';
import { copyOverLink, createNodeLinks, inNode, removeNodeLinks, type NodeLink } from './node-link.ts';
import { readDumpStats, readRestoreStats } from './criu-stats.ts';
import { AddressPool, Subnet, announcePod, createPodNetwork, ensureBridge, removeBridge, removePodNetwork, setPodLink, type PodNetwork } from './network.ts';
import { LOCK_FILE, PODS_DIR, RUN_DIR, containerId } from './names.ts';
import { prepareRootfs, type Rootfs } from './rootfs.ts';
import { Runc, processAlive, waitForExit, type ContainerFiles, type LazyCheckpoint } from './runc.ts';
import { ServiceRules, removeAllServiceRules } from './service.ts';
import { STORE_TMPFS, cleanupLocalHost, imageDirs, otherLockHolder, unmountStoreMounts } from './cleanup.ts';

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
  /** Bandwidth of the emulated node-to-node link that CRIU's transfers cross (node-link.ts); none: they run over loopback. */
  nodeLinkMbit?: number;
  /** tmpfs: a tmpfs is mounted over the store's checkpoints/ and nodes/ for the run (see the schema). */
  checkpointStore?: 'disk' | 'tmpfs';
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
  /** CRIU configuration file of this pod (runc hands it to CRIU); written again before each dump. */
  readonly criuConfig: string;
  pid: number;
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

/** CRIU's page transfers (page server, lazy pages) between the "nodes" of this host. */
const PAGE_SERVER_ADDRESS = '127.0.0.1';
const PAGE_SERVER_BASE_PORT = 27_000;
const PIPE_MAX_SIZE = '/proc/sys/fs/pipe-max-size';
/** CRIU's PIPE_MAX_SIZE pages rounded up to a power of two (page-pipe.h: 819 × 4 KiB). */
const LAZY_PIPE_BYTES = 4 * 1024 * 1024;

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
  private readonly pods = new Map<string, LocalPod>();
  private readonly services = new Map<string, Service>();
  private readonly volumes = new Set<string>();
  private readonly checkpoints = new Set<string>();
  /** Pre-copy rounds per source pod, oldest first: the final dump sends only what changed since the last. */
  private readonly preDumps = new Map<string, string[]>();
  /** Post-copy dumps still serving pages, by the images directory their restore reads. */
  private readonly lazyDumps = new Map<string, { dump: LazyCheckpoint; port: number; address: string }>();
  /** Nodes marked unschedulable (kubectl cordon): no new pod may start there. */
  private readonly cordoned = new Set<string>();
  private podCounter = 0;
  /** The emulated node network, when the scenario asks for one. */
  private links = new Map<string, NodeLink>();
  /** fs.pipe-max-size before a lazy dump raised it; put back by close(). */
  private pipeMaxSizeBefore: number | undefined;
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
      mkdirSync(options.logDir, { recursive: true });
      mkdirSync(`${options.checkpointDir}/volumes`, { recursive: true });
      for (const dir of imageDirs(options.checkpointDir)) {
        mkdirSync(dir, { recursive: true });
        if (options.checkpointStore === 'tmpfs') await exec('mount', ['-t', 'tmpfs', '-o', 'mode=700', STORE_TMPFS, dir]);
      }
      const platform = new LocalPlatform(options, prepareRootfs());
      await ensureBridge(options.tools.ip, platform.subnet);
      if (options.nodeLinkMbit !== undefined) platform.links = await createNodeLinks(options.tools.ip, 'tc', options.nodes, options.nodeLinkMbit);
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

  /** Makes the pod's network and bundle; `octet` is an address reserved for it (a preserved IP), else a new one. */
  private async preparePod(spec: PodSpec, node: string, reservedOctet?: number, attached = true): Promise<LocalPod> {
    this.requireNode(node);
    if (this.cordoned.has(node)) {
      if (reservedOctet !== undefined) this.addresses.release(reservedOctet);
      throw new Error(`node ${node} is cordoned (unschedulable): no pod may start there`);
    }
    const { name, id, files } = this.newPodIdentity(spec, node);
    const octet = reservedOctet ?? this.addresses.allocate();
    const criuConfigFile = `${PODS_DIR}/${name}/criu.conf`;
    const pod: LocalPod = {
      name, node, spec, containerId: id, octet, files, pid: 0, criuConfig: criuConfigFile,
      ip: this.subnet.address(octet),
      network: { netns: `migbench-${name}`, netnsPath: '', veth: `mbv${octet}`, ip: this.subnet.address(octet) },
    };
    // Registered before anything is made, so a failure half-way is still torn down by removePod/close.
    this.pods.set(name, pod);
    const network = await createPodNetwork(this.options.tools.ip, name, octet, this.subnet, { attached });
    Object.assign(pod, { network });
    await mkdir(`${PODS_DIR}/${name}`, { recursive: true });
    await writeFile(criuConfigFile, criuConfig(false));
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
      criuConfig: criuConfigFile,
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
    if (!p.addressHandedOver) {
      await removePodNetwork(this.options.tools.ip, p.network);
      this.addresses.release(p.octet);
    }
    await rm(`${PODS_DIR}/${p.name}`, { recursive: true, force: true });
    this.pods.delete(p.name);
  }

  /** The node's own disk (not the shared store): where a page server on that node writes what it receives. */
  private nodeDir(node: string): string {
    return `${this.options.checkpointDir}/nodes/${node}`;
  }

  async preCopyUnsupportedReason(): Promise<string | undefined> {
    // CRIU's own verdict: pre-dumps need the kernel's soft-dirty bits (CONFIG_MEM_SOFT_DIRTY).
    const check = await criuFeatureCheck(this.options.tools.criu, 'mem_dirty_track');
    if (check.ok) return undefined;
    return `the kernel has no dirty-memory tracking (criu check --feature mem_dirty_track: ${check.said}), so CRIU cannot tell which pages changed since a pre-dump`;
  }

  async preDumpPod(pod: Pod, events: EventRecorder): Promise<{ bytes: number }> {
    const p = this.local(pod);
    const dir = `${this.options.checkpointDir}/checkpoints/${p.name}`;
    this.checkpoints.add(dir);
    const rounds = this.preDumps.get(p.name) ?? [];
    const images = `${dir}/pre-${rounds.length + 1}`;
    events.emit('platform:local', 'pre_dump_start', `${p.name} round ${rounds.length + 1}`);
    await this.keepLogOnFailure(`${images}-work/dump.log`, `${p.name}-criu-pre-dump.log`, () =>
      this.runc.checkpoint(p.containerId, p.files, images, `${images}-work`, { preDump: true, parentPath: parentPath(rounds) }),
    );
    rounds.push(images);
    this.preDumps.set(p.name, rounds);
    const bytes = await directoryBytes(images);
    events.emit('platform:local', 'pre_dump_done', `${p.name} round ${rounds.length}: ${bytes} bytes`);
    return { bytes };
  }

  async checkpointPod(pod: Pod, events: EventRecorder, request: CheckpointRequest): Promise<Checkpoint> {
    const p = this.local(pod);
    this.requireNode(request.targetNode);
    const dir = `${this.options.checkpointDir}/checkpoints/${p.name}`;
    this.checkpoints.add(dir);
    const preDumps = this.preDumps.get(p.name) ?? [];
    if (preDumps.length === 0) await rm(dir, { recursive: true, force: true });
    await writeFile(p.criuConfig, criuConfig(request.preserveIp));
    if (request.preserveIp) {
      await setPodLink(this.options.tools.ip, p.network, false);
      events.emit('platform:local', 'pod_detached', p.name);
    }
    events.emit('platform:local', 'checkpoint_start', `${p.name} (${request.transfer}${request.preserveIp ? ', ip preserved' : ''})`);
    try {
      return await this.dump(p, events, request, dir, preDumps);
    } catch (err) {
      // The dump failed and left the source running: put it back on the bridge.
      if (request.preserveIp) await setPodLink(this.options.tools.ip, p.network, true).catch(() => undefined);
      throw err;
    }
  }

  private async dump(p: LocalPod, events: EventRecorder, request: CheckpointRequest, dir: string, preDumps: string[]): Promise<Checkpoint> {
    const images = `${dir}/images`;
    const work = `${dir}/dump-work`;
    const tcpEstablished = request.preserveIp;
    let restoreImages = images;
    const link = this.links.get(request.targetNode);
    if (request.transfer === 'shared-store') {
      await this.keepLogOnFailure(`${work}/dump.log`, `${p.name}-criu-dump.log`, () =>
        this.runc.checkpoint(p.containerId, p.files, images, work, { tcpEstablished, parentPath: parentPath(preDumps) }),
      );
      if (link) {
        // With a node network, the store is across it (as NFS is): the images cross the link.
        restoreImages = this.targetImagesDir(request.targetNode, p);
        events.emit('platform:local', 'transfer_start', `${p.name} -> ${request.targetNode} over ${link.bandwidthMbit} Mbit/s`);
        await copyOverLink(link, images, restoreImages);
        events.emit('platform:local', 'transfer_done', p.name);
      }
    } else if (request.transfer === 'page-server') {
      // The pages go over the network to the target node's disk; the rest of the images (a few
      // hundred KB) are then copied there, so the restore reads everything from the target.
      restoreImages = this.targetImagesDir(request.targetNode, p);
      const port = this.transferPort(p);
      const address = link?.nodeAddress ?? PAGE_SERVER_ADDRESS;
      const server = await startPageServer(this.options.tools.criu, restoreImages, `${restoreImages}/../page-server-work`, address, port, this.placement(link));
      try {
        await this.keepLogOnFailure(`${work}/dump.log`, `${p.name}-criu-dump.log`, () =>
          this.runc.checkpoint(p.containerId, p.files, images, work, { tcpEstablished, parentPath: parentPath(preDumps), pageServer: `${address}:${port}` }),
        );
        if (!(await server.exited(30_000))) throw new Error(`criu page-server for ${p.name} still running 30 s after the dump ended`);
      } finally {
        server.kill();
      }
      for (const entry of await readdir(images)) await copyFile(`${images}/${entry}`, `${restoreImages}/${entry}`);
    } else {
      await this.raisePipeMaxSize(events);
      const port = this.transferPort(p);
      // The source serves its pages on its end of the target's link; the target's daemon fetches them across it.
      const address = link?.hostAddress ?? PAGE_SERVER_ADDRESS;
      const dump = this.runc.lazyCheckpoint(p.containerId, p.files, images, work, { tcpEstablished, pageServer: `${address}:${port}` });
      this.lazyDumps.set(images, { dump, port, address });
      try {
        await this.keepLogOnFailure(`${work}/dump.log`, `${p.name}-criu-dump.log`, () => dump.ready);
      } catch (err) {
        dump.kill();
        this.lazyDumps.delete(images);
        throw err;
      }
    }
    events.emit('platform:local', 'checkpoint_done', p.name);
    // A lazy dump is still running (serving pages); its stats, written when it ends, are not usable (see restorePod).
    const stats = request.transfer !== 'lazy' && existsSync(`${work}/stats-dump`) ? await readDumpStats(`${work}/stats-dump`) : {};
    return { imagesDir: restoreImages, fromPod: p, request, bytes: await directoryBytes(restoreImages), stats };
  }

  /**
   * A lazy dump serves pages through a pipe CRIU sizes to 4 MiB; above fs.pipe-max-size (1 MiB by
   * default) that needs CAP_SYS_RESOURCE, which CRIU's dump lacks under runc, and CRIU then goes on
   * with a 64 KiB pipe and fails on the first request for more ("page-pipe: tee: 65536"). Raised for
   * the run, put back by close().
   */
  private async raisePipeMaxSize(events: EventRecorder): Promise<void> {
    const current = Number.parseInt(readFileSync(PIPE_MAX_SIZE, 'utf8'), 10);
    if (current >= LAZY_PIPE_BYTES) return;
    this.pipeMaxSizeBefore ??= current;
    writeFileSync(PIPE_MAX_SIZE, String(LAZY_PIPE_BYTES));
    events.emit('platform:local', 'sysctl', `fs.pipe-max-size ${current} -> ${LAZY_PIPE_BYTES} (lazy pages)`);
  }

  /** Where a restore on `node` reads its images when they do not come from the shared store (an empty directory). */
  private targetImagesDir(node: string, source: LocalPod): string {
    const dir = `${this.nodeDir(node)}/checkpoints/${source.name}`;
    this.checkpoints.add(dir);
    rmSync(`${dir}/images`, { recursive: true, force: true });
    return `${dir}/images`;
  }

  /** Target-side CRIU helpers run in the node's namespace when there is a node network. */
  private placement(link: NodeLink | undefined): Placement {
    return link ? (file, args) => inNode(link, file, args) : (file, args) => [file, [...args]];
  }

  /** A port per source pod for its page transfer, so transfers of different pods never meet. */
  private transferPort(pod: LocalPod): number {
    return PAGE_SERVER_BASE_PORT + pod.octet;
  }

  async restorePod(checkpoint: Checkpoint, events: EventRecorder): Promise<RestoredPod> {
    const { request } = checkpoint;
    const source = this.local(checkpoint.fromPod);
    let octet: number | undefined;
    if (request.preserveIp) {
      // The source's address moves with it: its network goes first (its processes are dumped or,
      // for lazy, frozen and reachable only through CRIU's page server on the host).
      await removePodNetwork(this.options.tools.ip, source.network);
      source.addressHandedOver = true;
      octet = source.octet;
    }
    // With the IP preserved the pod stays off the bridge until its sockets are back (see setPodLink).
    const pod = await this.preparePod(checkpoint.fromPod.spec, request.targetNode, octet, !request.preserveIp);
    events.emit('platform:local', 'pod_created', `${pod.name} on ${request.targetNode} (${pod.ip}, cpus ${this.cpusets.get(request.targetNode)})`);
    // runc hands CRIU the new bundle's configuration on restore: without tcp-close there too.
    await writeFile(pod.criuConfig, criuConfig(request.preserveIp));
    const workDir = `${checkpoint.imagesDir}/../restore-work-${pod.name}`;
    const lazy = request.transfer === 'lazy' ? this.lazyDumps.get(checkpoint.imagesDir) : undefined;
    if (request.transfer === 'lazy' && !lazy) throw new Error(`no lazy dump of ${source.name} is serving pages`);
    let daemon: CriuDaemon | undefined;
    if (lazy) {
      const placement = this.placement(this.links.get(request.targetNode));
      daemon = await startLazyPagesDaemon(this.options.tools.criu, checkpoint.imagesDir, workDir, lazy.address, lazy.port, placement);
    }
    events.emit('platform:local', 'restore_start', pod.name);
    try {
      pod.pid = await this.keepLogOnFailure(`${workDir}/restore.log`, `${pod.name}-criu-restore.log`, () =>
        this.runc.restore(pod.containerId, pod.files, checkpoint.imagesDir, workDir, { lazyPages: lazy !== undefined, tcpEstablished: request.preserveIp }),
      );
    } catch (err) {
      daemon?.kill();
      lazy?.dump.kill();
      throw err;
    }
    events.emit('platform:local', 'restore_done', pod.name);
    if (request.preserveIp) {
      await setPodLink(this.options.tools.ip, pod.network, true);
      await announcePod(this.options.tools.ip, pod.network, pod.octet);
      events.emit('platform:local', 'pod_attached', pod.name);
    }
    const stats = existsSync(`${workDir}/stats-restore`) ? await readRestoreStats(`${workDir}/stats-restore`) : {};
    if (!lazy || !daemon) return { pod, stats };
    const lazyDaemon = daemon;
    const memoryComplete = (async () => {
      try {
        await lazy.dump.done;
        if (!(await lazyDaemon.exited(60_000))) throw new Error(`criu lazy-pages for ${pod.name} still running 60 s after the source sent its last page`);
      } finally {
        lazyDaemon.kill();
        this.lazyDumps.delete(checkpoint.imagesDir);
      }
      // CRIU's stats-dump of a lazy dump is not read: its frozen_time came out as 400–500 s for
      // migrations of under 10 s here, so the criu_* dump columns stay empty for criu-lazy.
      events.emit('platform:local', 'memory_complete', pod.name);
    })();
    memoryComplete.catch(() => undefined);
    return { pod, stats, memoryComplete };
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
    this.lazyDumps.get(checkpoint.imagesDir)?.dump.kill();
    this.lazyDumps.delete(checkpoint.imagesDir);
    const source = checkpoint.fromPod.name;
    this.preDumps.delete(source);
    for (const dir of [`${this.options.checkpointDir}/checkpoints/${source}`, checkpoint.imagesDir.replace(/\/images$/, '')]) {
      await rm(dir, { recursive: true, force: true });
      this.checkpoints.delete(dir);
    }
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
    for (const { dump } of this.lazyDumps.values()) dump.kill();
    this.lazyDumps.clear();
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
    // The nodes' own disks (page-server and link targets): only directories are left there by now.
    for (const node of this.nodes) await attempt(() => rm(this.nodeDir(node), { recursive: true, force: true }));
    await attempt(async () => void (await removeAllServiceRules(this.options.tools.iptables)));
    await attempt(() => removeBridge(this.options.tools.ip));
    await attempt(() => removeNodeLinks(this.options.tools.ip, this.links.values()));
    await attempt(async () => void (await unmountStoreMounts([this.options.checkpointDir])));
    if (this.pipeMaxSizeBefore !== undefined) {
      const before = this.pipeMaxSizeBefore;
      await attempt(async () => writeFileSync(PIPE_MAX_SIZE, String(before)));
      this.pipeMaxSizeBefore = undefined;
    }
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

/** The last pre-dump as CRIU wants it: relative to the next dump's images directory (a sibling). */
function parentPath(preDumps: readonly string[]): string | undefined {
  const last = preDumps.at(-1);
  return last === undefined ? undefined : `../${last.slice(last.lastIndexOf('/') + 1)}`;
}

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    total += entry.isDirectory() ? await directoryBytes(path) : (await stat(path)).size;
  }
  return total;
}
