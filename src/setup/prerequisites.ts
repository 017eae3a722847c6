// What the local platform needs on the host, checked (`migbench doctor`) or installed (`migbench run`,
// `npm test`): root, a kernel with cgroup cpuset and network namespaces, runc, CRIU ≥ 4.2, iptables,
// iproute2 and redis-server. Installing is apt-get only; elsewhere the error says what to install.
import { readFile } from 'node:fs/promises';
import { criuFeatures } from '../criu/features.ts';
import { exec } from '../system/exec.ts';
import { aptInstall, lookPath } from './apt.ts';
import { ensureCriu, newestSource } from './criu-build.ts';
import { CRIU_MINIMUM, CRIU_UPSTREAM_FIX, CriuUnavailableError, findCriu, inspectCriuCandidates, type CriuInspection, type FoundCriu } from './criu-detect.ts';
import {
  kernelRelease,
  parseIpVersion,
  parseIptablesBackend,
  parseIptablesVersion,
  parseKernelVersion,
  parseRedisVersion,
  parseRuncVersion,
  readVersion,
  versionAtLeast,
} from './versions.ts';

export interface Prerequisites {
  criu: string;
  runc: string;
  iptables: string;
  redisServer: string;
  ip: string;
  /** kernel, criu, runc, redis, iptables (display strings, e.g. "1.8.9 (nf_tables)"). */
  versions: Record<string, string>;
}

export interface Check {
  name: string;
  ok: boolean;
  found: string;
  /** The command (or step) that fixes a failing check. */
  fix?: string;
}

/** A prerequisite is missing and migbench cannot provide it; `fix` is what the user should run. */
export class PrerequisiteError extends Error {
  readonly fix: string;
  constructor(message: string, fix: string) {
    super(message);
    this.name = 'PrerequisiteError';
    this.fix = fix;
  }
}

const SCENARIO_COMMAND = 'npm run bench -- <scenario>';
const KERNEL_MINIMUM = '5';

interface Tool {
  key: 'runc' | 'iptables' | 'ip' | 'redisServer';
  label: string;
  binary: string;
  aptPackage: string;
  versionArgs?: string[];
  parse: (output: string) => string | undefined;
}

const TOOLS: readonly Tool[] = [
  { key: 'runc', label: 'runc', binary: 'runc', aptPackage: 'runc', parse: parseRuncVersion },
  { key: 'iptables', label: 'iptables', binary: 'iptables', aptPackage: 'iptables', parse: iptablesDisplayVersion },
  { key: 'ip', label: 'ip (iproute2)', binary: 'ip', aptPackage: 'iproute2', versionArgs: ['-V'], parse: parseIpVersion },
  { key: 'redisServer', label: 'redis-server', binary: 'redis-server', aptPackage: 'redis-server', parse: parseRedisVersion },
];

/** "1.8.9 (nf_tables)": the backend matters as much as the version (rules are applied differently). */
function iptablesDisplayVersion(output: string): string | undefined {
  const version = parseIptablesVersion(output);
  const backend = parseIptablesBackend(output);
  return version && backend ? `${version} (${backend})` : version;
}

// ---------------------------------------------------------------------------------------------
// Checking (doctor): reports, changes nothing

export async function checkPrerequisites(): Promise<Check[]> {
  const [cgroup, tools, criu, netns] = await Promise.all([checkCgroup(), Promise.all(TOOLS.map(checkTool)), checkCriu(), checkNetworkNamespaces()]);
  const [runc, iptables, ip, redis] = tools as [Check, Check, Check, Check];
  return [checkRoot(), checkKernel(), cgroup, runc, ...criu, iptables, ip, redis, netns];
}

function checkRoot(): Check {
  const uid = process.getuid?.();
  if (uid === 0) return { name: 'root', ok: true, found: 'uid 0' };
  return { name: 'root', ok: false, found: uid === undefined ? 'not a POSIX host' : `uid ${uid}`, fix: `sudo ${SCENARIO_COMMAND}` };
}

function checkKernel(): Check {
  const releaseName = kernelRelease();
  const version = parseKernelVersion(releaseName);
  const ok = process.platform === 'linux' && version !== undefined && versionAtLeast(version, KERNEL_MINIMUM);
  const found = process.platform === 'linux' ? releaseName : `${process.platform} ${releaseName}`;
  return ok ? { name: 'Linux kernel', ok, found } : { name: 'Linux kernel', ok, found, fix: `boot a Linux kernel ≥ ${KERNEL_MINIMUM}.0` };
}

async function checkCgroup(): Promise<Check> {
  const mounts = await readFile('/proc/mounts', 'utf8').catch(() => '');
  const controllers = await readFile('/sys/fs/cgroup/cgroup.controllers', 'utf8').catch(() => undefined);
  const cpuset = findCpusetCgroup(mounts, controllers);
  if (cpuset) return { name: 'cgroup cpuset', ok: true, found: cpuset };
  const v2 = mountAt(mounts, '/sys/fs/cgroup')?.type === 'cgroup2';
  return {
    name: 'cgroup cpuset',
    ok: false,
    found: v2 ? 'cgroup v2 without the cpuset controller' : 'no cpuset cgroup mounted',
    fix: v2
      ? 'echo +cpuset > /sys/fs/cgroup/cgroup.subtree_control'
      : 'mkdir -p /sys/fs/cgroup/cpuset && mount -t cgroup -o cpuset cgroup /sys/fs/cgroup/cpuset',
  };
}

