// `runtime: criu`: a pod's dump and restore driven by the CRIU command line itself, without runc in
// between, with the options runc's libcontainer (criu_linux.go) would hand CRIU for the same
// container — so what runc adds around CRIU (reading its state, building the RPC request, starting
// `criu swrk`, on restore also the container's cgroups and runc's state files) can be measured by
// leaving it out. The pieces runc contributes, and what stands in for each here:
// - the root: the container's rootfs (`--root`);
// - bind mounts: external mounts, keyed by their destination on dump and mapped back to their host
//   source on restore; masked /proc files (runc binds /dev/null over them) the same, to /dev/null;
// - the network namespace the platform made: external on dump (`--external net[inode]:…`), and on
//   restore the target pod's namespace handed to CRIU as an inherited fd;
// - stdio: the container's pipes, given to the restore as inherited fds (runc's descriptors.json);
// - cgroups: `--manage-cgroups`, the freezer cgroup to freeze (`--freeze-cgroup`), and on restore a
//   cgroup root of the target's own (made here with the target node's cpuset, which CRIU's soft
//   mode then leaves as it is);
// - the pod's criu.conf (tcp-close, skip-in-flight, the freeze action script) as `--config`.
// runc knows nothing of a pod restored this way: the restored init's pid is kept in the pod's pid
// file, and removing the pod kills it and removes its cgroups (pods.ts; `migbench cleanup` kills
// whatever is left in migbench's cgroups).
import { existsSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { CommandError, exec } from '../../system/exec.ts';
import { CGROUP_PARENT } from './names.ts';
import { CGROUP_ROOT, makeCgroups, removeCgroups } from './pod-cgroups.ts';
import type { LocalPod } from './pods.ts';
import type { Rootfs } from './rootfs.ts';
import { launchDetached } from './runc.ts';

/** The key the pod's network namespace has in the images (runc's own name for it). */
const NETNS_KEY = 'extRootNetNS';
/** The fd the target's network namespace is open on in the restoring CRIU. */
const NETNS_FD = 9;
/** Files runc masks with a bind of /dev/null (ociConfig's maskedPaths that are files). */
const MASKED_FILES = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug'];
/** The container's stdio at dump, for the restore to give back (runc keeps them as descriptors.json). */
const DESCRIPTORS = 'migbench-descriptors.json';

export interface DirectDumpOptions {
  tcpEstablished: boolean;
  /** The previous pre-dump's images, relative to this dump's images directory. */
  parentPath?: string;
  preDump?: boolean;
  pageServer?: { address: string; port: number };
}

export class CriuDirect {
  private readonly criu: string;
  private readonly rootfs: Rootfs;

  constructor(criu: string, rootfs: Rootfs) {
    this.criu = criu;
    this.rootfs = rootfs;
  }

  async dump(pod: LocalPod, images: string, work: string, options: DirectDumpOptions): Promise<void> {
    await mkdir(images, { recursive: true });
    await mkdir(work, { recursive: true });
    const action = options.preDump ? 'pre-dump' : 'dump';
    // The stdio go with the images: the restore reads them from there.
    if (!options.preDump) await writeFile(`${images}/${DESCRIPTORS}`, JSON.stringify(stdioOf(pod.pid)));
    const args = [
      action,
      '--tree',
      String(pod.pid),
      '--images-dir',
      images,
      '--work-dir',
      work,
      '--log-file',
      `${action}.log`,
      '-v4',
      '--root',
      this.rootfs.path,
      '--manage-cgroups',
      '--freeze-cgroup',
      freezerCgroup(pod.containerId),
      '--external',
      `net[${statSync(pod.network.netnsPath).ino}]:${NETNS_KEY}`,
      ...this.bindMounts(pod).flatMap((m) => ['--external', `mnt[${m.destination}]:${m.destination}`]),
      ...maskedFiles(pod.pid).flatMap((path) => ['--external', `mnt[${path}]:/dev/null`]),
      '--config',
      pod.criuConfig,
      ...(options.tcpEstablished ? ['--tcp-established'] : []),
      // Dirty-page tracking, as runc asks for it around pre-dumps.
      ...(options.preDump || options.parentPath ? ['--track-mem'] : []),
      ...(options.parentPath ? ['--prev-images-dir', options.parentPath] : []),
      ...(options.pageServer ? ['--page-server', '--address', options.pageServer.address, '--port', String(options.pageServer.port)] : []),
    ];
    try {
      await exec(this.criu, args, { timeoutMs: 600_000 });
    } catch (err) {
      throw new Error(`criu ${action} of ${pod.name} failed: ${criuError(`${work}/${action}.log`, err)}`);
    }
  }

  /**
   * Restores the images as `pod` (prepared: its network namespace, bundle and pid file's directory
   * exist) and returns the restored init's pid. CRIU detaches once the tree runs (`-d`); its stdio
   * are the same sh pipeline runc's restore gets (runc.ts), and become the pod's stdio.
   */
  async restore(pod: LocalPod, cpus: string, images: string, work: string, options: { tcpEstablished: boolean }): Promise<number> {
    await mkdir(work, { recursive: true });
    await rm(pod.files.pidFile, { force: true });
    const cgroups = makeCgroups(pod.containerId, cpus);
    const stdio = JSON.parse(await readFile(`${images}/${DESCRIPTORS}`, 'utf8')) as (string | null)[];
    // runc.ts's launcher (stdio pipes, exit status back), with the target's network namespace open on
    // NETNS_FD for CRIU: sh opens it ($0) and execs CRIU with it.
    const args = [
      'sh',
      '-c',
      `exec "$@" ${NETNS_FD}<"$0"`,
      pod.network.netnsPath,
      this.criu,
      'restore',
      '--images-dir',
      images,
      '--work-dir',
      work,
      '--log-file',
      'restore.log',
      '-v4',
      '--restore-detached',
      '--pidfile',
      pod.files.pidFile,
      '--root',
      this.rootfs.path,
      '--manage-cgroups',
      '--cgroup-root',
      `/${CGROUP_PARENT}/${pod.containerId}`,
      '--inherit-fd',
      `fd[${NETNS_FD}]:${NETNS_KEY}`,
      ...stdio.flatMap((file, fd) => (file?.startsWith('pipe:') ? ['--inherit-fd', `fd[${fd}]:${file}`] : [])),
      ...this.bindMounts(pod).flatMap((m) => ['--external', `mnt[${m.destination}]:${m.source}`]),
      '--external',
      'mnt[/dev/null]:/dev/null',
      '--config',
      pod.criuConfig,
      ...(options.tcpEstablished ? ['--tcp-established'] : []),
    ];
    let rc: number;
    try {
      rc = await launchDetached(args, pod.files.podLog, 600_000);
    } catch (err) {
      await removeCgroups(cgroups);
      throw err;
    }
    if (rc !== 0 || !existsSync(pod.files.pidFile)) {
      await removeCgroups(cgroups);
      throw new Error(`criu restore of ${pod.name} failed (exit ${rc}): ${criuError(`${work}/restore.log`)}`);
    }
    const pid = Number.parseInt(await readFile(pod.files.pidFile, 'utf8'), 10);
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`criu restore wrote no pid to ${pod.files.pidFile}`);
    return pid;
  }

  /** The pod's bind mounts as runc set them up (its bundle's config), each external to CRIU. */
  private bindMounts(pod: LocalPod): { source: string; destination: string }[] {
    const config = JSON.parse(readFileSync(`${pod.files.bundleDir}/config.json`, 'utf8')) as {
      mounts: { type: string; source: string; destination: string }[];
    };
    return config.mounts.filter((m) => m.type === 'bind');
  }
}

