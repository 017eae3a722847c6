// What a real Kubernetes node runs, built from source once per machine next to the control plane
// (control-plane-build.ts): kubelet and kube-proxy from the same k8s.io/kubernetes module and version
// as the API server (node-build/kubernetes: k8s-build's pins with these two tools), containerd v2.3
// with its runc shim and ctr (node-build/containerd: 2.3 is the last line with restore-via-create,
// which CRI checkpoint/restore needs; Debian 12's containerd 1.6 has no CRI checkpoint), runc
// (node-build/runc), containerd v2.4 on request (node-build/containerd-2.4: `cluster start --containerd
// 2.4.2`; no restore-via-create, what the runtime-handler restore must work without), and the pause image built from the kubernetes module's build/pause/linux/pause.c.
// Beside the nodes, the lab's tools: the CNCF distribution registry (node-build/registry, the lab's
// image registry) and kubectl (node-build/kubectl, the kubelet's version), and crane
// (node-build/crane, which `migbench images` pushes with; built on its own by ensureCrane).
// CNI plugins come from Debian (containernetworking-plugins: bridge, host-local, loopback, portmap).
//
// Each component is cached apart under /var/cache/migbench/k8s-node/<component>-<version>/ with a
// stamp that records its inputs' hash and its build time: changing one pin rebuilds only that one.
//
// Why a runc of our own next to Debian's (which the local platform uses): containerd 2.3.7 is
// released and tested with runc v1.5.2 (its script/setup/runc-version); Debian 12 ships 1.1.5. The
// local platform keeps Debian's runc, with which its CRIU checkpoint/restore path is measured.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeOciArchive } from './oci-image.ts';
import { exec } from '../../system/exec.ts';
import { acquireBuildLock, execCounting, findGo, formatDuration, versionLdflags } from './control-plane-build.ts';
import { aptInstall, isExecutable, lookPath, type Progress } from '../../setup/apt.ts';
import { PrerequisiteError } from '../../setup/prerequisites.ts';

export const NODE_CACHE_DIR = '/var/cache/migbench/k8s-node';
const NODE_BUILD_DIR = fileURLToPath(new URL('./node-build/', import.meta.url));
/** Debian's containernetworking-plugins install here. */
const CNI_BIN_DIR = '/usr/lib/cni';
/** The sandbox image containerd 2.3 pins by default (internal/cri/config: DefaultSandboxImage); pause.c's TAG in kubernetes 1.36. */
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10.2';

export interface ComponentBuild {
  component: ComponentName;
  version: string;
  buildSeconds: number;
  builtAt: string;
  source: 'cache' | 'built';
}

export interface NodeBinaries {
  kubelet: string;
  kubeProxy: string;
  containerd: string;
  /** Which of CONTAINERD_VERSIONS `containerd` is. */
  containerdVersion: ContainerdVersion;
  containerdShim: string;
  ctr: string;
  runc: string;
  /** OCI archive of PAUSE_IMAGE, for `ctr images import`. */
  pauseArchive: string;
  cniBinDir: string;
  /** The CNCF distribution registry (`registry serve config.yml`): the lab's image registry. */
  registry: string;
  /** kubectl of the kubelet's version, for the docs' commands against the lab. */
  kubectl: string;
  builds: ComponentBuild[];
}

type ComponentName = 'kubernetes-node' | 'containerd' | 'runc' | 'pause' | 'registry' | 'kubectl' | 'crane';

interface Component {
  name: ComponentName;
  /** Files whose content decides the build (hashed into the stamp). */
  inputs: string[];
  version: (goMod: string) => string;
  /** The files it leaves in the cache directory. */
  outputs: string[];
  build: (ctx: BuildContext) => Promise<void>;
}

interface BuildContext {
  go: string;
  out: string;
  version: string;
  progress: Progress;
  verbose: boolean;
}

const required = (module: string) => (goMod: string) => {
  const version = new RegExp(`^\\s*(?:require\\s+)?${module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\s+(v\\S+)`, 'm').exec(goMod)?.[1];
  if (!version) throw new Error(`go.mod requires no ${module}`);
  return version;
};