/**
 * Where runc finds the cpuset controller: a v1 hierarchy with the cpuset option (normally at
 * /sys/fs/cgroup/cpuset), or the v2 hierarchy at /sys/fs/cgroup listing cpuset. Pure, for tests.
 */
export function findCpusetCgroup(procMounts: string, v2Controllers: string | undefined): string | undefined {
  const root = mountAt(procMounts, '/sys/fs/cgroup');
  if (root?.type === 'cgroup2' && v2Controllers?.split(/\s+/).includes('cpuset')) return 'cgroup v2 (cpuset controller)';
  const v1 = parseMounts(procMounts).find((m) => m.type === 'cgroup' && m.options.includes('cpuset'));
  return v1 ? `cgroup v1 (cpuset at ${v1.mountPoint})` : undefined;
}

interface Mount {
  mountPoint: string;
  type: string;
  options: string[];
}

function parseMounts(procMounts: string): Mount[] {
  return procMounts
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f.length >= 4)
    .map((f) => ({ mountPoint: f[1] ?? '', type: f[2] ?? '', options: (f[3] ?? '').split(',') }));
}

/** The last mount at a path is the visible one. */
function mountAt(procMounts: string, path: string): Mount | undefined {
  return parseMounts(procMounts)
    .filter((m) => m.mountPoint === path)
    .at(-1);
}

async function checkTool(tool: Tool): Promise<Check> {
  const fix = `apt-get install -y ${tool.aptPackage}`;
  const path = await lookPath(tool.binary);
  if (!path) return { name: tool.label, ok: false, found: 'not found', fix };
  const version = await readVersion(path, tool.parse, tool.versionArgs);
  if (!version) return { name: tool.label, ok: false, found: `${path} does not run or prints no version`, fix };
  return { name: tool.label, ok: true, found: version };
}

/** CRIU itself, then its two optional features (informational: only some strategies need them). */
async function checkCriu(): Promise<Check[]> {
  if (process.getuid?.() !== 0) {
    // `criu check` fails for any user but root, whatever the binary: say so rather than blame CRIU.
    const unknown = { ok: true, found: 'unknown: not checked without root' };
    return [
      { name: 'CRIU', ok: false, found: 'not checked: `criu check` needs root', fix: 'sudo npm run migbench -- doctor' },
      { name: 'CRIU dirty tracking', ...unknown },
      { name: 'CRIU lazy pages', ...unknown },
    ];
  }
  const found = await findCriu();
  if (!found) {
    const why = describeUnusable(await inspectCriuCandidates());
    return [
      { name: 'CRIU', ok: false, found: why, fix: await criuFix() },
      { name: 'CRIU dirty tracking', ok: true, found: 'unknown: no usable CRIU' },
      { name: 'CRIU lazy pages', ok: true, found: 'unknown: no usable CRIU' },
    ];
  }
  const features = await criuFeatures(found.path);
  return [
    { name: 'CRIU', ok: true, found: `${found.version} (${found.path})` },
    {
      name: 'CRIU dirty tracking',
      ok: true,
      found: features.dirtyTracking ? 'available: criu-precopy possible' : 'missing: criu-precopy unavailable',
    },
    {
      name: 'CRIU lazy pages',
      ok: true,
      found: features.lazyPages ? 'available: criu-lazy possible' : 'missing: criu-lazy unavailable',
    },
  ];
}

function describeUnusable(inspections: CriuInspection[]): string {
  const best = inspections.find((i) => i.version !== undefined) ?? inspections[0];
  if (!best) return `not found (needs ≥ ${CRIU_MINIMUM})`;
  const what = best.source === 'env' ? `MIGBENCH_CRIU=${best.path}: ` : '';
  return `${what}${best.version ?? best.path} (${best.problem ?? 'not usable'})`;
}

/** The command that gets a usable CRIU here: migbench builds it itself where apt-get exists. */
async function criuFix(): Promise<string> {
  if (process.env.MIGBENCH_CRIU) return `unset MIGBENCH_CRIU, then ${SCENARIO_COMMAND}`;
  if (!(await lookPath('apt-get'))) return CRIU_UPSTREAM_FIX;
  const showsrc = await exec('apt-cache', ['showsrc', 'criu'], { allowFailure: true, timeoutMs: 30_000 }).catch(() => undefined);
  const source = showsrc ? newestSource(showsrc.stdout) : undefined;
  const version = source && versionAtLeast(source.upstreamVersion, CRIU_MINIMUM) ? source.upstreamVersion : `≥ ${CRIU_MINIMUM}`;
  return `${SCENARIO_COMMAND} (builds CRIU ${version} from Debian's source on first use)`;
}

