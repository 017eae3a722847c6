// Finding, installing or building a CRIU that works on this host. Debian 12's criu (3.17) fails
// `criu check` on recent kernels and 4.1 cannot dump TCP sockets, so migbench needs ≥ 4.2. When
// neither the cache, PATH nor the distribution has one, it builds CRIU from Debian's source package
// once and keeps the binary in /var/cache/migbench/criu/<version>/criu.
import { createHash } from 'node:crypto';
import { constants, createReadStream, existsSync } from 'node:fs';
import { access, chmod, copyFile, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { exec, type ExecOptions } from '../system/exec.ts';
import { compareVersions, parseCriuVersion, readVersion, versionAtLeast } from './versions.ts';

/** 4.2 is the first release that checkpoints established TCP sockets on current kernels. */
export const CRIU_MINIMUM = '4.2';
export const CRIU_CACHE_DIR = '/var/cache/migbench/criu';
/** deb-src entry for sid: the only Debian suite with a CRIU ≥ 4.2 source package. */
export const CRIU_SOURCES_FILE = '/etc/apt/sources.list.d/migbench-criu-src.sources';
const SID_SOURCES = `# Added by migbench: CRIU's source package, built once into ${CRIU_CACHE_DIR}.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;
const BUILD_DEPENDENCIES = [
  'libprotobuf-c-dev', 'protobuf-c-compiler', 'libprotobuf-dev', 'protobuf-compiler', 'libnl-3-dev', 'libnet1-dev',
  'libcap-dev', 'libbsd-dev', 'libgnutls28-dev', 'libnftables-dev', 'uuid-dev', 'pkg-config', 'python3-protobuf',
  'gcc', 'make', 'xz-utils',
];
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

export interface CriuFeatures {
  /** Soft-dirty memory tracking: needed for pre-copy (iterative) checkpoints. */
  dirtyTracking: boolean;
  /** userfaultfd for foreign processes: needed for lazy-pages (post-copy) restore. */
  lazyPages: boolean;
}

export interface SetupOptions {
  /** Stream apt-get's and make's output (MIGBENCH_VERBOSE=1). */
  verbose?: boolean;
}

export type Progress = (line: string) => void;

/** No usable CRIU and no way to get one here; `fix` says what the user can do. */
export class CriuUnavailableError extends Error {
  readonly fix: string;
  constructor(message: string, fix: string) {
    super(message);
    this.name = 'CriuUnavailableError';
    this.fix = fix;
  }
}

// ---------------------------------------------------------------------------------------------
// Finding

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
export async function criuCandidates(): Promise<Array<{ path: string; source: CriuSource }>> {
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

export async function criuFeatures(path: string): Promise<CriuFeatures> {
  const [dirtyTracking, lazyPages] = await Promise.all([criuHasFeature(path, 'mem_dirty_track'), criuHasFeature(path, 'uffd-noncoop')]);
  return { dirtyTracking, lazyPages };
}

async function criuHasFeature(path: string, feature: string): Promise<boolean> {
  return (await criuFeatureCheck(path, feature)).ok;
}

/** `criu check --feature <feature>`: whether CRIU can use it here, and what CRIU said (its reason when not). */
export async function criuFeatureCheck(path: string, feature: string): Promise<{ ok: boolean; said: string }> {
  try {
    const result = await exec(path, ['check', '--feature', feature], { allowFailure: true, timeoutMs: 30_000 });
    // CRIU prefixes its messages with their source ("Warn  (criu/cr-check.c:824): "); the reason is what follows.
    const said = `${result.stdout} ${result.stderr}`.replace(/\s+/g, ' ').replace(/^.*?\)\s*:\s*/, '').trim();
    return { ok: result.exitCode === 0, said: said || `exit ${result.exitCode}` };
  } catch (err) {
    return { ok: false, said: err instanceof Error ? err.message : String(err) };
  }
}

async function criuCheck(path: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    const r = await exec(path, ['check'], { allowFailure: true, timeoutMs: 30_000 });
    if (r.exitCode === 0) return { ok: true };
    return { ok: false, reason: firstCriuError(`${r.stderr}\n${r.stdout}`) ?? `exit ${r.exitCode}` };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err) };
  }
}

/** "Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds" → "vdso: Unexpected rt vDSO area bounds". */
export function firstCriuError(output: string): string | undefined {
  const line = output.split('\n').find((l) => /^\s*Error\b/.test(l));
  return line?.replace(/^\s*Error\s*(\([^)]*\))?:?\s*/, '').trim();
}

/** /var/cache/migbench/criu/<version>/criu, highest version first. */
async function cachedCriuBinaries(): Promise<string[]> {
  let versions: string[];
  try {
    versions = await readdir(CRIU_CACHE_DIR);
  } catch {
    return [];
  }
  const binaries: Array<{ version: string; path: string }> = [];
  for (const version of versions) {
    const path = join(CRIU_CACHE_DIR, version, 'criu');
    if (await isExecutable(path)) binaries.push({ version, path });
  }
  return binaries.sort((a, b) => compareVersions(b.version, a.version)).map((b) => b.path);
}

// ---------------------------------------------------------------------------------------------
// Installing

/**
 * A usable CRIU, getting one if needed: $MIGBENCH_CRIU, the cache, PATH, the distribution package
 * when it is new enough, else a build from Debian's source (once per machine, ~2 min).
 */
export async function ensureCriu(progress: Progress, options: SetupOptions = {}): Promise<FoundCriu> {
  const found = await findCriu();
  if (found) return found;

  const fromEnv = process.env.MIGBENCH_CRIU;
  if (fromEnv) {
    const why = (await inspectCriu(fromEnv, 'env')).problem ?? 'not usable';
    throw new CriuUnavailableError(
      `MIGBENCH_CRIU=${fromEnv}: ${why}; migbench needs CRIU ≥ ${CRIU_MINIMUM} that passes \`criu check\``,
      `unset MIGBENCH_CRIU (migbench then builds CRIU itself) or point it at CRIU ≥ ${CRIU_MINIMUM}`,
    );
  }
  if (!(await lookPath('apt-get'))) {
    throw new CriuUnavailableError(`no CRIU ≥ ${CRIU_MINIMUM} that passes \`criu check\` found, and no apt-get to install one`, CRIU_UPSTREAM_FIX);
  }

  const fromDistribution = await installDistributionCriu(progress, options);
  if (fromDistribution) return fromDistribution;

  const built = await buildCriuFromDebianSource(progress, options);
  const inspected = await inspectCriu(built.path, 'built');
  if (!inspected.acceptable) {
    throw new CriuUnavailableError(
      `CRIU ${built.version} built from Debian's source (${built.path}) is not usable: ${inspected.problem}`,
      `check the kernel supports CRIU (\`${built.path} check\`), or ${CRIU_UPSTREAM_FIX}`,
    );
  }
  return { path: built.path, version: built.version, source: 'built' };
}