const moduleFiles = (dir: string) => [join(dir, 'go.mod'), join(dir, 'go.sum')];
/** The containerd versions the lab's nodes can run (`cluster start --containerd`), each its own module and cache directory. */
export const CONTAINERD_VERSIONS = ['2.3.7', '2.4.2'] as const;
export type ContainerdVersion = (typeof CONTAINERD_VERSIONS)[number];
export const DEFAULT_CONTAINERD: ContainerdVersion = '2.3.7';
const CONTAINERD_MODULES: Record<ContainerdVersion, string> = {
  '2.3.7': join(NODE_BUILD_DIR, 'containerd'),
  '2.4.2': join(NODE_BUILD_DIR, 'containerd-2.4'),
};
const RUNC_MODULE = join(NODE_BUILD_DIR, 'runc');
/** kubelet and kube-proxy: k8s-build's pins, its tools swapped (node-build/kubernetes/go.mod says why). */
const KUBERNETES_NODE_MODULE = join(NODE_BUILD_DIR, 'kubernetes');
const REGISTRY_MODULE = join(NODE_BUILD_DIR, 'registry');
const KUBECTL_MODULE = join(NODE_BUILD_DIR, 'kubectl');
const CRANE_MODULE = join(NODE_BUILD_DIR, 'crane');

const containerdComponent = (moduleDir: string): Component => ({
  name: 'containerd',
  inputs: moduleFiles(moduleDir),
  version: required('github.com/containerd/containerd/v2'),
  outputs: ['containerd', 'containerd-shim-runc-v2', 'ctr'],
  build: (c) =>
    goBuild(c, moduleDir, ['tool'], { cgo: false, tags: 'no_btrfs', ldflags: `-X github.com/containerd/containerd/v2/version.Version=${c.version}` }),
});

/** The node's components with the chosen containerd (its cache directory is keyed by its version, so versions live side by side). */
const nodeComponents = (containerd: ContainerdVersion): readonly Component[] => [
  {
    name: 'runc',
    inputs: moduleFiles(RUNC_MODULE),
    version: required('github.com/opencontainers/runc'),
    outputs: ['runc'],
    // cgo is not optional: runc's nsenter is C, and seccomp goes through libseccomp. runc's own
    // Makefile adds the libpathrs tag too (a Rust library Debian 12 lacks); without it runc uses its
    // Go implementation of the same path-safety checks.
    build: (c) => goBuild(c, RUNC_MODULE, ['tool'], { cgo: true, tags: 'seccomp urfave_cli_no_docs', ldflags: '' }),
  },
  containerdComponent(CONTAINERD_MODULES[containerd]),
  {
    name: 'kubernetes-node',
    inputs: moduleFiles(KUBERNETES_NODE_MODULE),
    version: required('k8s.io/kubernetes'),
    outputs: ['kubelet', 'kube-proxy'],
    build: (c) => goBuild(c, KUBERNETES_NODE_MODULE, ['tool'], { cgo: false, tags: '', ldflags: versionLdflags(c.version).join(' ') }),
  },
  {
    name: 'pause',
    inputs: moduleFiles(KUBERNETES_NODE_MODULE),
    version: () => PAUSE_IMAGE.split(':')[1] as string,
    outputs: ['pause', 'pause.tar'],
    build: buildPause,
  },
  {
    name: 'registry',
    inputs: moduleFiles(REGISTRY_MODULE),
    version: required('github.com/distribution/distribution/v3'),
    outputs: ['registry'],
    build: (c) =>
      goBuild(c, REGISTRY_MODULE, ['tool'], { cgo: false, tags: '', ldflags: `-X github.com/distribution/distribution/v3/version.version=${c.version}` }),
  },
  {
    name: 'kubectl',
    inputs: moduleFiles(KUBECTL_MODULE),
    version: required('k8s.io/kubernetes'),
    outputs: ['kubectl'],
    build: (c) => goBuild(c, KUBECTL_MODULE, ['tool'], { cgo: false, tags: '', ldflags: versionLdflags(c.version).join(' ') }),
  },
];

/** crane, apart from the nodes' components: `migbench images --push` needs it without a lab. */
const CRANE: Component = {
  name: 'crane',
  inputs: moduleFiles(CRANE_MODULE),
  version: required('github.com/google/go-containerregistry'),
  outputs: ['crane'],
  build: (c) =>
    goBuild(c, CRANE_MODULE, ['tool'], { cgo: false, tags: '', ldflags: `-X github.com/google/go-containerregistry/cmd/crane/cmd.Version=${c.version}` }),
};

