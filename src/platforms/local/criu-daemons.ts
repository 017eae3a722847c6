// CRIU's helpers on the target node: a page server that receives the memory pages of a dump over
// the network, and the lazy-pages daemon that fetches the pages of a post-copy restore from the
// source on demand. Both are started with --daemon, so that when the start command returns the
// socket is already listening (CRIU forks into the background only after binding it).
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { exec } from '../../system/exec.ts';
import { processAlive, waitForExit } from '../../system/processes.ts';

export interface CriuDaemon {
  readonly pid: number;
  /** Resolves when the daemon has exited (it exits by itself once its one transfer is complete). */
  exited(timeoutMs: number): Promise<boolean>;
  kill(): void;
}

/** Runs a command where the daemon belongs (e.g. in the target node's network namespace). */
export type Placement = (file: string, args: readonly string[]) => [string, string[]];
const onHost: Placement = (file, args) => [file, [...args]];

async function startDaemon(criu: string, args: string[], workDir: string, what: string, placement: Placement): Promise<CriuDaemon> {
  await mkdir(workDir, { recursive: true });
  const pidFile = `${workDir}/${what}.pid`;
  const [file, argv] = placement(criu, [...args, '--daemon', '--pidfile', pidFile, '-W', workDir, '-o', `${what}.log`, '-v4']);
  await exec(file, argv, { timeoutMs: 30_000 });
  const pid = existsSync(pidFile) ? Number.parseInt(readFileSync(pidFile, 'utf8'), 10) : Number.NaN;
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`criu ${what} wrote no pid to ${pidFile} (log: ${workDir}/${what}.log)`);
  return {
    pid,
    exited: (timeoutMs) => waitForExit(pid, timeoutMs),
    kill: () => {
      if (processAlive(pid)) process.kill(pid, 'SIGKILL');
    },
  };
}

/** `criu page-server`: writes the pages a dump sends to `imagesDir` (the target node's own disk). */
export function startPageServer(criu: string, imagesDir: string, workDir: string, address: string, port: number, placement = onHost): Promise<CriuDaemon> {
  return mkdir(imagesDir, { recursive: true }).then(() =>
    startDaemon(criu, ['page-server', '-D', imagesDir, '--address', address, '--port', String(port)], workDir, 'page-server', placement),
  );
}

/**
 * `criu lazy-pages`: serves page faults of the restored process by asking the source's page server,
 * and pushes the remaining pages in the background. It talks to the restore through a socket in
 * `workDir`, so the restore must use the same work directory.
 */
export function startLazyPagesDaemon(criu: string, imagesDir: string, workDir: string, address: string, port: number, placement = onHost): Promise<CriuDaemon> {
  return startDaemon(criu, ['lazy-pages', '--page-server', '-D', imagesDir, '--address', address, '--port', String(port)], workDir, 'lazy-pages', placement);
}
