// CRIU on the local platform: pre-dumps, the checkpoint of a pod (through the shared store, a page
// server on the target node, or lazily), its restore as a new pod on the target node, and the
// checkpoint directories on the store and the nodes' own disks. Pods themselves are in pods.ts; what
// a request's settings change is beside this file, one file each: who runs CRIU (criu-runtime.ts),
// who freezes the pod (dump-freezer.ts), whether the address moves with it (ip-handover.ts), when the
// target pod is made (target-pods.ts), the page pipes' size limit (pipe-max-size.ts), and where the
// images lie (checkpoint-dirs.ts).
import { existsSync } from 'node:fs';
import { copyFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { EventRecorder } from '../../model/timeline.ts';
import type { Checkpoint, CheckpointRequest, Pod, RestoredPod, RestoreHooks } from './node-runtime.ts';
import { criuFeatureCheck } from '../../criu/features.ts';
import { startLazyPagesDaemon, startPageServer, type CriuDaemon, type Placement } from './criu-daemons.ts';
import { readDumpStats, readRestoreStats } from '../../criu/stats.ts';
import type { HostNetwork } from './host-network.ts';
import { copyOverLink, inNode, type NodeLink } from './node-link.ts';
import { criuConfig, type LocalPod, type LocalPods } from './pods.ts';
import type { LazyCheckpoint, Runc } from './runc.ts';
import { processAlive } from '../../system/processes.ts';
import type { CriuDirect } from './criu-direct.ts';
import { CheckpointFailure } from '../../criu/migration-errors.ts';
import { CheckpointDirs, directoryBytes, parentPath } from './checkpoint-dirs.ts';
import { unmountBelow } from './cleanup.ts';
import { CriuRuntime } from './criu-runtime.ts';
import { DumpFreezer } from './dump-freezer.ts';
import { IpHandover } from './ip-handover.ts';
import { PipeMaxSize } from './pipe-max-size.ts';
import { TargetPods } from './target-pods.ts';

/** CRIU's page transfers (page server, lazy pages) between the "nodes" of this host. */
const PAGE_SERVER_ADDRESS = '127.0.0.1';
const PAGE_SERVER_BASE_PORT = 27_000;

export interface CheckpointRestoreOptions {
  nodes: readonly string[];
  /** The shared store: checkpoints/ holds the images, nodes/<node>/ stands for each node's own disk. */
  checkpointDir: string;
  /** Where a failed dump's or restore's CRIU log is kept. */
  logDir: string;
  criu: string;
  /** Who drives CRIU when a request does not say (the scenario's local.runtime). */
  runtime: 'runc' | 'criu';
}

export class CheckpointRestore {
  private readonly options: CheckpointRestoreOptions;
  private readonly pods: LocalPods;
  private readonly network: HostNetwork;
  private readonly runc: Runc;
  private readonly runtime: CriuRuntime;
  private readonly pipeMaxSize = new PipeMaxSize();
  private readonly dirs: CheckpointDirs;
  private readonly targets: TargetPods;
  /** Post-copy dumps still serving pages, by the images directory their restore reads. */
  private readonly lazyDumps = new Map<string, { dump: LazyCheckpoint; port: number; address: string }>();

  constructor(options: CheckpointRestoreOptions, pods: LocalPods, network: HostNetwork, runc: Runc, direct: CriuDirect) {
    this.options = options;
    this.pods = pods;
    this.network = network;
    this.runc = runc;
    this.runtime = new CriuRuntime({ runc, direct, defaultRuntime: options.runtime, logDir: options.logDir });
    this.dirs = new CheckpointDirs(options.checkpointDir, options.nodes);
    this.targets = new TargetPods(pods);
  }

  async preCopyUnsupportedReason(): Promise<string | undefined> {
    // CRIU's own verdict: pre-dumps need the kernel's soft-dirty bits (CONFIG_MEM_SOFT_DIRTY).
    const check = await criuFeatureCheck(this.options.criu, 'mem_dirty_track');
    if (check.ok) return undefined;
    return `the kernel has no dirty-memory tracking (criu check --feature mem_dirty_track: ${check.said}), so CRIU cannot tell which pages changed since a pre-dump`;
  }

  async preDump(pod: Pod, events: EventRecorder): Promise<{ bytes: number }> {
    const p = this.pods.get(pod);
    const dir = this.dirs.sourceDir(p.name);
    const rounds = this.dirs.preDumps(p.name);
    const images = `${dir}/pre-${rounds.length + 1}`;
    events.emit('platform:local', 'pre_dump_start', `${p.name} round ${rounds.length + 1}`);
    // Pre-dumps get no request: they run under the platform's runtime (local.runtime).
    await this.runtime.keepLogOnFailure(`${images}-work/${this.options.runtime === 'criu' ? 'pre-' : ''}dump.log`, `${p.name}-criu-pre-dump.log`, () =>
      this.runtime.dump(this.options.runtime, p, images, `${images}-work`, { preDump: true, parentPath: parentPath(rounds) }),
    );
    rounds.push(images);
    const bytes = await directoryBytes(images);
    events.emit('platform:local', 'pre_dump_done', `${p.name} round ${rounds.length}: ${bytes} bytes`);
    return { bytes };
  }

  async checkpoint(pod: Pod, events: EventRecorder, request: CheckpointRequest): Promise<Checkpoint> {
    const p = this.pods.get(pod);
    this.pods.requireNode(request.targetNode);
    const dir = this.dirs.sourceDir(p.name);
    const preDumps = this.dirs.preDumps(p.name);
    if (preDumps.length === 0) await rm(dir, { recursive: true, force: true });
    const freezer = await DumpFreezer.forDump(p, request);
    await writeFile(p.criuConfig, criuConfig(request.preserveIp) + freezer.criuConfigLines);
    await new IpHandover(this.network, request).detachSource(p, events);
    await this.targets.beforeDump(p, request, events);
    events.emit('platform:local', 'checkpoint_start', `${p.name} (${request.transfer}${request.preserveIp ? ', ip preserved' : ''})`);
    try {
      await freezer.freezeBeforeDump(events);
      const raised = request.pagePipes === 'large' && request.transfer !== 'lazy' ? this.pipeMaxSize.raise(events, 'page pipes, this dump') : false;
      let checkpoint: Checkpoint;
      try {
        checkpoint = await this.dump(p, events, request, dir, preDumps);
      } finally {
        // For this dump only: the next trial (another strategy, interleaved) sees the sysctl as the host had it.
        if (raised && this.lazyDumps.size === 0) this.pipeMaxSize.putBack(events);
      }
      return freezer.withFreezeTime(checkpoint);
    } catch (err) {
      // A cgroup the harness froze (freezer: harness | action-script) is thawed first, so that
      // afterFailedDump sees only what CRIU itself left; a target made before the dump goes too.
      freezer.thawAfterFailure();
      await this.targets.removeEarly(p.name);
      throw await this.afterFailedDump(p, request, events, err);
    }
  }

  /**
   * A dump failed (CRIU killed, the store full, …): the source must go on serving and the next
   * trial must find an empty store. CRIU thaws the source itself when it fails; a CRIU that was
   * killed leaves its cgroup frozen, so a paused container is resumed here. The partial images go.
   */
  private async afterFailedDump(p: LocalPod, request: CheckpointRequest, events: EventRecorder, err: unknown): Promise<CheckpointFailure> {
    const notes: string[] = [];
    const status = await this.runc.status(p.containerId);
    if (status === 'paused') {
      try {
        await this.runc.resume(p.containerId);
        events.emit('platform:local', 'source_thawed', `${p.name}: CRIU left it frozen`);
      } catch (thawErr) {
        notes.push(`the source stayed frozen (runc resume: ${thawErr instanceof Error ? thawErr.message : String(thawErr)})`);
      }
    }
    // The dump failed and left the source running: put it back on the bridge.
    await new IpHandover(this.network, request).reattachSource(p);
    await this.dirs.remove(p.name, request.targetNode);
    events.emit('platform:local', 'checkpoint_failed', `${p.name}: partial images removed`);
    const running = processAlive(p.pid) && (await this.runc.status(p.containerId)) === 'running';
    if (!running) notes.push(`the source ${p.name} is no longer running`);
    const message = `${err instanceof Error ? err.message : String(err)}${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`;
    return new CheckpointFailure(message, running);
  }

  private async dump(p: LocalPod, events: EventRecorder, request: CheckpointRequest, dir: string, preDumps: string[]): Promise<Checkpoint> {
    const images = `${dir}/images`;
    // CRIU's log and stats go beside the pod, not on the store: a full store must not swallow the
    // log line that says why the dump failed.
    const work = `${dirname(p.files.bundleDir)}/dump-work`;
    const tcpEstablished = request.preserveIp;
    const runtime = this.runtime.runtimeOf(request);
    if (runtime === 'criu' && request.transfer === 'lazy') throw new Error('runtime: criu does no post-copy (criu-lazy): use runtime: runc for it');
    let restoreImages = images;
    const link = this.network.link(request.targetNode);
    if (request.transfer === 'shared-store') {
      await this.runtime.keepLogOnFailure(`${work}/dump.log`, `${p.name}-criu-dump.log`, () =>
        this.runtime.dump(runtime, p, images, work, { tcpEstablished, parentPath: parentPath(preDumps) }),
      );
      if (link) {
        // With a node network, the store is across it (as NFS is): the images cross the link.
        restoreImages = this.dirs.targetImagesDir(request.targetNode, p.name);
        events.emit('platform:local', 'transfer_start', `${p.name} -> ${request.targetNode} over ${link.bandwidthMbit} Mbit/s`);
        await copyOverLink(link, images, restoreImages);
        events.emit('platform:local', 'transfer_done', p.name);
      }
    } else if (request.transfer === 'page-server') {
      // The pages go over the network to the target node's disk; the rest of the images (a few
      // hundred KB) are then copied there, so the restore reads everything from the target.
      restoreImages = this.dirs.targetImagesDir(request.targetNode, p.name);
      const port = this.transferPort(p);
      const address = link?.nodeAddress ?? PAGE_SERVER_ADDRESS;
      const server = await startPageServer(this.options.criu, restoreImages, `${restoreImages}/../page-server-work`, address, port, this.placement(link));
      try {
        await this.runtime.keepLogOnFailure(`${work}/dump.log`, `${p.name}-criu-dump.log`, () =>
          this.runtime.dump(runtime, p, images, work, { tcpEstablished, parentPath: parentPath(preDumps), pageServer: `${address}:${port}` }),
        );
        if (!(await server.exited(30_000))) throw new Error(`criu page-server for ${p.name} still running 30 s after the dump ended`);
      } finally {
        server.kill();
      }
      for (const entry of await readdir(images)) await copyFile(`${images}/${entry}`, `${restoreImages}/${entry}`);
    } else {
      this.pipeMaxSize.raise(events, 'lazy pages');
      const port = this.transferPort(p);
      // The source serves its pages on its end of the target's link; the target's daemon fetches them across it.
      const address = link?.hostAddress ?? PAGE_SERVER_ADDRESS;
      const dump = this.runtime.lazyDump(p, images, work, { tcpEstablished, pageServer: `${address}:${port}` });
      this.lazyDumps.set(images, { dump, port, address });
      try {
        await this.runtime.keepLogOnFailure(`${work}/dump.log`, `${p.name}-criu-dump.log`, () => dump.ready);
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

  /** Target-side CRIU helpers run in the node's namespace when there is a node network. */
  private placement(link: NodeLink | undefined): Placement {
    return link ? (file, args) => inNode(link, file, args) : (file, args) => [file, [...args]];
  }

  /** A port per source pod for its page transfer, so transfers of different pods never meet. */
  private transferPort(pod: LocalPod): number {
    return PAGE_SERVER_BASE_PORT + pod.octet;
  }

  async restore(checkpoint: Checkpoint, events: EventRecorder, hooks: RestoreHooks = {}): Promise<RestoredPod> {
    const { request } = checkpoint;
    const source = this.pods.get(checkpoint.fromPod);
    const handover = new IpHandover(this.network, request);
    const octet = await handover.takeSourceAddress(source);
    const pod = await this.targets.forRestore(source, request, octet, events);
    // runc hands CRIU the new bundle's configuration on restore: without tcp-close there too.
    await writeFile(pod.criuConfig, criuConfig(request.preserveIp));
    const workDir = `${checkpoint.imagesDir}/../restore-work-${pod.name}`;
    const lazy = request.transfer === 'lazy' ? this.lazyDumps.get(checkpoint.imagesDir) : undefined;
    if (request.transfer === 'lazy' && !lazy) throw new Error(`no lazy dump of ${source.name} is serving pages`);
    let daemon: CriuDaemon | undefined;
    if (lazy) {
      const placement = this.placement(this.network.link(request.targetNode));
      daemon = await startLazyPagesDaemon(this.options.criu, checkpoint.imagesDir, workDir, lazy.address, lazy.port, placement);
    }
    events.emit('platform:local', 'restore_start', pod.name);
    hooks.beforeRestore?.(pod);
    try {
      const runtime = this.runtime.runtimeOf(request);
      pod.pid = await this.runtime.keepLogOnFailure(`${workDir}/restore.log`, `${pod.name}-criu-restore.log`, () =>
        this.runtime.restore(runtime, pod, this.pods.cpus(pod.node), checkpoint.imagesDir, workDir, {
          lazyPages: lazy !== undefined,
          tcpEstablished: request.preserveIp,
        }),
      );
      pod.restoredByCriu = runtime === 'criu';
    } catch (err) {
      daemon?.kill();
      lazy?.dump.kill();
      // Nothing of the failed target pod may stay (a half-restored container, its netns, its veth).
      await handover.releaseFailedTarget(pod);
      await this.pods.remove(pod).catch(() => undefined);
      // A CRIU killed half-way leaves its cgroup yard mounted there.
      await unmountBelow([workDir]).catch(() => undefined);
      await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
      events.emit('platform:local', 'restore_failed', `${pod.name}: removed`);
      throw err;
    }
    events.emit('platform:local', 'restore_done', pod.name);
    await handover.attachRestored(pod, events);
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

  async removeCheckpoint(checkpoint: Checkpoint): Promise<void> {
    await this.targets.removeEarly(checkpoint.fromPod.name);
    this.lazyDumps.get(checkpoint.imagesDir)?.dump.kill();
    this.lazyDumps.delete(checkpoint.imagesDir);
    await this.dirs.remove(checkpoint.fromPod.name, checkpoint.request.targetNode, checkpoint.imagesDir.replace(/\/images$/, ''));
  }

  /** Stops every lazy dump still serving pages (before the pods go). */
  stopLazyDumps(): void {
    for (const { dump } of this.lazyDumps.values()) dump.kill();
    this.lazyDumps.clear();
  }

  /** The checkpoint directories, the nodes' disks and fs.pipe-max-size, after every pod is gone. */
  async tearDownDirectories(attempt: (step: () => Promise<void>) => Promise<void>): Promise<void> {
    await this.dirs.tearDown(attempt);
  }

  async restorePipeMaxSize(attempt: (step: () => Promise<void>) => Promise<void>): Promise<void> {
    await this.pipeMaxSize.restore(attempt);
  }
}