/** The cached crane binary, built on first use (seconds to a minute). */
export async function ensureCrane(progress: Progress, options: { verbose?: boolean } = {}): Promise<{ path: string; build: ComponentBuild }> {
  let build = await findComponent(CRANE);
  if (!build) {
    const lock = await acquireBuildLock(progress, join(NODE_CACHE_DIR, '.build.lock'), 'crane');
    try {
      build = (await findComponent(CRANE)) ?? (await buildComponent(CRANE, (await findGo()).path, progress, options.verbose ?? false));
    } finally {
      await lock.release();
    }
  }
  return { path: join(componentDir('crane', build.version), 'crane'), build };
}

/** Cached components whose stamps match; the rest are built (one builder per machine at a time). */
export async function ensureNodeBinaries(progress: Progress, options: { verbose?: boolean; containerd?: ContainerdVersion } = {}): Promise<NodeBinaries> {
  await ensureHostPackages(progress);
  const containerdVersion = options.containerd ?? DEFAULT_CONTAINERD;
  const components = nodeComponents(containerdVersion);
  let builds = await Promise.all(components.map(findComponent));
  if (builds.some((b) => b === undefined)) {
    const lock = await acquireBuildLock(progress, join(NODE_CACHE_DIR, '.build.lock'), 'the node components');
    try {
      const go = (await findGo()).path;
      builds = [];
      for (const component of components)
        builds.push((await findComponent(component)) ?? (await buildComponent(component, go, progress, options.verbose ?? false)));
    } finally {
      await lock.release();
    }
  }
  const done = builds as ComponentBuild[];
  const at = (name: ComponentName, file: string) => join(componentDir(name, done.find((b) => b.component === name)!.version), file);
  return {
    kubelet: at('kubernetes-node', 'kubelet'),
    kubeProxy: at('kubernetes-node', 'kube-proxy'),
    containerd: at('containerd', 'containerd'),
    containerdVersion,
    containerdShim: at('containerd', 'containerd-shim-runc-v2'),
    ctr: at('containerd', 'ctr'),
    runc: at('runc', 'runc'),
    pauseArchive: at('pause', 'pause.tar'),
    cniBinDir: CNI_BIN_DIR,
    registry: at('registry', 'registry'),
    kubectl: at('kubectl', 'kubectl'),
    builds: done,
  };
}

interface Stamp {
  version: string;
  inputsHash: string;
  buildSeconds: number;
  builtAt: string;
}

const componentDir = (name: ComponentName, version: string) => join(NODE_CACHE_DIR, `${name}-${version}`);

async function componentState(component: Component): Promise<{ version: string; inputsHash: string }> {
  const hash = createHash('sha256').update(component.name);
  for (const file of component.inputs) hash.update('\0').update(await readFile(file));
  const version = component.version(await readFile(component.inputs[0] as string, 'utf8'));
  return { version, inputsHash: hash.digest('hex') };
}

