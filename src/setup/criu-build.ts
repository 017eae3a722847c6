// Getting a CRIU when none is usable: the distribution's package when it is new enough, else a build
// from the orig tarball of Debian's (sid) source package, once per machine, kept in the cache
// (criu-cache.ts).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../system/exec.ts';
import { aptCandidate, aptInstall, aptUpdate, lookPath, type Progress, type SetupOptions } from './apt.ts';
import { CRIU_CACHE_DIR, storeInCache } from './criu-cache.ts';
import { CRIU_MINIMUM, CRIU_UPSTREAM_FIX, CriuUnavailableError, findCriu, inspectCriu, type FoundCriu } from './criu-detect.ts';
import { compareVersions, versionAtLeast } from './versions.ts';

/** deb-src entry for sid: the only Debian suite with a CRIU ≥ 4.2 source package. */
const CRIU_SOURCES_FILE = '/etc/apt/sources.list.d/migbench-criu-src.sources';
const SID_SOURCES = `# Added by migbench: CRIU's source package, built once into ${CRIU_CACHE_DIR}.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;
const BUILD_DEPENDENCIES = [
  'libprotobuf-c-dev',
  'protobuf-c-compiler',
  'libprotobuf-dev',
  'protobuf-compiler',
  'libnl-3-dev',
  'libnet1-dev',
  'libcap-dev',
  'libbsd-dev',
  'libgnutls28-dev',
  'libnftables-dev',
  'uuid-dev',
  'pkg-config',
  'python3-protobuf',
  'gcc',
  'make',
  'xz-utils',
];

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
async function buildCriuFromDebianSource(progress: Progress, options: SetupOptions = {}): Promise<{ path: string; version: string }> {
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

function md5sum(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('md5');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
