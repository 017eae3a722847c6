// Pods as runc containers. runc is started detached; the container's stdio are anonymous pipes
// made by a small sh pipeline (CRIU cannot restore a container whose stdio are host files, and
// Node's own child pipes are socketpairs): `true |` gives stdin, `| cat >> pod.log` keeps the
// output. The same pipeline serves `runc restore`, whose stdio become the restored pod's stdio.
import { spawn } from 'node:child_process';
import { watchRestore } from './restore-watchdog.ts';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { sleep } from '../../clock.ts';
import { CommandError, exec } from '../../system/exec.ts';
import { CGROUP_PARENT } from './names.ts';

export interface BundleSpec {
  containerId: string;
  hostname: string;
  command: string[];
  env: Record<string, string>;
  rootfs: string;
  netnsPath: string;
  /** cpuset of the pod's node, e.g. "0" or "0-1". */
  cpus: string;
  binds: { source: string; destination: string; readonly: boolean }[];
  /** CRIU configuration file runc hands to CRIU for this container (annotation org.criu.config). */
  criuConfig: string;
}

const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** The OCI runtime config of a pod: its own pid, ipc, uts and mount namespaces, and the network namespace we made. */
function ociConfig(b: BundleSpec): object {
  const caps = DEFAULT_CAPABILITIES;
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: b.command,
      env: Object.entries({ PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...b.env }).map(([k, v]) => `${k}=${v}`),
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: true,
    },
    root: { path: b.rootfs, readonly: true },
    hostname: b.hostname,
    annotations: { 'org.criu.config': b.criuConfig },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] },
      ...b.binds.map((m) => ({ destination: m.destination, type: 'bind', source: m.source, options: ['rbind', m.readonly ? 'ro' : 'rw'] })),
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network', path: b.netnsPath }],
      cgroupsPath: `/${CGROUP_PARENT}/${b.containerId}`,
      resources: { cpu: { cpus: b.cpus } },
      maskedPaths: ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/sys/firmware'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

export interface CheckpointOptions {
  /** ADDRESS:PORT of a CRIU page server that receives the memory pages instead of the images directory. */
  pageServer?: string;
  /** Dump established TCP connections so that a restore with the same IP carries them over. */
  tcpEstablished?: boolean;
  /** The previous pre-dump's images, relative to this dump's images directory. */
  parentPath?: string;
  /** Pre-copy round: dump the memory, leave the container running (needs dirty-page tracking). */
  preDump?: boolean;
}

export interface RestoreOptions {
  /** Restore without memory pages; a lazy-pages daemon (same work directory) fills them in on demand. */
  lazyPages?: boolean;
  tcpEstablished?: boolean;
}

export interface LazyCheckpoint {
  ready: Promise<void>;
  done: Promise<void>;
  /** Ends the dump at once (its source is lost): for a migration that failed half-way. */
  kill(): void;
}

export interface RuncPaths {
  runc: string;
  criu: string;
}

export interface ContainerFiles {
  bundleDir: string;
  pidFile: string;
  runcLog: string;
  podLog: string;
}

// $1 = pod log; the rest is the runc command line. fd 3 carries runc's exit status back to us and
// is closed for runc (and so for the container) and for cat.
const LAUNCH_SCRIPT = 'log=$1; shift; true | { "$@" 3>&-; echo "$?" >&3; } 2>&1 | cat >>"$log" 3>&-';

/** Runs a detaching command (runc run -d / restore -d, criu restore -d) whose container gets pipes as stdio. */
export function launchDetached(args: string[], podLog: string, timeoutMs: number, watch?: (launcherPid: number) => () => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', LAUNCH_SCRIPT, 'migbench-pod', podLog, ...args], {
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
      // Own session and process group: Ctrl-C in the terminal reaches the harness, which tears the
      // pods down in order, not the pods themselves.
      detached: true,
    });
    const stopWatching = child.pid !== undefined ? watch?.(child.pid) : undefined;
    const status = child.stdio[3] as import('node:stream').Readable | null;
    let text = '';
    const timer = setTimeout(() => done(new Error(`${args.join(' ')}: no exit status after ${timeoutMs} ms`)), timeoutMs);
    function done(result: number | Error) {
      clearTimeout(timer);
      stopWatching?.();
      status?.removeAllListeners('data');
      status?.destroy();
      child.unref();
      if (typeof result === 'number') resolve(result);
      else reject(result);
    }
    child.on('error', (err) => done(err));
    status?.setEncoding('utf8');
    status?.on('data', (d: Buffer | string) => {
      text += d.toString();
      if (text.includes('\n')) done(Number.parseInt(text, 10));
    });
    // sh stays alive as long as the container (it waits for cat); if it ends before reporting, runc never ran.
    child.on('exit', (code) => {
      if (!text.includes('\n')) done(new Error(`${args.join(' ')}: launcher exited with ${code} before runc reported`));
    });
  });
}

