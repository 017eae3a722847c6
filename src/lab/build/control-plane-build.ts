// The Kubernetes control plane the kubernetes platform's tests run against, built from source once
// per machine: kube-apiserver, kube-controller-manager and kube-scheduler from the k8s.io/kubernetes
// Go module, etcd from go.etcd.io/etcd/server/v3 and kwok (fake nodes and pod lifecycles) from
// sigs.k8s.io/kwok, all pinned by the wrapper module in ./k8s-build/ (go.mod + go.sum). The binaries
// go to /var/cache/migbench/k8s/<kubernetes version>/ with a stamp; a second call only reads the stamp.
//
// Why etcd from source and not Debian's etcd-server: Debian 12 ships etcd 3.4, older than the etcd
// that Kubernetes 1.36 is released and tested with (3.6). Building exactly the etcd server that
// k8s.io/kubernetes' own go.mod pins (go.etcd.io/etcd/server/v3 v3.6.8) gives the tested pairing,
// and it shares most packages (grpc, protobuf, the etcd client) with the Kubernetes build, so it
// adds little to it.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { access, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processAlive } from '../../system/processes.ts';
import { exec } from '../../system/exec.ts';
import { lookPath, type Progress } from '../../setup/apt.ts';
import { PrerequisiteError } from '../../setup/prerequisites.ts';
import { versionAtLeast } from '../../setup/versions.ts';

export const CONTROL_PLANE_CACHE_DIR = '/var/cache/migbench/k8s';
/** The wrapper module: its go.mod pins every version, its go.sum every checksum. */
export const K8S_BUILD_MODULE_DIR = fileURLToPath(new URL('./k8s-build/', import.meta.url));
/**
 * Measured cold (empty Go module and build caches; 0.6 GB of modules downloaded in 28 s) on a 2-core
 * VM: 4 min 59 s, and 8 min 51 s while other tests kept both cores busy.
 */
const COLD_BUILD_MINUTES_2_CORES = '5–9';
/** `go` switches to the toolchain go.mod asks for by itself from 1.21 on (GOTOOLCHAIN=auto). */
const GO_MINIMUM = '1.21';
const GO_FIX = `install Go ≥ ${GO_MINIMUM} (https://go.dev/dl/; it fetches the Go version the build needs itself) and put \`go\` on PATH, or set MIGBENCH_GO=/path/to/go`;

/**
 * Go main packages built (the `tool` lines of go.mod), the name `go build` gives each binary (etcd's
 * main package is go.etcd.io/etcd/server/v3, hence "server"), and its name in the cache.
 */
export const CONTROL_PLANE_BINARIES = {
  etcd: { pkg: 'go.etcd.io/etcd/server/v3', goBuildName: 'server', file: 'etcd' },
  kubeApiserver: { pkg: 'k8s.io/kubernetes/cmd/kube-apiserver', goBuildName: 'kube-apiserver', file: 'kube-apiserver' },
  kubeControllerManager: { pkg: 'k8s.io/kubernetes/cmd/kube-controller-manager', goBuildName: 'kube-controller-manager', file: 'kube-controller-manager' },
  kubeScheduler: { pkg: 'k8s.io/kubernetes/cmd/kube-scheduler', goBuildName: 'kube-scheduler', file: 'kube-scheduler' },
  kwok: { pkg: 'sigs.k8s.io/kwok/cmd/kwok', goBuildName: 'kwok', file: 'kwok' },
} as const;
type BinaryKey = keyof typeof CONTROL_PLANE_BINARIES;
const BINARY_KEYS = Object.keys(CONTROL_PLANE_BINARIES) as BinaryKey[];

/**
 * kwok's default stages, as kwokctl configures them: nodes become Ready and keep a lease; pods become
 * Running+Ready at once, finish when their containers would, and go away when deleted.
 */
const KWOK_STAGE_FILES = [
  'kustomize/stage/node/fast/node-initialize.yaml',
  'kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'kustomize/stage/pod/fast/pod-ready.yaml',
  'kustomize/stage/pod/fast/pod-complete.yaml',
  'kustomize/stage/pod/fast/pod-delete.yaml',
];

export interface ControlPlaneVersions {
  kubernetes: string;
  etcd: string;
  kwok: string;
}

