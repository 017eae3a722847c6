// CRIU on the local platform: pre-dumps, the checkpoint of a pod (through the shared store, a page
// server on the target node, or lazily), its restore as a new pod on the target node, and the
// checkpoint directories on the store and the nodes' own disks. Pods themselves are in pods.ts.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { copyFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import type { EventRecorder } from '../../timeline.ts';
import type { Checkpoint, CheckpointRequest, Pod, RestoredPod } from '../platform.ts';
import { criuFeatureCheck } from '../../setup/criu-detect.ts';
import { startLazyPagesDaemon, startPageServer, type CriuDaemon, type Placement } from './criu-daemons.ts';
import { readDumpStats, readRestoreStats } from './criu-stats.ts';
import type { HostNetwork } from './host-network.ts';
import { copyOverLink, inNode, type NodeLink } from './node-link.ts';
import { criuConfig, type LocalPod, type LocalPods } from './pods.ts';
import type { LazyCheckpoint, Runc } from './runc.ts';

/** CRIU's page transfers (page server, lazy pages) between the "nodes" of this host. */
const PAGE_SERVER_ADDRESS = '127.0.0.1';
const PAGE_SERVER_BASE_PORT = 27_000;
const PIPE_MAX_SIZE = '/proc/sys/fs/pipe-max-size';
/** CRIU's PIPE_MAX_SIZE pages rounded up to a power of two (page-pipe.h: 819 × 4 KiB). */
const LAZY_PIPE_BYTES = 4 * 1024 * 1024;

export interface CheckpointRestoreOptions {
  nodes: readonly string[];
  /** The shared store: checkpoints/ holds the images, nodes/<node>/ stands for each node's own disk. */
  checkpointDir: string;
  /** Where a failed dump's or restore's CRIU log is kept. */
  logDir: string;
  criu: string;
}

export class CheckpointRestore {
  private readonly options: CheckpointRestoreOptions;
  private readonly pods: LocalPods;
  private readonly network: HostNetwork;
  private readonly runc: Runc;
  private readonly checkpoints = new Set<string>();
  /** Pre-copy rounds per source pod, oldest first: the final dump sends only what changed since the last. */
  private readonly preDumps = new Map<string, string[]>();
  /** Post-copy dumps still serving pages, by the images directory their restore reads. */
  private readonly lazyDumps = new Map<string, { dump: LazyCheckpoint; port: number; address: string }>();
  /** fs.pipe-max-size before a lazy dump raised it; put back by tearDown(). */
  private pipeMaxSizeBefore: number | undefined;

  constructor(options: CheckpointRestoreOptions, pods: LocalPods, network: HostNetwork, runc: Runc) {
    this.options = options;
    this.pods = pods;
    this.network = network;
    this.runc = runc;
  }

  /** The node's own disk (not the shared store): where a page server on that node writes what it receives. */
  private nodeDir(node: string): string {
    return `${this.options.checkpointDir}/nodes/${node}`;
  }

  async preCopyUnsupportedReason(): Promise<string | undefined> {
    // CRIU's own verdict: pre-dumps need the kernel's soft-dirty bits (CONFIG_MEM_SOFT_DIRTY).
    const check = await criuFeatureCheck(this.options.criu, 'mem_dirty_track');
    if (check.ok) return undefined;
    return `the kernel has no dirty-memory tracking (criu check --feature mem_dirty_track: ${check.said}), so CRIU cannot tell which pages changed since a pre-dump`;
  }

  async preDump(pod: Pod, events: EventRecorder): Promise<{ bytes: number }> {
    const p = this.pods.get(pod);
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

  async checkpoint(pod: Pod, events: EventRecorder, request: CheckpointRequest): Promise<Checkpoint> {
    const p = this.pods.get(pod);
    this.pods.requireNode(request.targetNode);
    const dir = `${this.options.checkpointDir}/checkpoints/${p.name}`;
    this.checkpoints.add(dir);
    const preDumps = this.preDumps.get(p.name) ?? [];
    if (preDumps.length === 0) await rm(dir, { recursive: true, force: true });
    await writeFile(p.criuConfig, criuConfig(request.preserveIp));
    if (request.preserveIp) {
      await this.network.setPodLink(p.network, false);
      events.emit('platform:local', 'pod_detached', p.name);
    }
    events.emit('platform:local', 'checkpoint_start', `${p.name} (${request.transfer}${request.preserveIp ? ', ip preserved' : ''})`);
    try {
      return await this.dump(p, events, request, dir, preDumps);
    } catch (err) {
      // The dump failed and left the source running: put it back on the bridge.
      if (request.preserveIp) await this.network.setPodLink(p.network, true).catch(() => undefined);
      throw err;
    }
  }

  private async dump(p: LocalPod, events: EventRecorder, request: CheckpointRequest, dir: string, preDumps: string[]): Promise<Checkpoint> {
    const images = `${dir}/images`;
    const work = `${dir}/dump-work`;
    const tcpEstablished = request.preserveIp;
    let restoreImages = images;
    const link = this.network.link(request.targetNode);
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
      const server = await startPageServer(this.options.criu, restoreImages, `${restoreImages}/../page-server-work`, address, port, this.placement(link));
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
   * the run, put back by tearDown().
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

  async restore(checkpoint: Checkpoint, events: EventRecorder): Promise<RestoredPod> {
    const { request } = checkpoint;
    const source = this.pods.get(checkpoint.fromPod);
    let octet: number | undefined;
    if (request.preserveIp) {
      // The source's address moves with it: its network goes first (its processes are dumped or,
      // for lazy, frozen and reachable only through CRIU's page server on the host).
      await this.network.removePodNetwork(source.network);
      source.addressHandedOver = true;
      octet = source.octet;
    }
    // With the IP preserved the pod stays off the bridge until its sockets are back (see setPodLink).
    const pod = await this.pods.prepare(checkpoint.fromPod.spec, request.targetNode, octet, !request.preserveIp);
    this.pods.emitCreated(pod, events);
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
      await this.network.setPodLink(pod.network, true);
      await this.network.announcePod(pod.network, pod.octet);
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

  /** Stops every lazy dump still serving pages (before the pods go). */
  stopLazyDumps(): void {
    for (const { dump } of this.lazyDumps.values()) dump.kill();
    this.lazyDumps.clear();
  }

  /** The checkpoint directories, the nodes' disks and fs.pipe-max-size, after every pod is gone. */
  async tearDownDirectories(attempt: (step: () => Promise<void>) => Promise<void>): Promise<void> {
    for (const dir of [...this.checkpoints]) await attempt(() => rm(dir, { recursive: true, force: true }));
    // The nodes' own disks (page-server and link targets): only directories are left there by now.
    for (const node of this.options.nodes) await attempt(() => rm(this.nodeDir(node), { recursive: true, force: true }));
  }

  async restorePipeMaxSize(attempt: (step: () => Promise<void>) => Promise<void>): Promise<void> {
    if (this.pipeMaxSizeBefore === undefined) return;
    const before = this.pipeMaxSizeBefore;
    await attempt(async () => writeFileSync(PIPE_MAX_SIZE, String(before)));
    this.pipeMaxSizeBefore = undefined;
  }
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
