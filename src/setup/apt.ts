// apt-get and PATH look-ups shared by every set-up step (CRIU, the host tools, the workloads' packages,
// the control plane's build): installing without starting services, refreshing the index once.
import { constants, existsSync } from 'node:fs';
import { access, rm, stat, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { exec, type ExecOptions } from '../system/exec.ts';

export interface SetupOptions {
  /** Stream apt-get's and make's output (MIGBENCH_VERBOSE=1). */
  verbose?: boolean;
}

export type Progress = (line: string) => void;

const POLICY_RC_D = '/usr/sbin/policy-rc.d';
const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
// Wait for a concurrent apt/dpkg (unattended-upgrades, another migbench) instead of failing at once.
const APT_LOCK_WAIT = ['-o', 'DPkg::Lock::Timeout=300'];
let aptIndexRefreshed = false;

/** Runs `apt-get update` at most once per process (unless forced: a new sources entry). */
export async function aptUpdate(opts: { force?: boolean; verbose?: boolean } = {}): Promise<void> {
  if (aptIndexRefreshed && !opts.force) return;
  // A failing third-party repository makes `update` exit non-zero while Debian's index is fine;
  // the install that follows reports what is really missing.
  await exec('apt-get', [...APT_LOCK_WAIT, 'update'], { env: APT_ENV, timeoutMs: 600_000, allowFailure: true, showOutput: opts.verbose ?? false });
  aptIndexRefreshed = true;
}

/**
 * `apt-get install` without starting services: Debian's redis-server package would otherwise start
 * a system redis that nobody stops. If a package is not found, refreshes the index once and retries.
 */
export async function aptInstall(packages: readonly string[], options: SetupOptions = {}): Promise<void> {
  const args = [...APT_LOCK_WAIT, 'install', '-y', '--no-install-recommends', ...packages];
  const execOptions: ExecOptions = { env: APT_ENV, timeoutMs: 900_000, showOutput: options.verbose ?? false };
  await withServicesNotStarted(async () => {
    const first = await exec('apt-get', args, { ...execOptions, allowFailure: true });
    if (first.exitCode === 0) return;
    // Most failures on a fresh machine are a stale or empty package index.
    await aptUpdate({ verbose: options.verbose ?? false });
    await exec('apt-get', args, execOptions);
  });
}

/** The version `apt-get install` would install; undefined when there is none. */
export async function aptCandidate(pkg: string): Promise<string | undefined> {
  const r = await exec('apt-cache', ['policy', pkg], { allowFailure: true, timeoutMs: 60_000 });
  const candidate = /^\s*Candidate:\s*(\S+)/m.exec(r.stdout)?.[1];
  return candidate && candidate !== '(none)' ? candidate : undefined;
}

/** invoke-rc.d asks /usr/sbin/policy-rc.d; exit 101 means "do not start". Ours is removed afterwards, always. */
async function withServicesNotStarted(action: () => Promise<void>): Promise<void> {
  const ours = !existsSync(POLICY_RC_D);
  if (ours) await writeFile(POLICY_RC_D, '#!/bin/sh\n# migbench: no service starts during package installs\nexit 101\n', { mode: 0o755 });
  try {
    await action();
  } finally {
    if (ours) await rm(POLICY_RC_D, { force: true });
  }
}

// sudo's secure_path has the sbin directories, but `npm run` from a plain shell may not.
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Where `name` would be found on PATH (plus the sbin directories); undefined when nowhere. */
export async function lookPath(name: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SBIN_DIRS];
  for (const dir of dirs) {
    const path = join(dir, name);
    if (await isExecutable(path)) return path;
  }
  return undefined;
}

export async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
