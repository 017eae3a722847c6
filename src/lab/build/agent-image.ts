// The node agent's image (agent/, `migbench-agent`): the Go program built statically
// (CGO_ENABLED=0) and packed as an OCI image of that file and the runtime handler's runc wrapper
// beside it (which `migbench agent install --runtime-handler` copies onto the nodes), and this
// host's CA bundle (Debian's ca-certificates, where Go looks for the system roots: the agent pushes
// checkpoint images over HTTPS to registries with public CAs), without Docker (oci-image.ts).
// Multi-platform, linux/amd64 and linux/arm64 (AGENT_PLATFORMS): a user's cluster may have nodes of
// either, and each node's containerd pulls (or the lab's imports) the one of its own CPU; Go
// cross-compiles both binaries for each (GOARCH), no emulator needed (the tests run the other CPU's
// build of agent/'s suite under QEMU user-mode emulation: ensureUserModeEmulator). Cached under
// /var/cache/migbench/agent/<source hash>/ (the binaries in linux-<arch>/): a change to any file of
// agent/, to the CA bundle or to the list of platforms builds it again, nothing else does. The
// image's name carries the same hash, so a node never runs a stale agent under a current name.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { exec } from '../../system/exec.ts';
import { aptInstall, lookPath, type Progress } from '../../setup/apt.ts';
import { PrerequisiteError } from '../../setup/prerequisites.ts';
import { hostOciArchitecture, writeMultiPlatformOciArchive, type OciArchitecture } from './oci-image.ts';

export const AGENT_SOURCE_DIR = join(import.meta.dirname, '..', '..', '..', 'agent');
export const AGENT_CACHE_DIR = '/var/cache/migbench/agent';
/** The image's repository; its tag is the source hash. */
export const AGENT_IMAGE_REPOSITORY = 'localhost/migbench/agent';
/** The platforms (all linux) the image holds, each node taking its own: Kubernetes' common node CPUs. */
export const AGENT_PLATFORMS: readonly OciArchitecture[] = ['amd64', 'arm64'];

export interface AgentImage {
  /** e.g. localhost/migbench/agent:3f2a… */
  name: string;
  /** The OCI archive (`ctr images import`): index.json names one image index of AGENT_PLATFORMS' manifests. */
  archive: string;
  /** This machine's agent binary (the image holds one per platform). */
  binary: string;
  sourceHash: string;
}

/** The system roots the image carries, at the same path (Go's crypto/x509 reads it first on Linux). */
export const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/**
 * sha256 over agent/'s Go sources, go.mod and go.sum (tests included: they are source too), the CA
 * bundle and the platforms, 16 hex digits. The platforms count: a cache of the same sources built
 * before for fewer of them (amd64 alone, before arm64 joined) is not the image a node of another
 * CPU can run.
 */
export async function agentSourceHash(dir = AGENT_SOURCE_DIR, caBundle = CA_BUNDLE, platforms: readonly OciArchitecture[] = AGENT_PLATFORMS): Promise<string> {
  const hash = createHash('sha256');
  hash
    .update(`platforms\0${platforms.map((a) => `linux/${a}`).join(',')}\0`)
    .update('ca-bundle\0')
    .update(await readCaBundle(caBundle))
    .update('\0');
  const files = (await readdir(dir, { recursive: true })).filter((f) => /\.go$|^go\.(mod|sum)$/.test(f)).sort();
  for (const file of files)
    hash
      .update(file)
      .update('\0')
      .update(await readFile(join(dir, file)))
      .update('\0');
  return hash.digest('hex').slice(0, 16);
}

async function readCaBundle(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch {
    throw new Error(`building migbench-agent needs the CA bundle ${file} (Debian: apt-get install ca-certificates)`);
  }
}

/** The Go toolchain: on PATH, else where its tarball installs it. */
export async function goBinary(): Promise<string> {
  const found = (await lookPath('go')) ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!found) throw new Error('building migbench-agent needs Go ≥ 1.24 (https://go.dev/dl/; the module proxy must be reachable for its dependencies)');
  return found;
}

/** QEMU's names for the CPUs (its user-mode emulators are qemu-<name>-static). */
const QEMU_CPU: Record<OciArchitecture, string> = { amd64: 'x86_64', arm64: 'aarch64' };