async function findComponent(component: Component): Promise<ComponentBuild | undefined> {
  const { version, inputsHash } = await componentState(component);
  const dir = componentDir(component.name, version);
  let stamp: Stamp;
  try {
    stamp = JSON.parse(await readFile(join(dir, 'stamp.json'), 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
  if (stamp.inputsHash !== inputsHash) return undefined;
  for (const file of component.outputs) if (!existsSync(join(dir, file))) return undefined;
  return { component: component.name, version, buildSeconds: stamp.buildSeconds, builtAt: stamp.builtAt, source: 'cache' };
}

async function buildComponent(component: Component, go: string, progress: Progress, verbose: boolean): Promise<ComponentBuild> {
  const { version, inputsHash } = await componentState(component);
  const final = componentDir(component.name, version);
  const partial = `${final}.partial-${process.pid}`;
  progress(`migbench: building ${component.name} ${version} (first use; cached in ${NODE_CACHE_DIR}) ...`);
  const started = performance.now();
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  try {
    await component.build({ go, out: partial, version, progress, verbose });
    const buildSeconds = Math.round((performance.now() - started) / 1000);
    const stamp: Stamp = { version, inputsHash, buildSeconds, builtAt: new Date().toISOString() };
    await writeFile(join(partial, 'stamp.json'), `${JSON.stringify(stamp, null, 2)}\n`);
    // Swapped whole: a reader sees the old complete set or the new one.
    await rm(final, { recursive: true, force: true });
    await rename(partial, final);
    progress(`migbench: built ${component.name} ${version} in ${formatDuration(buildSeconds)} → ${final}`);
    return { component: component.name, version, buildSeconds, builtAt: stamp.builtAt, source: 'built' };
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

async function goBuild(c: BuildContext, moduleDir: string, packages: string[], opts: { cgo: boolean; tags: string; ldflags: string }): Promise<void> {
  const env = { ...process.env, CGO_ENABLED: opts.cgo ? '1' : '0', GOFLAGS: `${process.env.GOFLAGS ?? ''} -mod=readonly -buildvcs=false`.trim() };
  const args = [
    '-n',
    '19',
    c.go,
    'build',
    '-v',
    '-trimpath',
    ...(opts.tags ? ['-tags', opts.tags] : []),
    `-ldflags=-s -w ${opts.ldflags}`.trim(),
    '-o',
    `${c.out}/`,
    ...packages,
  ];
  let compiled = 0;
  const started = performance.now();
  const heartbeat = setInterval(
    () => c.progress(`migbench: still building (${((performance.now() - started) / 60_000).toFixed(0)} min, ${compiled} packages compiled) ...`),
    60_000,
  );
  try {
    await execCounting('nice', args, { cwd: moduleDir, env, verbose: c.verbose, what: packages.join(' ') }, () => compiled++);
  } finally {
    clearInterval(heartbeat);
  }
}

/** pause.c, linked statically, in an image of its own (upstream's: one file, user 65535, entrypoint /pause). */
async function buildPause(c: BuildContext): Promise<void> {
  const env = { ...process.env, GOFLAGS: '-mod=readonly' };
  const k8sDir = (
    await exec(c.go, ['list', '-m', '-f', '{{.Dir}}', 'k8s.io/kubernetes'], { cwd: KUBERNETES_NODE_MODULE, env, timeoutMs: 10 * 60_000 })
  ).stdout.trim();
  const rootfs = join(c.out, 'rootfs');
  await mkdir(rootfs);
  await exec(
    'nice',
    [
      '-n',
      '19',
      'gcc',
      '-Os',
      '-Wall',
      '-Werror',
      '-static',
      `-DVERSION=v${c.version}-migbench`,
      '-o',
      join(rootfs, 'pause'),
      join(k8sDir, 'build/pause/linux/pause.c'),
    ],
    { timeoutMs: 5 * 60_000 },
  );
  await chmod(join(rootfs, 'pause'), 0o755);
  await writeOciArchive(rootfs, PAUSE_IMAGE, { entrypoint: ['/pause'], user: '65535:65535' }, join(c.out, 'pause.tar'));
  await rename(join(rootfs, 'pause'), join(c.out, 'pause'));
  await rm(rootfs, { recursive: true });
}

/** What the builds and the nodes need from Debian: a C toolchain + libseccomp for runc, CNI plugins, conntrack for kube-proxy. */
async function ensureHostPackages(progress: Progress): Promise<void> {
  const missing: string[] = [];
  if (!(await lookPath('gcc'))) missing.push('gcc', 'libc6-dev');
  if (!(await lookPath('pkg-config'))) missing.push('pkg-config');
  if (!existsSync('/usr/include/seccomp.h')) missing.push('libseccomp-dev');
  if (!(await isExecutable(join(CNI_BIN_DIR, 'bridge')))) missing.push('containernetworking-plugins');
  if (!(await lookPath('conntrack'))) missing.push('conntrack');
  if (missing.length === 0) return;
  if (!(await lookPath('apt-get'))) {
    const fix = `install ${missing.join(' ')} (Debian package names) with your package manager`;
    throw new PrerequisiteError(`migbench: the real-node cluster needs ${missing.join(', ')}. Fix: ${fix}`, fix);
  }
  progress(`migbench: installing ${missing.join(' ')} (apt-get) ...`);
  await aptInstall(missing);
}