/** The last error runc logged (its --log is JSON lines), for an error message that says why. */
function lastRuncError(runcLog: string): string {
  if (!existsSync(runcLog)) return '';
  const lines = readFileSync(runcLog, 'utf8').trim().split('\n').reverse();
  for (const line of lines) {
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if (entry.level === 'error' || entry.level === 'fatal') return entry.msg ?? line;
    } catch {
      /* not JSON: ignore */
    }
  }
  return lines[0] ?? '';
}

export class Runc {
  private readonly paths: RuncPaths;
  constructor(paths: RuncPaths) {
    this.paths = paths;
  }

  async writeBundle(files: ContainerFiles, spec: BundleSpec): Promise<void> {
    await mkdir(files.bundleDir, { recursive: true });
    await writeFile(`${files.bundleDir}/config.json`, JSON.stringify(ociConfig(spec), null, 1));
  }

  /** Creates and starts the container; resolves once runc has started it (not when the app is ready). */
  async run(containerId: string, files: ContainerFiles): Promise<number> {
    await rm(files.pidFile, { force: true });
    const rc = await launchDetached(
      [this.paths.runc, '--log', files.runcLog, '--log-format', 'json', 'run', '-d', '--bundle', files.bundleDir, '--pid-file', files.pidFile, containerId],
      files.podLog,
      60_000,
    );
    if (rc !== 0) throw new Error(`runc run ${containerId} failed (exit ${rc}): ${lastRuncError(files.runcLog)}`);
    return this.pid(files);
  }

  async restore(containerId: string, files: ContainerFiles, imagesDir: string, workDir: string, options: RestoreOptions = {}): Promise<number> {
    await rm(files.pidFile, { force: true });
    await mkdir(workDir, { recursive: true });
    let watchdog = '';
    const rc = await launchDetached(
      [
        this.paths.runc,
        '--log',
        files.runcLog,
        '--log-format',
        'json',
        '--criu',
        this.paths.criu,
        'restore',
        '-d',
        '--image-path',
        imagesDir,
        '--work-path',
        workDir,
        '--bundle',
        files.bundleDir,
        '--pid-file',
        files.pidFile,
        ...(options.lazyPages ? ['--lazy-pages'] : []),
        ...(options.tcpEstablished ? ['--tcp-established'] : []),
        containerId,
      ],
      files.podLog,
      600_000,
      (launcher) => watchRestore(launcher, (what) => (watchdog = what)),
    );
    if (rc !== 0) {
      throw new Error(
        `runc restore ${containerId} failed (exit ${rc}): ${lastRuncError(files.runcLog).replace(/\s+/g, ' ')}${watchdog ? ` (${watchdog})` : ''}`,
      );
    }
    return this.pid(files);
  }

  /**
   * Dumps the container with CRIU; runc stops the container once the dump is written. A pre-dump
   * (`preDump`) copies the memory and leaves the container running.
   */
  async checkpoint(containerId: string, files: ContainerFiles, imagesDir: string, workDir: string, options: CheckpointOptions = {}): Promise<void> {
    await mkdir(imagesDir, { recursive: true });
    await mkdir(workDir, { recursive: true });
    try {
      await exec(this.paths.runc, this.checkpointArgs(containerId, files, imagesDir, workDir, options), { timeoutMs: 600_000 });
    } catch (err) {
      const why = err instanceof CommandError ? lastRuncError(files.runcLog) || err.message : String(err);
      throw new Error(`runc checkpoint${options.preDump ? ' --pre-dump' : ''} ${containerId} failed: ${why.replace(/\s+/g, ' ')}`);
    }
  }