/**
 * The user-mode emulator that runs agent/'s test binaries built for another CPU than this
 * machine's (`go test -exec`; test/agent/go-test.host.test.ts): qemu-<cpu>-static from Debian's
 * qemu-user-static, installed with apt-get on first use (63 MB download, 388 MB installed: one
 * package holds every CPU's emulator; ~7 s). Static, so it needs no libraries of the guest CPU —
 * the agent's binaries are static too — and named with `-exec`, it needs no binfmt_misc entry:
 * nothing on the host starts running foreign binaries through it.
 */
export async function ensureUserModeEmulator(architecture: OciArchitecture, progress: Progress = () => undefined): Promise<string> {
  const name = `qemu-${QEMU_CPU[architecture]}-static`;
  const found = await lookPath(name);
  if (found) return found;
  const fix = 'apt-get install -y qemu-user-static';
  if (!(await lookPath('apt-get')) || process.getuid?.() !== 0) {
    throw new PrerequisiteError(`testing the agent for linux/${architecture} needs ${name} (Debian: qemu-user-static), and it is missing. Fix: ${fix}`, fix);
  }
  progress('migbench: installing qemu-user-static (apt-get) ...');
  await aptInstall(['qemu-user-static']);
  const installed = await lookPath(name);
  if (!installed) throw new PrerequisiteError(`${name} is still missing after apt-get install qemu-user-static`, fix);
  return installed;
}

/** Where one platform's binaries are cached: <cache>/<source hash>/linux-<arch>/. */
const platformDir = (cacheDir: string, sourceHash: string, architecture: OciArchitecture) => join(cacheDir, sourceHash, `linux-${architecture}`);

/**
 * Builds the agent's binaries (each platform's) and its image unless this source hash's are cached
 * (`cacheDir`: AGENT_CACHE_DIR but in tests, which build into a directory of their own without root).
 */
