// The embedded platform: "nodes" are CPU shares of this host, pods are runc containers in their
// own network namespaces on a host bridge, a service is a NAT rule on the host, and the shared
// checkpoint directory stands in for the NFS share of a real cluster. This file owns the platform's
// life (the host lock, leftovers of a crashed run, the store's mounts, teardown in reverse order)
// and puts the pieces together: pods.ts (pods, volumes, cordons), checkpoint-restore.ts (CRIU) and
// host-network.ts (addresses, bridge, services, node links).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { EventRecorder } from '../../model/timeline.ts';
import type { Checkpoint, CheckpointRequest, CheckpointingRuntime, Pod, RestoredPod, RestoreHooks, Service, StopResult } from './node-runtime.ts';
import type { PodSpec } from '../../model/pod-spec.ts';
import { exec } from '../../system/exec.ts';
import { CheckpointRestore } from './checkpoint-restore.ts';
import { HostNetwork } from './host-network.ts';
import { LOCK_FILE, PODS_DIR, RUN_DIR } from './names.ts';
import { LocalPods, nodeCpusets } from './pods.ts';
import { prepareRootfs } from './rootfs.ts';
import { Runc } from './runc.ts';
import { CriuDirect } from './criu-direct.ts';
import { CriuKernelCache } from './criu-kernel-cache.ts';
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
  /** Whether CRIU gets its kernel-facts cache where the host's /run cannot keep it (criu-kernel-cache.ts). */
  criuKernelCache?: 'auto' | 'off';
  /** Who drives CRIU unless a strategy says: runc (default) or CRIU's command line (criu-direct.ts). */
  runtime?: 'runc' | 'criu';
  /** Where each pod's stdout/stderr is kept (`<logDir>/<pod>.log`). */
  logDir: string;
  tools: LocalTools;
  /** Reports what start-up had to clean (leftovers of a crashed run). */
  log?: (line: string) => void;
}

export class LocalPlatform implements CheckpointingRuntime {
  readonly name = 'local';
  readonly nodes: readonly string[];
  readonly cpusets: Map<string, string>;
  private readonly options: LocalPlatformOptions;
  private readonly network: HostNetwork;
  private readonly pods: LocalPods;
  private readonly criu: CheckpointRestore;
  /** How CRIU finds its kernel facts this run (set by create; run.json's platform.criuKernelCache). */
  kernelCache: CriuKernelCache | undefined;

  private constructor(options: LocalPlatformOptions) {
    this.options = options;
    this.nodes = options.nodes;
    this.cpusets = nodeCpusets(options.nodes, availableParallelism());
    this.network = new HostNetwork(options.tools, options.subnet);
    const runc = new Runc({ runc: options.tools.runc, criu: options.tools.criu });
    const { checkpointDir, logDir } = options;
    const rootfs = prepareRootfs();
    this.pods = new LocalPods({ nodes: options.nodes, cpusets: this.cpusets, checkpointDir, logDir }, this.network, runc, rootfs);
    const direct = new CriuDirect(options.tools.criu, rootfs);
    this.criu = new CheckpointRestore(
      { nodes: options.nodes, checkpointDir, logDir, criu: options.tools.criu, runtime: options.runtime ?? 'runc' },
      this.pods,
      this.network,
      runc,
      direct,
    );
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
      const platform = new LocalPlatform(options);
      platform.kernelCache = await CriuKernelCache.prepare(options.tools.criu, options.criuKernelCache ?? 'auto');
      await platform.network.setUp(options.nodes, options.nodeLinkMbit);
      return platform;
    } catch (err) {
      await cleanupLocalHost({ ...options.tools, checkpointDirs: [options.checkpointDir] }).catch(() => undefined);
      throw err;
    }
  }

  volumePath(volume: string): string {
    return this.pods.volumePath(volume);
  }

  createVolume(volume: string): Promise<void> {
    return this.pods.createVolume(volume);
  }

  removeVolume(volume: string): Promise<void> {
    return this.pods.removeVolume(volume);
  }

  cordon(node: string, events: EventRecorder): void {
    this.pods.cordon(node, events);
  }

  uncordon(node: string, events: EventRecorder): void {
    this.pods.uncordon(node, events);
  }

  isSchedulable(node: string): boolean {
    return this.pods.isSchedulable(node);
  }

  startPod(spec: PodSpec, node: string, events: EventRecorder): Promise<Pod> {
    return this.pods.start(spec, node, events);
  }

  stopPod(pod: Pod, gracePeriodMs: number, events: EventRecorder, signal?: AbortSignal): Promise<StopResult> {
    return this.pods.stop(pod, gracePeriodMs, events, signal);
  }

  removePod(pod: Pod): Promise<void> {
    return this.pods.remove(pod);
  }

  preCopyUnsupportedReason(): Promise<string | undefined> {
    return this.criu.preCopyUnsupportedReason();
  }

  preDumpPod(pod: Pod, events: EventRecorder): Promise<{ bytes: number }> {
    return this.criu.preDump(pod, events);
  }

  checkpointPod(pod: Pod, events: EventRecorder, request: CheckpointRequest): Promise<Checkpoint> {
    return this.criu.checkpoint(pod, events, request);
  }

  restorePod(checkpoint: Checkpoint, events: EventRecorder, hooks?: RestoreHooks): Promise<RestoredPod> {
    return this.criu.restore(checkpoint, events, hooks);
  }

  removeCheckpoint(checkpoint: Checkpoint): Promise<void> {
    return this.criu.removeCheckpoint(checkpoint);
  }

  createService(name: string, targetPort: number): Promise<Service> {
    return this.network.createService(name, targetPort);
  }

  setServiceEndpoint(service: Service, pod: Pod | null, events: EventRecorder): Promise<void> {
    return this.network.setServiceEndpoint(service, pod, events);
  }

  removeService(service: Service): Promise<void> {
    return this.network.removeService(service);
  }

  /** Removes everything still there, in reverse order of creation, then the shared pieces. */
  async close(): Promise<void> {
    this.pods.uncordonAll();
    this.criu.stopLazyDumps();
    const errors: unknown[] = [];
    const attempt = async (f: () => Promise<void>) => {
      try {
        await f();
      } catch (err) {
        errors.push(err);
      }
    };
    for (const service of this.network.servicesNewestFirst()) await attempt(() => this.removeService(service));
    for (const pod of this.pods.podsNewestFirst()) await attempt(() => this.removePod(pod));
    for (const volume of this.pods.volumeNames()) await attempt(() => this.removeVolume(volume));
    await this.criu.tearDownDirectories(attempt);
    await this.network.tearDown(attempt);
    await attempt(async () => void (await unmountStoreMounts([this.options.checkpointDir])));
    await this.criu.restorePipeMaxSize(attempt);
    await attempt(async () => await this.kernelCache?.remove());
    await attempt(() => rm(RUN_DIR, { recursive: true, force: true }));
    if (errors.length > 0) throw new AggregateError(errors, `local platform teardown: ${errors.length} step(s) failed`);
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