async function checkNetworkNamespaces(): Promise<Check> {
  const name = 'network namespaces';
  const ip = await lookPath('ip');
  if (!ip) return { name, ok: false, found: 'cannot test: no ip', fix: 'apt-get install -y iproute2' };
  const r = await exec(ip, ['netns', 'list'], { allowFailure: true, timeoutMs: 10_000 }).catch((err: Error) => ({ exitCode: null, stderr: err.message }));
  if (r.exitCode === 0) return { name, ok: true, found: 'ip netns works' };
  return { name, ok: false, found: `ip netns list failed: ${r.stderr.trim().split('\n')[0] ?? ''}`, fix: 'boot a kernel with CONFIG_NET_NS=y' };
}

// ---------------------------------------------------------------------------------------------
// Ensuring (run, tests): installs what is missing, fails with the fix for what it cannot install

/**
 * Makes every prerequisite present and returns the tools' paths. Fast (no installs, a few
 * `--version` calls) when everything is there. `commandLine` is what the user ran, for the root message.
 */
export async function ensurePrerequisites(progress: (line: string) => void, commandLine = SCENARIO_COMMAND): Promise<Prerequisites> {
  if (process.getuid?.() !== 0) {
    throw new PrerequisiteError(`migbench needs root (it creates network namespaces, runs runc and CRIU). Run: sudo ${commandLine}`, `sudo ${commandLine}`);
  }
  const verbose = process.env.MIGBENCH_VERBOSE === '1';
  const [cgroup, netns] = await Promise.all([checkCgroup(), checkNetworkNamespaces()]);
  for (const check of [checkKernel(), cgroup]) failUnless(check);

  const paths = await ensureTools(progress, verbose);
  // Needs `ip`, which ensureTools may just have installed.
  failUnless(netns.ok ? netns : await checkNetworkNamespaces());
  const criu = await ensureCriuOrFail(progress, verbose);
  const versions = await readToolVersions(paths, criu);
  return { ...paths, criu: criu.path, versions };
}

/** Versions for run.json: the tools' plus Node's (timings depend on the runtime too). */
export function toolVersions(p: Prerequisites): Record<string, string> {
  return { ...p.versions, node: process.version };
}

function failUnless(check: Check): void {
  if (check.ok) return;
  const fix = check.fix ?? 'see `npm run migbench -- doctor`';
  throw new PrerequisiteError(`migbench: ${check.name}: ${check.found}. Fix: ${fix}`, fix);
}

type ToolPaths = Pick<Prerequisites, 'runc' | 'iptables' | 'ip' | 'redisServer'>;

async function ensureTools(progress: (line: string) => void, verbose: boolean): Promise<ToolPaths> {
  let found = await locateTools();
  const missing = TOOLS.filter((t) => !found[t.key]);
  if (missing.length > 0) {
    const packages = missing.map((t) => t.aptPackage);
    if (!(await lookPath('apt-get'))) {
      throw new PrerequisiteError(
        `migbench: missing ${missing.map((t) => t.binary).join(', ')} and there is no apt-get to install them. ` +
          `Install with your distribution's package manager: ${packages.join(' ')} (runc, iptables, iproute2, redis-server)`,
        `install ${packages.join(' ')}`,
      );
    }
    progress(`migbench: installing ${packages.join(' ')} (apt-get) ...`);
    await aptInstall(packages, { verbose });
    found = await locateTools();
  }
  const still = TOOLS.filter((t) => !found[t.key]);
  if (still.length > 0) {
    const packages = still.map((t) => t.aptPackage).join(' ');
    throw new PrerequisiteError(
      `migbench: ${still.map((t) => t.binary).join(', ')} still missing after apt-get install ${packages}`,
      `apt-get install -y ${packages}`,
    );
  }
  return found as ToolPaths;
}

async function locateTools(): Promise<Partial<ToolPaths>> {
  const paths = await Promise.all(TOOLS.map((t) => lookPath(t.binary)));
  const found: Partial<ToolPaths> = {};
  TOOLS.forEach((t, i) => {
    const path = paths[i];
    if (path) found[t.key] = path;
  });
  return found;
}

async function ensureCriuOrFail(progress: (line: string) => void, verbose: boolean): Promise<FoundCriu> {
  try {
    return await ensureCriu(progress, { verbose });
  } catch (err) {
    if (err instanceof CriuUnavailableError) throw new PrerequisiteError(`migbench: ${err.message}. Fix: ${err.fix}`, err.fix);
    throw err;
  }
}

async function readToolVersions(paths: ToolPaths, criu: FoundCriu): Promise<Record<string, string>> {
  const [runc, iptables, redis] = await Promise.all([
    readVersion(paths.runc, parseRuncVersion),
    readVersion(paths.iptables, iptablesDisplayVersion),
    readVersion(paths.redisServer, parseRedisVersion),
  ]);
  return {
    kernel: kernelRelease(),
    criu: criu.version,
    runc: runc ?? 'unknown',
    redis: redis ?? 'unknown',
    iptables: iptables ?? 'unknown',
  };
}
