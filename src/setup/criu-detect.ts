// Finding a CRIU that works on this host, and what it can do here. Debian 12's criu (3.17) fails
// `criu check` on recent kernels and 4.1 cannot dump TCP sockets, so migbench needs ≥ 4.2; the
// candidates are $MIGBENCH_CRIU alone, else the cache (criu-cache.ts) then PATH.
import { firstCriuError } from '../criu/error-lines.ts';
import { exec } from '../system/exec.ts';
import { lookPath } from './apt.ts';
import { CRIU_CACHE_DIR, cachedCriuBinaries } from './criu-cache.ts';
import { parseCriuVersion, readVersion, versionAtLeast } from './versions.ts';

/** 4.2 is the first release that checkpoints established TCP sockets on current kernels. */
export const CRIU_MINIMUM = '4.2';
/** What to do where there is no apt-get: the upstream release, built the same way. */
export const CRIU_UPSTREAM_FIX =
  'build CRIU ≥ 4.2 from the upstream release (https://github.com/checkpoint-restore/criu/releases): ' +
  'install its build dependencies (protobuf-c, protobuf, libnl3, libnet, libcap, libbsd, gnutls, nftables, libuuid, pkg-config, gcc, make), ' +
  `run \`make criu\`, copy criu/criu to ${CRIU_CACHE_DIR}/<version>/criu (or set MIGBENCH_CRIU=/path/to/criu)`;

export type CriuSource = 'env' | 'cache' | 'path' | 'distribution' | 'built';

export interface FoundCriu {
  path: string;
  version: string;
  source: CriuSource;
}

/** What one CRIU binary is and whether migbench can use it (problem says why not). */
export interface CriuInspection {
  path: string;
  source: CriuSource;
  version?: string;
  acceptable: boolean;
  problem?: string;
}

/** No usable CRIU and no way to get one here; `fix` says what the user can do. */
export class CriuUnavailableError extends Error {
  readonly fix: string;
  constructor(message: string, fix: string) {
    super(message);
    this.name = 'CriuUnavailableError';
    this.fix = fix;
  }
}

/** Version ≥ 4.2 and `criu check` passing (it fails on kernels the build does not understand). */
export async function inspectCriu(path: string, source: CriuSource): Promise<CriuInspection> {
  const version = await readVersion(path, parseCriuVersion);
  if (version === undefined) return { path, source, acceptable: false, problem: `${path} does not run or prints no version` };
  const check = await criuCheck(path);
  if (!check.ok) return { path, source, version, acceptable: false, problem: `criu check failed: ${check.reason}` };
  if (!versionAtLeast(version, CRIU_MINIMUM)) {
    return { path, source, version, acceptable: false, problem: `older than ${CRIU_MINIMUM} (cannot checkpoint TCP sockets here)` };
  }
  return { path, source, version, acceptable: true };
}

/** Every CRIU binary migbench would consider, best first: $MIGBENCH_CRIU alone, else cache then PATH. */
async function criuCandidates(): Promise<Array<{ path: string; source: CriuSource }>> {
  const fromEnv = process.env.MIGBENCH_CRIU;
  // An explicit choice is honoured or reported, never silently replaced by another binary.
  if (fromEnv) return [{ path: fromEnv, source: 'env' }];
  const cached = (await cachedCriuBinaries()).map((path) => ({ path, source: 'cache' as const }));
  const onPath = await lookPath('criu');
  return onPath ? [...cached, { path: onPath, source: 'path' }] : cached;
}

/** The first acceptable CRIU ($MIGBENCH_CRIU, cache, PATH); installs and builds nothing. */
export async function findCriu(): Promise<FoundCriu | undefined> {
  for (const candidate of await criuCandidates()) {
    const found = await inspectCriu(candidate.path, candidate.source);
    if (found.acceptable && found.version) return { path: found.path, version: found.version, source: found.source };
  }
  return undefined;
}

/** Inspections of every candidate, for `migbench doctor` to say why none is usable. */
export async function inspectCriuCandidates(): Promise<CriuInspection[]> {
  return Promise.all((await criuCandidates()).map((c) => inspectCriu(c.path, c.source)));
}

async function criuCheck(path: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    const r = await exec(path, ['check'], { allowFailure: true, timeoutMs: 30_000 });
    if (r.exitCode === 0) return { ok: true };
    return { ok: false, reason: firstCriuError(`${r.stderr}\n${r.stdout}`) ?? `exit ${r.exitCode}` };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err) };
  }
}
