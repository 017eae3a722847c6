// The kubelet-checkpoint strategy's steps on the nodes of `migbench cluster` (CheckpointNodes): both
// nodes' directories and containerd sockets are on this host, so the "transfer" is a copy from the
// source kubelet's checkpoints directory into the shared store (CLUSTER_DATA_DIR/checkpoints, the
// seed's NFS), the image is built here and imported with the node's own `ctr`. The CRIU options the
// runtime uses come from per-pod configuration files (containerd passes the pod annotation
// org.criu.config to runc: configs.ts), written at cluster start (writeCriuConfigs).
import { existsSync } from 'node:fs';
import { copyFile, mkdir, open, readdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { CriuStats } from '../../../model/criu-stats.ts';
import { parseDumpStats } from '../../local/criu-stats.ts';
import { exec } from '../../../system/exec.ts';
import { CHECKPOINT_IMAGE_PREFIX, type CheckpointNodes } from '../checkpoint-nodes.ts';
import { podProcesses } from './host-state.ts';
import { writeCheckpointImageArchive } from './oci-image.ts';
import { CHECKPOINT_STORE_DIR, CRIU_CHECKPOINT_CONFIG, CRIU_DUMP_LOG, CRIU_RESTORE_CONFIG, CRIU_RESTORE_LOG, nodeLayout, type NodeLayout } from './layout.ts';
import { criuErrorLine } from '../../migration-errors.ts';

/** runc's annotation naming the CRIU configuration file for a container's checkpoint and restore. */
export const CRIU_CONFIG_ANNOTATION = 'org.criu.config';

/**
 * CRIU's options beyond what containerd asks for (it asks for a dump that leaves the container
 * running, and passes no TCP option):
 *  - tcp-close: the pod's established connections (the probes' Redis connection, the video stream)
 *    are dumped without their state and restored closed. The restored pod has another IP address,
 *    so their repaired state (tcp-established) could never be used there; clients reconnect, as
 *    after any move that changes the pod's address.
 *  - skip-in-flight: a connection the kernel has accepted but the app not yet (the probes connect
 *    every few ms, kubelet's readiness probe every second) is left out instead of failing the dump
 *    ("In-flight connection"); its client sees it reset and connects again.
 *  - leave-stopped, for the dump only: the source's processes stay stopped (SIGSTOP) the moment the
 *    dump ends instead of running on, so nothing the source would do after its checkpoint — a
 *    Redis write acknowledged, a training step, a video frame — is lost when the restored copy
 *    takes over. A configuration file overrides the options runc sends over CRIU's RPC ("Would
 *    overwrite RPC settings" in dump.log), leave-running included.
 *  - network-lock skip, for the dump only: CRIU's network lock (iptables rules in the pod's network
 *    namespace) keeps TCP state from changing while it is dumped — needless with tcp-close — and
 *    CRIU lifts it only for tasks left running: with leave-stopped it would stay, and the source,
 *    resumed after a failed restore (the fallback), would never be reached again.
 *  - log-file: CRIU's log outside containerd's work directory, which containerd removes when a step
 *    fails — the log that says why with it; a failed trial's error quotes CRIU's line from it.
 */
export const CRIU_CHECKPOINT_OPTIONS = ['tcp-close', 'skip-in-flight', 'leave-stopped', 'network-lock skip', `log-file ${CRIU_DUMP_LOG}`];
export const CRIU_RESTORE_OPTIONS = ['tcp-close', `log-file ${CRIU_RESTORE_LOG}`];

export async function writeCriuConfigs(): Promise<void> {
  await mkdir(join(CRIU_CHECKPOINT_CONFIG, '..'), { recursive: true });
  const header = '# migbench cluster: CRIU options for pods that name this file in org.criu.config (src/platforms/kubernetes/nodes/node-checkpoints.ts)\n';
  await writeFile(CRIU_CHECKPOINT_CONFIG, `${header}${CRIU_CHECKPOINT_OPTIONS.join('\n')}\n`);
  await writeFile(CRIU_RESTORE_CONFIG, `${header}${CRIU_RESTORE_OPTIONS.join('\n')}\n`);
}

export class ClusterNodeCheckpoints implements CheckpointNodes {
  readonly checkpointPodAnnotations = { [CRIU_CONFIG_ANNOTATION]: CRIU_CHECKPOINT_CONFIG };
  readonly restorePodAnnotations = { [CRIU_CONFIG_ANNOTATION]: CRIU_RESTORE_CONFIG };
  private readonly ctr: string;
  private readonly nodes: Map<string, NodeLayout>;

  /** `nodes`: the cluster's nodes in start order (their layout index), from its state file. */
  constructor(ctr: string, nodes: readonly string[]) {
    this.ctr = ctr;
    this.nodes = new Map(nodes.map((name, i) => [name, nodeLayout(name, i)]));
  }

  async unsupportedReason(nodes: readonly string[]): Promise<string | undefined> {
    for (const name of nodes) {
      const node = this.node(name);
      const config = await readFile(join(node.runDir, 'containerd.toml'), 'utf8').catch(() => '');
      const restart = 'restart the cluster with this migbench (sh bin/migbench cluster stop && sh bin/migbench cluster start)';
      if (!/^\s*enable_experimental_restore_via_create\s*=\s*true/m.test(config)) return `containerd on ${name} does not restore from checkpoint images (enable_experimental_restore_via_create is not set in ${join(node.runDir, 'containerd.toml')}); ${restart}`;
      if (!/pod_annotations\s*=\s*\[[^\]]*"org\.criu\.config"/.test(config)) return `containerd on ${name} does not pass org.criu.config to runc (pod_annotations), so CRIU would refuse the pod's TCP connections; ${restart}`;
      if (!existsSync(join(node.runDir, 'bin', 'criu'))) return `containerd on ${name} has no CRIU on its PATH (${join(node.runDir, 'bin', 'criu')}); ${restart}`;
    }
    for (const file of [CRIU_CHECKPOINT_CONFIG, CRIU_RESTORE_CONFIG]) if (!existsSync(file)) return `the nodes' CRIU configuration ${file} is missing; restart the cluster with this migbench`;
    return undefined;
  }

  async transfer(node: string, archive: string, trialKey: string): Promise<{ path: string; bytes: number }> {
    this.node(node);
    const dir = join(CHECKPOINT_STORE_DIR, trialKey);
    await mkdir(dir, { recursive: true });
    const path = join(dir, basename(archive));
    // A copy, as to NFS: the bytes are written again (a rename would move nothing).
    await copyFile(archive, path);
    await rm(archive, { force: true });
    return { path, bytes: (await stat(path)).size };
  }

  async dumpStats(archive: string): Promise<CriuStats | undefined> {
    const image = await readTarMember(archive, 'stats-dump', 1 << 20);
    return image ? parseDumpStats(image) : undefined;
  }

  async buildImage(archive: string, containerName: string, imageName: string): Promise<string> {
    const file = `${archive}.oci.tar`;
    await writeCheckpointImageArchive(archive, imageName, containerName, file);
    return file;
  }

  async importImage(node: string, imageArchive: string): Promise<void> {
    const { containerdSocket } = this.node(node);
    const result = await exec(this.ctr, ['--address', containerdSocket, '-n', 'k8s.io', 'images', 'import', '--local', imageArchive], { timeoutMs: 10 * 60_000, allowFailure: true });
    if (result.exitCode !== 0) throw new Error(`importing the checkpoint image into ${node}'s containerd failed: ${result.stderr.split('\n').filter((l) => !/DEPRECATION/.test(l)).join(' ').trim().slice(0, 400)}`);
  }

  async criuError(step: 'dump' | 'restore', sinceEpochMs: number): Promise<string | undefined> {
    const path = step === 'dump' ? CRIU_DUMP_LOG : CRIU_RESTORE_LOG;
    // One log per step for both nodes, overwritten by each run of CRIU: a step that failed before
    // CRIU ran must not quote an older trial's error.
    const written = await stat(path).then((s) => s.mtimeMs, () => undefined);
    if (written === undefined || written < sinceEpochMs) return undefined;
    return criuErrorLine(await readFile(path, 'utf8').catch(() => '')) || undefined;
  }

  async resumePod(node: string, podUid: string): Promise<void> {
    const pids = podProcesses({ node: this.node(node), podUid });
    if (pids.length === 0) throw new Error(`no process of pod ${podUid} on ${node} to resume`);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        /* ended meanwhile */
      }
    }
  }

  async removeTrial(trial: { key: string; imageName: string; nodes: readonly string[]; kubeletArchive?: string }): Promise<string[]> {
    const problems: string[] = [];
    for (const name of trial.nodes) {
      const { containerdSocket } = this.node(name);
      const result = await exec(this.ctr, ['--address', containerdSocket, '-n', 'k8s.io', 'images', 'rm', '--sync', trial.imageName], { timeoutMs: 60_000, allowFailure: true });
      if (result.exitCode !== 0 && !/not found/i.test(result.stderr)) problems.push(`removing image ${trial.imageName} from ${name}: ${result.stderr.trim().slice(0, 200)}`);
    }
    for (const path of [trial.kubeletArchive, join(CHECKPOINT_STORE_DIR, trial.key)]) {
      if (path) await rm(path, { recursive: true, force: true }).catch((err: Error) => problems.push(`removing ${path}: ${err.message}`));
    }
    // The run's directory too, once its last trial's is gone (rmdir fails on one still in use).
    await rmdir(dirname(join(CHECKPOINT_STORE_DIR, trial.key))).catch(() => undefined);
    return problems;
  }

  /**
   * What killed runs left (`migbench cleanup --platform kubernetes`): checkpoint images on every
   * node, migbench pods' archives in the kubelets' checkpoint directories, the shared store. Lines of what was removed.
   */
  async removeLeftovers(): Promise<string[]> {
    const removed: string[] = [];
    for (const [name, node] of this.nodes) {
      const listed = await exec(this.ctr, ['--address', node.containerdSocket, '-n', 'k8s.io', 'images', 'ls', '-q'], { timeoutMs: 60_000, allowFailure: true });
      for (const image of listed.stdout.split('\n').filter((l) => l.startsWith(CHECKPOINT_IMAGE_PREFIX))) {
        const rm = await exec(this.ctr, ['--address', node.containerdSocket, '-n', 'k8s.io', 'images', 'rm', '--sync', image], { timeoutMs: 60_000, allowFailure: true });
        if (rm.exitCode === 0) removed.push(`checkpoint image ${image} on ${name}`);
      }
      const dir = join(node.kubeletRoot, 'checkpoints');
      for (const file of await readdir(dir).catch(() => [] as string[])) {
        // kubelet names them checkpoint-<pod>_<namespace>-<container>-<time>.tar; every workload's pod is migbench-*.
        if (!file.startsWith('checkpoint-migbench-')) continue;
        await rm(join(dir, file), { force: true });
        removed.push(`checkpoint archive ${join(dir, file)}`);
      }
    }
    for (const run of await readdir(CHECKPOINT_STORE_DIR).catch(() => [] as string[])) {
      await rm(join(CHECKPOINT_STORE_DIR, run), { recursive: true, force: true });
      removed.push(`checkpoint store ${join(CHECKPOINT_STORE_DIR, run)}`);
    }
    return removed;
  }

  private node(name: string): NodeLayout {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`${name} is not a node of migbench cluster (${[...this.nodes.keys()].join(', ')})`);
    return node;
  }
}

/** The contents of one member of a plain tar archive (ustar headers), without unpacking the rest. */
export async function readTarMember(file: string, name: string, maxBytes: number): Promise<Buffer | undefined> {
  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(512);
    let offset = 0;
    for (;;) {
      const { bytesRead } = await handle.read(header, 0, 512, offset);
      if (bytesRead < 512 || header.every((b) => b === 0)) return undefined;
      const field = (start: number, length: number) => header.subarray(start, start + length).toString('latin1').replace(/\0.*$/s, '');
      const prefix = field(345, 155);
      const memberName = (prefix ? `${prefix}/` : '') + field(0, 100);
      const size = parseInt(field(124, 12).trim() || '0', 8);
      if (memberName.replace(/^\.\//, '') === name) {
        if (size > maxBytes) return undefined;
        const data = Buffer.alloc(size);
        await handle.read(data, 0, size, offset + 512);
        return data;
      }
      offset += 512 + Math.ceil(size / 512) * 512;
    }
  } finally {
    await handle.close();
  }
}