export interface ControlPlane extends Record<BinaryKey, string> {
  dir: string;
  /** kwok --config file with its stages (kwok does nothing without stages). */
  kwokStages: string;
  versions: ControlPlaneVersions;
  /** How long the build that produced these binaries took, and when it ended (from the stamp). */
  buildSeconds: number;
  builtAt: string;
  /** 'built': by this call; 'cache': found built. */
  source: 'cache' | 'built';
}

interface Stamp {
  versions: ControlPlaneVersions;
  /** sha256 of go.mod + go.sum: a changed pin rebuilds even under the same Kubernetes version. */
  moduleHash: string;
  go: string;
  buildSeconds: number;
  builtAt: string;
}

/** The pinned versions in the wrapper module's go.mod (pure, for tests). */
export function parseControlPlaneVersions(goMod: string): ControlPlaneVersions {
  const required = (module: string): string => {
    const escaped = module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const version = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, 'm').exec(goMod)?.[1];
    if (!version) throw new Error(`go.mod requires no ${module}`);
    return version;
  };
  return { kubernetes: required('k8s.io/kubernetes'), etcd: required('go.etcd.io/etcd/server/v3'), kwok: required('sigs.k8s.io/kwok') };
}

/** `go version` → "go version go1.26.8 linux/amd64" → "1.26.8". */
export function parseGoVersion(output: string): string | undefined {
  return /\bgo(\d+(?:\.\d+)*)/.exec(output.replace(/^go version\s+/, ''))?.[1];
}

/** -X flags that make `kube-apiserver --version` (and the /version endpoint) say v1.Y.Z, as Kubernetes' own build does. */
export function versionLdflags(kubernetes: string): string[] {
  const [major, minor] = kubernetes.replace(/^v/, '').split('.');
  const flags: string[] = [];
  for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
    flags.push(`-X ${pkg}.gitVersion=${kubernetes}`, `-X ${pkg}.gitMajor=${major}`, `-X ${pkg}.gitMinor=${minor}`, `-X ${pkg}.gitTreeState=clean`);
  }
  return flags;
}

async function moduleState(): Promise<{ versions: ControlPlaneVersions; moduleHash: string }> {
  const goMod = await readFile(join(K8S_BUILD_MODULE_DIR, 'go.mod'), 'utf8');
  const goSum = await readFile(join(K8S_BUILD_MODULE_DIR, 'go.sum'), 'utf8');
  const moduleHash = createHash('sha256').update(goMod).update('\0').update(goSum).digest('hex');
  return { versions: parseControlPlaneVersions(goMod), moduleHash };
}

function controlPlaneIn(dir: string, stamp: Stamp, source: ControlPlane['source']): ControlPlane {
  const paths = Object.fromEntries(BINARY_KEYS.map((key) => [key, join(dir, CONTROL_PLANE_BINARIES[key].file)])) as Record<BinaryKey, string>;
  return {
    dir,
    ...paths,
    kwokStages: join(dir, 'kwok-stages.yaml'),
    versions: stamp.versions,
    buildSeconds: stamp.buildSeconds,
    builtAt: stamp.builtAt,
    source,
  };
}