  /**
   * Post-copy dump: CRIU writes everything but the memory pages, then serves the pages from the
   * frozen source on `pageServer` until the target's lazy-pages daemon has fetched them all; only
   * then do the source's processes end and runc exits. `ready` resolves when the images are written
   * and the page server listens (CRIU writes a NUL to the status fd), `done` when runc exits.
   */
  lazyCheckpoint(
    containerId: string,
    files: ContainerFiles,
    imagesDir: string,
    workDir: string,
    options: CheckpointOptions & { pageServer: string },
  ): LazyCheckpoint {
    const args = this.checkpointArgs(containerId, files, imagesDir, workDir, { ...options, lazyStatusFd: 3 });
    // runc wants a writable pipe as the status fd, and Node's child pipes are socketpairs it refuses;
    // sh's pipe to cat is a real pipe, and cat hands the NUL on to our stdout pipe.
    const child = spawn(
      'sh',
      ['-c', 'mkdir -p "$1" "$2" && shift 2 && "$@" 3>&1 >/dev/null 2>&1 | cat', 'migbench-lazy-dump', imagesDir, workDir, this.paths.runc, ...args],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
        detached: true,
      },
    );
    const exited = new Promise<number>((resolve) => {
      child.on('error', () => resolve(-1));
      child.on('exit', (code) => resolve(code ?? -1));
    });
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      void exited.then((code) =>
        reject(
          new Error(
            `runc checkpoint --lazy-pages ${containerId} ended (exit ${code}) before its page server was ready: ${lastRuncError(files.runcLog).replace(/\s+/g, ' ')}`,
          ),
        ),
      );
    });
    const done = exited.then((code) => {
      // sh reports cat's status, not runc's: runc's own verdict is its log's last error.
      const error = lastRuncError(files.runcLog);
      if (code !== 0 || /criu failed/.test(error)) throw new Error(`runc checkpoint --lazy-pages ${containerId} failed: ${error.replace(/\s+/g, ' ')}`);
    });
    // Whoever waits on one of the two, the other must not surface as an unhandled rejection.
    ready.catch(() => undefined);
    done.catch(() => undefined);
    const kill = () => {
      try {
        if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    return { ready, done, kill };
  }

  private checkpointArgs(
    containerId: string,
    files: ContainerFiles,
    imagesDir: string,
    workDir: string,
    options: CheckpointOptions & { lazyStatusFd?: number },
  ): string[] {
    return [
      '--log',
      files.runcLog,
      '--log-format',
      'json',
      '--criu',
      this.paths.criu,
      'checkpoint',
      '--image-path',
      imagesDir,
      '--work-path',
      workDir,
      ...(options.pageServer ? ['--page-server', options.pageServer] : []),
      ...(options.tcpEstablished ? ['--tcp-established'] : []),
      // Relative to the images directory, as CRIU resolves it.
      ...(options.parentPath ? ['--parent-path', options.parentPath] : []),
      ...(options.preDump ? ['--pre-dump'] : []),
      ...(options.lazyStatusFd !== undefined ? ['--lazy-pages', '--status-fd', String(options.lazyStatusFd)] : []),
      containerId,
    ];
  }

  async kill(containerId: string, signal: 'TERM' | 'KILL'): Promise<void> {
    await exec(this.paths.runc, ['kill', containerId, signal], { allowFailure: true, timeoutMs: 10_000 });
  }

  /** runc's view of the container: running, paused (its cgroup frozen), stopped, or undefined when runc has none. */
  async status(containerId: string): Promise<string | undefined> {
    const out = await exec(this.paths.runc, ['state', containerId], { allowFailure: true, timeoutMs: 10_000 });
    return /"status":\s*"(\w+)"/.exec(out.stdout)?.[1];
  }

  /** Thaws a frozen container (CRIU freezes its cgroup to dump it; a CRIU killed mid-dump leaves it frozen). */
  async resume(containerId: string): Promise<void> {
    await exec(this.paths.runc, ['resume', containerId], { timeoutMs: 10_000 });
  }

  /** Removes the container whatever its state (idempotent). */
  async delete(containerId: string): Promise<void> {
    await exec(this.paths.runc, ['delete', '--force', containerId], { allowFailure: true, timeoutMs: 30_000 });
  }

  async list(): Promise<string[]> {
    const out = await exec(this.paths.runc, ['list', '-q'], { allowFailure: true });
    return out.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  }

  private async pid(files: ContainerFiles): Promise<number> {
    const pid = Number.parseInt(await readFile(files.pidFile, 'utf8'), 10);
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`runc wrote no pid to ${files.pidFile}`);
    return pid;
  }
}