/** Installs the distribution's criu when its candidate is ≥ 4.2; undefined when it is not (or fails the check). */
async function installDistributionCriu(progress: Progress, options: SetupOptions): Promise<FoundCriu | undefined> {
  const candidate = await aptCandidate('criu');
  if (!candidate || !versionAtLeast(candidate, CRIU_MINIMUM)) return undefined;
  progress(`migbench: installing criu ${candidate} (apt-get) ...`);
  await aptInstall(['criu'], options);
  const path = await lookPath('criu');
  if (!path) return undefined;
  const inspected = await inspectCriu(path, 'distribution');
  if (inspected.acceptable && inspected.version) return { path, version: inspected.version, source: 'distribution' };
  progress(`migbench: the distribution's criu ${inspected.version ?? candidate} is not usable (${inspected.problem}); building from source instead`);
  return undefined;
}

/**
 * Builds CRIU from the orig tarball of Debian's (sid) source package and stores the binary in the
 * cache. Only the upstream tarball is used: Debian's packaging is not needed to build the binary,
 * and `apt-get source` currently fails on a missing debian.tar.xz after fetching the tarball.
 */
export async function buildCriuFromDebianSource(progress: Progress, options: SetupOptions = {}): Promise<{ path: string; version: string }> {
  await ensureSidSourceEntry();
  const source = await debianCriuSource();
  progress(`migbench: building CRIU ${source.upstreamVersion} from Debian's source (once, ~2 min) ...`);
  progress(`migbench: installing CRIU's build dependencies (apt-get) ...`);
  await aptInstall(BUILD_DEPENDENCIES, options);

  const work = await mkdtemp(join(tmpdir(), 'migbench-criu-'));
  try {
    const tarball = await downloadOrigTarball(work, source, options);
    await exec('tar', ['-xf', tarball, '-C', work], { timeoutMs: 120_000 });
    const tree = await extractedTree(work);
    const binary = await makeCriu(tree, progress, options);
    return await storeInCache(binary, source.upstreamVersion);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

interface DebianSource {
  version: string;
  upstreamVersion: string;
  origTarball: string;
  origMd5?: string;
}

/** The newest criu source package apt knows of, refreshing the index once if it has none ≥ 4.2. */
async function debianCriuSource(): Promise<DebianSource> {
  let source = newestSource(await showSource());
  if (!source || !versionAtLeast(source.upstreamVersion, CRIU_MINIMUM)) {
    await aptUpdate({ force: true });
    source = newestSource(await showSource());
  }
  if (!source || !versionAtLeast(source.upstreamVersion, CRIU_MINIMUM)) {
    throw new CriuUnavailableError(
      `Debian's archive has no criu source package ≥ ${CRIU_MINIMUM} (apt-cache showsrc criu: ${source?.version ?? 'none'})`,
      `check ${CRIU_SOURCES_FILE} and \`apt-get update\`, or ${CRIU_UPSTREAM_FIX}`,
    );
  }
  return source;
}

async function showSource(): Promise<string> {
  return (await exec('apt-cache', ['showsrc', 'criu'], { allowFailure: true, timeoutMs: 60_000 })).stdout;
}

/** Parses `apt-cache showsrc` (one stanza per known source version) and picks the newest. */
export function newestSource(showsrc: string): DebianSource | undefined {
  const sources: DebianSource[] = [];
  for (const stanza of showsrc.split(/\n\s*\n/)) {
    const version = /^Version:\s*(\S+)/m.exec(stanza)?.[1];
    if (!version) continue;
    const upstreamVersion = version.replace(/^\d+:/, '').replace(/-[^-]*$/, '');
    const files = /^Files:\n((?:[ \t].*\n?)*)/m.exec(stanza)?.[1] ?? '';
    const orig = files
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .find((f) => f.length === 3 && /\.orig\.tar\.\w+$/.test(f[2] ?? ''));
    const origTarball = orig?.[2] ?? `criu_${upstreamVersion}.orig.tar.xz`;
    sources.push({ version, upstreamVersion, origTarball, ...(orig?.[0] ? { origMd5: orig[0] } : {}) });
  }
  return sources.sort((a, b) => compareVersions(b.version, a.version))[0];
}

async function ensureSidSourceEntry(): Promise<void> {
  if (existsSync(CRIU_SOURCES_FILE)) return;
  await writeFile(CRIU_SOURCES_FILE, SID_SOURCES);
  // The new entry has no index yet.
  await aptUpdate({ force: true });
}

/** `apt-get source --download-only`; its exit status is ignored as long as the orig tarball arrived intact. */
async function downloadOrigTarball(work: string, source: DebianSource, options: SetupOptions): Promise<string> {
  const r = await exec('apt-get', ['source', '--download-only', `criu=${source.version}`], {
    cwd: work,
    allowFailure: true,
    timeoutMs: 600_000,
    showOutput: options.verbose ?? false,
  });
  const tarball = join(work, source.origTarball);
  if (!existsSync(tarball)) {
    const tail = `${r.stderr}\n${r.stdout}`.trim().split('\n').slice(-4).join('\n');
    throw new CriuUnavailableError(`apt-get source criu=${source.version} did not download ${source.origTarball}:\n${tail}`, CRIU_UPSTREAM_FIX);
  }
  if (source.origMd5) {
    const md5 = await md5sum(tarball);
    if (md5 !== source.origMd5) {
      throw new CriuUnavailableError(`${source.origTarball}: md5 ${md5}, apt-cache showsrc says ${source.origMd5}`, 'run `apt-get update` and retry');
    }
  }
  return tarball;
}

async function extractedTree(work: string): Promise<string> {
  for (const entry of await readdir(work)) {
    const path = join(work, entry);
    if (entry.startsWith('criu-') && (await stat(path)).isDirectory()) return path;
  }
  throw new Error(`CRIU tarball extracted nothing named criu-* in ${work}`);
}

/** `make criu`: only the binary (no docs, no tests); ~1–2 min on two cores. */
async function makeCriu(tree: string, progress: Progress, options: SetupOptions): Promise<string> {
  const started = Date.now();
  // Without the build output on screen, say now and then that it is still going.
  const heartbeat = options.verbose
    ? undefined
    : setInterval(() => progress(`migbench: still building CRIU (${Math.round((Date.now() - started) / 1000)} s) ...`), 30_000);
  try {
    await exec('make', [`-j${availableParallelism()}`, 'criu'], { cwd: tree, timeoutMs: 30 * 60_000, showOutput: options.verbose ?? false });
  } finally {
    if (heartbeat) clearInterval(heartbeat);
  }
  progress(`migbench: built CRIU in ${Math.round((Date.now() - started) / 1000)} s`);
  return join(tree, 'criu', 'criu');
}

/** Copy then rename, so a concurrent reader never sees a half-written binary. */
async function storeInCache(binary: string, upstreamVersion: string): Promise<{ path: string; version: string }> {
  const version = (await readVersion(binary, parseCriuVersion)) ?? upstreamVersion;
  const dir = join(CRIU_CACHE_DIR, version);
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'criu');
  const partial = `${path}.partial-${process.pid}`;
  await copyFile(binary, partial);
  await chmod(partial, 0o755);
  await rename(partial, path);
  return { path, version };
}

function md5sum(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('md5');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

// ---------------------------------------------------------------------------------------------
// apt and PATH (shared with prerequisites.ts)

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

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