export async function ensureAgentImage(log: (line: string) => void = () => undefined, cacheDir = AGENT_CACHE_DIR): Promise<AgentImage> {
  const sourceHash = await agentSourceHash();
  const dir = join(cacheDir, sourceHash);
  const image: AgentImage = {
    name: `${AGENT_IMAGE_REPOSITORY}:${sourceHash}`,
    archive: join(dir, 'agent.oci.tar'),
    binary: join(platformDir(cacheDir, sourceHash, hostOciArchitecture()), 'migbench-agent'),
    sourceHash,
  };
  if (existsSync(image.archive)) return image;
  const t0 = performance.now();
  log(`migbench-agent: building ${sourceHash} for ${AGENT_PLATFORMS.map((a) => `linux/${a}`).join(', ')} (go build, static)`);
  const rootfsDirs: Array<{ architecture: OciArchitecture; rootfs: string }> = [];
  try {
    for (const architecture of AGENT_PLATFORMS) {
      const rootfs = join(dir, `rootfs-${architecture}`);
      rootfsDirs.push({ architecture, rootfs });
      await rm(rootfs, { recursive: true, force: true });
      await mkdir(join(rootfs, 'etc', 'ssl', 'certs'), { recursive: true });
      await exec('cp', [await ensureAgentBinary(cacheDir, sourceHash, architecture, log), join(rootfs, 'migbench-agent')]);
      await chmod(join(rootfs, 'migbench-agent'), 0o755);
      // The wrapper where the agent looks for it (agent/runtime_handler.go: beside its own binary).
      await exec('cp', [await ensureRuntimeHandlerBinary(log, architecture, cacheDir), join(rootfs, 'migbench-runc')]);
      await chmod(join(rootfs, 'migbench-runc'), 0o755);
      await exec('cp', [CA_BUNDLE, join(rootfs, CA_BUNDLE)]);
      await chmod(join(rootfs, CA_BUNDLE), 0o644);
    }
    await writeMultiPlatformOciArchive(rootfsDirs, image.name, { entrypoint: ['/migbench-agent'], env: [] }, image.archive);
  } finally {
    for (const { rootfs } of rootfsDirs) await rm(rootfs, { recursive: true, force: true });
  }
  log(`migbench-agent: built ${image.name} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return image;
}

/** `go build` of one of agent/'s main packages for linux/`architecture`, static, to `out` (through a partial file). */
async function goBuildStatic(pkg: string, architecture: OciArchitecture, ldflags: string, out: string): Promise<void> {
  await mkdir(dirname(out), { recursive: true });
  const partial = `${out}.partial-${process.pid}`;
  await exec(await goBinary(), ['build', '-trimpath', '-ldflags', ldflags, '-o', partial, pkg], {
    cwd: AGENT_SOURCE_DIR,
    env: { ...process.env, CGO_ENABLED: '0', GOOS: 'linux', GOARCH: architecture, GOFLAGS: '-mod=mod' },
    timeoutMs: 20 * 60_000,
  });
  await rename(partial, out);
}

/** The agent's binary for `architecture`, built unless cached. */
async function ensureAgentBinary(cacheDir: string, sourceHash: string, architecture: OciArchitecture, log: (line: string) => void): Promise<string> {
  const binary = join(platformDir(cacheDir, sourceHash, architecture), 'migbench-agent');
  if (existsSync(binary)) return binary;
  const t0 = performance.now();
  await goBuildStatic('.', architecture, `-s -w -X main.version=${sourceHash}`, binary);
  log(`migbench-agent: built for linux/${architecture} in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${binary}`);
  return binary;
}

/** The repository a pushed agent image goes to under the user's registry. */
const AGENT_PUSH_REPOSITORY = 'migbench/agent';

/**
 * `migbench agent image --push REGISTRY`: the agent image pushed with crane from its OCI layout,
 * under its source-hash tag, and the reference by digest the registry stores it by — what
 * `migbench agent install --image` takes on a cluster whose nodes pull from that registry. The
 * layout's index.json names one image index, so crane pushes that index with every platform's
 * manifest and blobs, and the digest is the index's: each node pulls its own platform through it.
 * `insecure`: plain HTTP, only when the user says so (or the lab's own registry).
 */
export async function pushAgentImage(
  crane: string,
  image: AgentImage,
  registry: string,
  options: { insecure?: boolean } = {},
): Promise<{ reference: string; pushSeconds: number }> {
  const started = performance.now();
  const target = `${registry.replace(/\/+$/, '')}/${AGENT_PUSH_REPOSITORY}`;
  const layout = `${image.archive}.layout`;
  await rm(layout, { recursive: true, force: true });
  await mkdir(layout, { recursive: true });
  try {
    await exec('tar', ['-xf', image.archive, '-C', layout]);
    const out = await exec(crane, ['push', ...(options.insecure ? ['--insecure'] : []), layout, `${target}:${image.sourceHash}`], { timeoutMs: 10 * 60_000 });
    // crane prints the pushed reference by digest (<repo>@sha256:…) on its last line.
    const digest = /@(sha256:[0-9a-f]{64})$/.exec(out.stdout.trim().split('\n').at(-1) ?? '')?.[1];
    if (!digest) throw new Error(`crane push ${target}: no digest in its output: ${out.stdout.trim()}`);
    const index = (JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> }).manifests[0]?.digest;
    if (digest !== index) throw new Error(`crane push ${target}: the registry stored ${digest}, the layout's image index is ${index}`);
    return { reference: `${target}@${digest}`, pushSeconds: Math.round((performance.now() - started) / 100) / 10 };
  } finally {
    await rm(layout, { recursive: true, force: true });
  }
}

/**
 * The runtime handler's runc wrapper (agent/cmd/migbench-runc) for `architecture` (this machine's
 * unless said: the lab's nodes run here), built from the agent's module beside the agent's binary:
 * cached under the same source hash, so a change to agent/ builds both again and nothing else does.
 * Static (CGO_ENABLED=0) like the agent.
 */
export async function ensureRuntimeHandlerBinary(
  log: (line: string) => void = () => undefined,
  architecture: OciArchitecture = hostOciArchitecture(),
  cacheDir = AGENT_CACHE_DIR,
): Promise<string> {
  const sourceHash = await agentSourceHash();
  const binary = join(platformDir(cacheDir, sourceHash, architecture), 'migbench-runc');
  if (existsSync(binary)) return binary;
  const t0 = performance.now();
  await goBuildStatic('./cmd/migbench-runc', architecture, '-s -w', binary);
  log(`migbench-runc: built for linux/${architecture} in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${binary}`);
  return binary;
}
