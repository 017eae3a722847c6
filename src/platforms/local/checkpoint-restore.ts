// CRIU on the local platform: pre-dumps, the checkpoint of a pod (through the shared store, a page
// server on the target node, or lazily), its restore as a new pod on the target node, and the
// checkpoint directories on the store and the nodes' own disks. Pods themselves are in pods.ts.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { copyFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { EventRecorder } from '../../model/timeline.ts';
import type { Checkpoint, CheckpointRequest, Pod, RestoredPod } from '../platform.ts';
import { criuFeatureCheck } from '../../setup/criu-detect.ts';
import { startLazyPagesDaemon, startPageServer, type CriuDaemon, type Placement } from './criu-daemons.ts';
import { readDumpStats, readRestoreStats } from './criu-stats.ts';
import type { HostNetwork } from './host-network.ts';
import { copyOverLink, inNode, type NodeLink } from './node-link.ts';
import { criuConfig, type LocalPod, type LocalPods } from './pods.ts';
import { containerFreezer, freezeCgroup, freezeScript, readScriptReport, thawCgroup } from './freezer.ts';
import { processAlive, type CheckpointOptions, type LazyCheckpoint, type Runc } from './runc.ts';
import type { CriuDirect } from './criu-direct.ts';
import { CheckpointFailure, criuErrorLine } from '../migration-errors.ts';

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
  /** Who drives CRIU when a request does not say (the scenario's local.runtime). */
  runtime: 'runc' | 'criu';
}

export class CheckpointRestore {
  private readonly options: CheckpointRestoreOptions;
  private readonly pods: LocalPods;
  private readonly network: HostNetwork;
  private readonly runc: Runc;
  private readonly direct: CriuDirect;
  private readonly checkpoints = new Set<string>();
  /** Pre-copy rounds per source pod, oldest first: the final dump sends only what changed since the last. */
  private readonly preDumps = new Map<string, string[]>();
  /** Target pods made before their source's dump (targetPod: before-dump), by source pod name. */
  private readonly earlyTargets = new Map<string, LocalPod>();
  /** Post-copy dumps still serving pages, by the images directory their restore reads. */
  private readonly lazyDumps = new Map<string, { dump: LazyCheckpoint; port: number; address: string }>();
  /** fs.pipe-max-size before a lazy dump raised it; put back by tearDown(). */
  private pipeMaxSizeBefore: number | undefined;

  constructor(options: CheckpointRestoreOptions, pods: LocalPods, network: HostNetwork, runc: Runc, direct: CriuDirect) {
    this.options = options;
    this.pods = pods;
    this.network = network;
    this.runc = runc;
    this.direct = direct;
  }