/** The cached control plane when its stamp matches the pinned module; builds nothing. */
async function findControlPlane(): Promise<ControlPlane | undefined> {
  const { versions, moduleHash } = await moduleState();
  const dir = join(CONTROL_PLANE_CACHE_DIR, versions.kubernetes);
  let stamp: Stamp;
  try {
    stamp = JSON.parse(await readFile(join(dir, 'stamp.json'), 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
  if (stamp.moduleHash !== moduleHash) return undefined;
  const found = controlPlaneIn(dir, stamp, 'cache');
  for (const key of BINARY_KEYS) {
    if (!(await isExecutable(found[key]))) return undefined;
  }
  return existsSync(found.kwokStages) ? found : undefined;
}

export interface BuildOptions {
  /** Stream go build's output (MIGBENCH_VERBOSE=1). */
  verbose?: boolean;
}

/**
 * The control plane's binaries, built on first use (cold: 5–9 min on 2 cores, under `nice -n 19`;
 * afterwards only the stamp is read). Concurrent callers wait for one build.
 */
export async function ensureControlPlane(progress: Progress, options: BuildOptions = {}): Promise<ControlPlane> {
  const cached = await findControlPlane();
  if (cached) return cached;
  const lock = await acquireBuildLock(progress);
  try {
    // Another process may have finished the build while we waited for the lock.
    return (await findControlPlane()) ?? (await buildControlPlane(progress, options));
  } finally {
    await lock.release();
  }
}

async function buildControlPlane(progress: Progress, options: BuildOptions): Promise<ControlPlane> {
  const go = await findGo();
  const { versions, moduleHash } = await moduleState();
  const what = `kube-apiserver, kube-controller-manager, kube-scheduler ${versions.kubernetes}, etcd ${versions.etcd}, kwok ${versions.kwok}`;
  progress(`migbench: building ${what} (first use, ~${COLD_BUILD_MINUTES_2_CORES} min on 2 cores; cached in ${CONTROL_PLANE_CACHE_DIR}) ...`);
  const started = performance.now();
  const env = { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ''} -mod=readonly -buildvcs=false`.trim() };

  progress('migbench: downloading the Go modules the build needs (module proxy) ...');
  // Listing the packages fetches exactly the modules they are in (`go mod download` would fetch the
  // whole module graph, test-only dependencies included).
  const listed = await exec(go.path, ['list', '-deps', 'tool'], { cwd: K8S_BUILD_MODULE_DIR, env, timeoutMs: 30 * 60_000, allowFailure: true });
  if (listed.exitCode !== 0) {
    const fix = `make the Go module proxy reachable (GOPROXY=${process.env.GOPROXY ?? 'https://proxy.golang.org,direct'}) and run again`;
    const tail = listed.stderr.trim().split('\n').slice(-6).join('\n');
    throw new PrerequisiteError(
      `migbench: could not download the control plane's Go modules (go list -deps tool in ${K8S_BUILD_MODULE_DIR}):\n${tail}\nFix: ${fix}`,
      fix,
    );
  }
  const totalPackages = listed.stdout.split('\n').filter(Boolean).length;
  progress(
    `migbench: modules ready (${formatDuration(Math.round((performance.now() - started) / 1000))}); compiling ${totalPackages} packages under nice -n 19 ...`,
  );

  const final = join(CONTROL_PLANE_CACHE_DIR, versions.kubernetes);
  const partial = `${final}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(join(partial, 'go-out'), { recursive: true });
  try {
    await goBuild(go.path, join(partial, 'go-out'), versions, env, totalPackages, started, progress, options);
    for (const key of BINARY_KEYS) {
      await rename(join(partial, 'go-out', CONTROL_PLANE_BINARIES[key].goBuildName), join(partial, CONTROL_PLANE_BINARIES[key].file));
    }
    await rm(join(partial, 'go-out'), { recursive: true, force: true });
    await writeFile(join(partial, 'kwok-stages.yaml'), await kwokStages(go.path, env));
    const buildSeconds = Math.round((performance.now() - started) / 1000);
    const stamp: Stamp = { versions, moduleHash, go: go.version, buildSeconds, builtAt: new Date().toISOString() };
    await writeFile(join(partial, 'stamp.json'), `${JSON.stringify(stamp, null, 2)}\n`);
    // Swap the whole directory: a reader sees the old complete set or the new one, never a mix.
    await rm(final, { recursive: true, force: true });
    await rename(partial, final);
    progress(`migbench: built the control plane in ${formatDuration(buildSeconds)} → ${final}`);
    return controlPlaneIn(final, stamp, 'built');
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

/** One `go build` for all five binaries (they share most packages), niced: the host has other work. */
async function goBuild(
  go: string,
  outDir: string,
  versions: ControlPlaneVersions,
  env: NodeJS.ProcessEnv,
  totalPackages: number,
  started: number,
  progress: Progress,
  options: BuildOptions,
): Promise<void> {
  const ldflags = ['-s', '-w', ...versionLdflags(versions.kubernetes)].join(' ');
  const args = ['-n', '19', go, 'build', '-v', '-trimpath', `-ldflags=${ldflags}`, '-o', `${outDir}/`, 'tool'];
  // `go build -v` names each package as it compiles it: counting them is the progress.
  let compiled = 0;
  const heartbeat = setInterval(() => {
    const minutes = ((performance.now() - started) / 60_000).toFixed(0);
    progress(`migbench: still building the control plane (${minutes} min, ~${compiled}/${totalPackages} packages compiled) ...`);
  }, 60_000);
  try {
    await execCounting('nice', args, { cwd: K8S_BUILD_MODULE_DIR, env, verbose: options.verbose ?? false }, () => compiled++);
  } finally {
    clearInterval(heartbeat);
  }
}

/** Runs a command, calling onLine for each stderr line (go build -v's package list). */
export async function execCounting(
  file: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; verbose: boolean; what?: string },
  onLine: () => void,
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(file, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    let partialLine = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      tail = (tail + d).slice(-4000);
      if (opts.verbose) process.stderr.write(d);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      tail = (tail + d).slice(-4000);
      if (opts.verbose) process.stderr.write(d);
      const lines = (partialLine + d).split('\n');
      partialLine = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') onLine();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolve();
      const last = tail.trim().split('\n').slice(-15).join('\n');
      const fix = 'see the build error above; MIGBENCH_VERBOSE=1 shows the whole build output';
      reject(
        new PrerequisiteError(
          `migbench: building ${opts.what ?? 'the control plane'} failed: ${file} ${args.join(' ')}: exit ${code}\n${last}\nFix: ${fix}`,
          fix,
        ),
      );
    });
  });
}

/** kwok's default stages, taken from the kwok module version that was built (one multi-document YAML). */
async function kwokStages(go: string, env: NodeJS.ProcessEnv): Promise<string> {
  const dir = (await exec(go, ['list', '-m', '-f', '{{.Dir}}', 'sigs.k8s.io/kwok'], { cwd: K8S_BUILD_MODULE_DIR, env, timeoutMs: 60_000 })).stdout.trim();
  const documents = await Promise.all(KWOK_STAGE_FILES.map((file) => readFile(join(dir, file), 'utf8')));
  return documents.map((d) => d.trim()).join('\n---\n') + '\n';
}

export async function findGo(): Promise<{ path: string; version: string }> {
  const path = process.env.MIGBENCH_GO ?? (await lookPath('go')) ?? ((await isExecutable('/usr/local/go/bin/go')) ? '/usr/local/go/bin/go' : undefined);
  if (!path)
    throw new PrerequisiteError(
      `migbench: no Go toolchain found (needed once, to build the Kubernetes control plane the kubernetes tests run against). Fix: ${GO_FIX}`,
      GO_FIX,
    );
  const r = await exec(path, ['version'], { allowFailure: true, timeoutMs: 60_000 }).catch(() => undefined);
  const version = r ? parseGoVersion(r.stdout) : undefined;
  if (!version || !versionAtLeast(version, GO_MINIMUM)) {
    throw new PrerequisiteError(`migbench: ${path}: Go ${version ?? 'of unknown version'} is older than ${GO_MINIMUM}. Fix: ${GO_FIX}`, GO_FIX);
  }
  return { path, version };
}

// ---------------------------------------------------------------------------------------------
// One build at a time per machine (vitest's global setup and `migbench sim-cluster start` may race)

const LOCK_FILE = join(CONTROL_PLANE_CACHE_DIR, '.build.lock');

/** One builder at a time per lock file; a lock whose holder died is taken over. */
export async function acquireBuildLock(progress: Progress, lockFile = LOCK_FILE, what = 'the control plane'): Promise<{ release: () => Promise<void> }> {
  await mkdir(dirname(lockFile), { recursive: true });
  let announced = false;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return { release: () => rm(lockFile, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number.parseInt(await readFile(lockFile, 'utf8').catch(() => ''), 10);
    if (!Number.isInteger(holder) || !processAlive(holder)) {
      // The builder died (Ctrl-C, crash): its partial directory is removed by the next build.
      await rm(lockFile, { force: true });
      continue;
    }
    if (!announced) progress(`migbench: waiting for another migbench (pid ${holder}) that is building ${what} ...`);
    announced = true;
    await new Promise((r) => setTimeout(r, 2000));
  }
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function formatDuration(seconds: number): string {
  return seconds < 120 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}