/** The container's freezer cgroup (v1 freezer hierarchy, or the v2 tree) — runc's FreezeCgroup. */
function freezerCgroup(containerId: string): string {
  const v1 = `${CGROUP_ROOT}/freezer/${CGROUP_PARENT}/${containerId}`;
  return existsSync(v1) ? v1 : `${CGROUP_ROOT}/${CGROUP_PARENT}/${containerId}`;
}

/** Which of the masked files runc really masked (it skips those the kernel has not got). */
function maskedFiles(pid: number): string[] {
  return MASKED_FILES.filter((path) => {
    try {
      return statSync(`/proc/${pid}/root${path}`).isFile();
    } catch {
      return false;
    }
  });
}

/** What fds 0–2 of the process are (`pipe:[inode]`, a path), as runc records them at dump. */
function stdioOf(pid: number): (string | null)[] {
  return [0, 1, 2].map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return null;
    }
  });
}

/** CRIU's own error lines from its log (the last few), for an error that says why. */
function criuError(log: string, err?: unknown): string {
  const lines = existsSync(log)
    ? readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => /Error|error|fail/.test(l))
        .slice(-4)
    : [];
  if (lines.length > 0) return lines.map((l) => l.trim()).join(' | ');
  return err instanceof CommandError ? err.message : String(err ?? `no CRIU log at ${log}`);
}