  /** A dump (or pre-dump) through runc, or by CRIU itself for `runtime: criu` (criu-direct.ts). */
  private dumpWith(runtime: 'runc' | 'criu', p: LocalPod, images: string, work: string, options: CheckpointOptions): Promise<void> {
    if (runtime === 'runc') return this.runc.checkpoint(p.containerId, p.files, images, work, options);
    const [address, port] = options.pageServer?.split(':') ?? [];
    const pageServer = address && port ? { address, port: Number(port) } : undefined;
    return this.direct.dump(p, images, work, { tcpEstablished: options.tcpEstablished ?? false, parentPath: options.parentPath, preDump: options.preDump, pageServer });
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
    // Pre-dumps get no request: they run under the platform's runtime (local.runtime).
    await this.keepLogOnFailure(`${images}-work/${this.options.runtime === 'criu' ? 'pre-' : ''}dump.log`, `${p.name}-criu-pre-dump.log`, () =>
      this.dumpWith(this.options.runtime, p, images, `${images}-work`, { preDump: true, parentPath: parentPath(rounds) }),
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
    const freezer = request.freezer === 'harness' || request.freezer === 'action-script' ? containerFreezer(p.containerId) : undefined;
    const script = request.freezer === 'action-script' ? { path: `${dirname(p.criuConfig)}/freeze.sh`, report: `${dirname(p.criuConfig)}/freeze.report` } : undefined;
    if (script) {
      await writeFile(script.path, freezeScript(freezer!, script.report), { mode: 0o755 });
      await rm(script.report, { force: true });
    }
    await writeFile(p.criuConfig, criuConfig(request.preserveIp) + (script ? `action-script ${script.path}\n` : ''));
    if (request.preserveIp) {
      await this.network.setPodLink(p.network, false);
      events.emit('platform:local', 'pod_detached', p.name);
    }
    if (request.targetPod === 'before-dump') {
      if (request.preserveIp) throw new Error('targetPod: before-dump needs ip: new (with ip: preserve the target takes the source\'s address, free only after its dump)');
      // Made while the source still serves: the outage then holds no namespace, veth or bundle work.
      const target = await this.pods.prepare(p.spec, request.targetNode, undefined, true);
      this.earlyTargets.set(p.name, target);
      this.pods.emitCreated(target, events);
    }
    events.emit('platform:local', 'checkpoint_start', `${p.name} (${request.transfer}${request.preserveIp ? ', ip preserved' : ''})`);
    try {
      if (request.freezer === 'harness') {
        // Frozen here, CRIU finds the cgroup FROZEN and skips its 100 ms polling (see freezer.ts).
        events.emit('platform:local', 'freeze_start', p.name);
        const { polls } = await freezeCgroup(freezer!);
        events.emit('platform:local', 'freeze_done', `${p.name} (${polls} polls)`);
      }
      const raised = request.pagePipes === 'large' && request.transfer !== 'lazy' ? this.raisePipeMaxSize(events, 'page pipes, this dump') : false;
      let checkpoint: Checkpoint;
      try {
        checkpoint = await this.dump(p, events, request, dir, preDumps);
      } finally {
        // For this dump only: the next trial (another strategy, interleaved) sees the sysctl as the host had it.
        if (raised && this.lazyDumps.size === 0) this.putBackPipeMaxSize(events);
      }
      const scripted = script ? readScriptReport(script.report) : undefined;
      if (script && !scripted) throw new Error(`CRIU did not run the freeze action script ${script.path} (no ${script.report})`);
      return scripted ? { ...checkpoint, stats: { ...checkpoint.stats, harnessFreezeUs: scripted.freezeUs } } : checkpoint;
    } catch (err) {
      // A cgroup the harness froze (freezer: harness | action-script) is thawed first, so that
      // afterFailedDump sees only what CRIU itself left; a target made before the dump goes too.
      if (freezer) {
        try {
          thawCgroup(freezer);
        } catch {
          // afterFailedDump resumes a source still paused and says so if it cannot.
        }
      }
      await this.removeEarlyTarget(p.name);
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
    if (request.preserveIp) await this.network.setPodLink(p.network, true).catch(() => undefined);
    await this.removeCheckpointDirs(p.name, request.targetNode);
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
    const runtime = request.runtime ?? this.options.runtime;
    if (runtime === 'criu' && request.transfer === 'lazy') throw new Error('runtime: criu does no post-copy (criu-lazy): use runtime: runc for it');
    let restoreImages = images;
    const link = this.network.link(request.targetNode);
    if (request.transfer === 'shared-store') {
      await this.keepLogOnFailure(`${work}/dump.log`, `${p.name}-criu-dump.log`, () =>
        this.dumpWith(runtime, p, images, work, { tcpEstablished, parentPath: parentPath(preDumps) }),
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
          this.dumpWith(runtime, p, images, work, { tcpEstablished, parentPath: parentPath(preDumps), pageServer: `${address}:${port}` }),
        );
        if (!(await server.exited(30_000))) throw new Error(`criu page-server for ${p.name} still running 30 s after the dump ended`);
      } finally {
        server.kill();
      }
      for (const entry of await readdir(images)) await copyFile(`${images}/${entry}`, `${restoreImages}/${entry}`);
    } else {
      this.raisePipeMaxSize(events, 'lazy pages');
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
  private raisePipeMaxSize(events: EventRecorder, why: string): boolean {
    const current = Number.parseInt(readFileSync(PIPE_MAX_SIZE, 'utf8'), 10);
    if (current >= LAZY_PIPE_BYTES) return false;
    this.pipeMaxSizeBefore ??= current;
    writeFileSync(PIPE_MAX_SIZE, String(LAZY_PIPE_BYTES));
    events.emit('platform:local', 'sysctl', `fs.pipe-max-size ${current} -> ${LAZY_PIPE_BYTES} (${why})`);
    return true;
  }

  /** Back to the host's own fs.pipe-max-size (after a `pagePipes: large` dump). */
  private putBackPipeMaxSize(events: EventRecorder): void {
    if (this.pipeMaxSizeBefore === undefined) return;
    writeFileSync(PIPE_MAX_SIZE, String(this.pipeMaxSizeBefore));
    events.emit('platform:local', 'sysctl', `fs.pipe-max-size ${LAZY_PIPE_BYTES} -> ${this.pipeMaxSizeBefore} (page pipes, after the dump)`);
    this.pipeMaxSizeBefore = undefined;
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
    const early = this.earlyTargets.get(source.name);
    this.earlyTargets.delete(source.name);
    const pod = early ?? (await this.pods.prepare(checkpoint.fromPod.spec, request.targetNode, octet, !request.preserveIp));
    if (!early) this.pods.emitCreated(pod, events);
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
      const direct = (request.runtime ?? this.options.runtime) === 'criu';
      pod.pid = await this.keepLogOnFailure(`${workDir}/restore.log`, `${pod.name}-criu-restore.log`, () =>
        direct
          ? this.direct.restore(pod, this.pods.cpus(pod.node), checkpoint.imagesDir, workDir, { tcpEstablished: request.preserveIp })
          : this.runc.restore(pod.containerId, pod.files, checkpoint.imagesDir, workDir, { lazyPages: lazy !== undefined, tcpEstablished: request.preserveIp }),
      );
      pod.restoredByCriu = direct;
    } catch (err) {
      daemon?.kill();
      lazy?.dump.kill();
      // Nothing of the failed target pod may stay (a half-restored container, its netns, its veth).
      // A preserved address is still the source's: the target's network goes, the address stays taken.
      if (request.preserveIp) {
        await this.network.removePodNetwork(pod.network).catch(() => undefined);
        pod.addressHandedOver = true;
      }
      await this.pods.remove(pod).catch(() => undefined);
      await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
      events.emit('platform:local', 'restore_failed', `${pod.name}: removed`);
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
      // runc only says "criu failed"; CRIU's own last error line says why.
      const log = existsSync(criuLog) ? readFileSync(criuLog, 'utf8') : '';
      const said = criuErrorLine(log);
      const criuSaid = said ? ` — CRIU: ${said}` : log ? ' — CRIU logged no error: it was killed or died' : '';
      throw new Error(`${err instanceof Error ? err.message : String(err)}${criuSaid} (CRIU log kept as ${kept})`);
    }
  }

  /** A target made before the dump whose restore never came (the dump or the strategy failed). */
  private async removeEarlyTarget(source: string): Promise<void> {
    const target = this.earlyTargets.get(source);
    this.earlyTargets.delete(source);
    if (target) await this.pods.remove(target);
  }

  async removeCheckpoint(checkpoint: Checkpoint): Promise<void> {
    await this.removeEarlyTarget(checkpoint.fromPod.name);
    this.lazyDumps.get(checkpoint.imagesDir)?.dump.kill();
    this.lazyDumps.delete(checkpoint.imagesDir);
    await this.removeCheckpointDirs(checkpoint.fromPod.name, checkpoint.request.targetNode, checkpoint.imagesDir.replace(/\/images$/, ''));
  }

  /** A source pod's images on the store and on the target node's disk (and its pre-dumps). */
  private async removeCheckpointDirs(source: string, targetNode: string, ...more: string[]): Promise<void> {
    this.preDumps.delete(source);
    for (const dir of [`${this.options.checkpointDir}/checkpoints/${source}`, `${this.nodeDir(targetNode)}/checkpoints/${source}`, ...more]) {
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
