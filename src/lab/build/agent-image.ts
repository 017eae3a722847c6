// The node agent's image (agent/, `migbench-agent`): the Go program built statically
// (CGO_ENABLED=0) and packed as an OCI image of that file and the runtime handler's runc wrapper
// beside it (which `migbench agent install --runtime-handler` copies onto the nodes), and this
// host's CA bundle (Debian's ca-certificates, where Go looks for the system roots: the agent pushes
// checkpoint images over HTTPS to registries with public CAs), without Docker (oci-image.ts). Cached
// under /var/cache/migbench/agent/<source hash>/: a change to any file of agent/ or to the CA bundle
// builds it again, nothing else does. The image's name carries the same hash, so a node never runs
// a stale agent under a current name.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from '../../system/exec.ts';
import { lookPath } from '../../setup/apt.ts';
import { writeOciArchive } from './oci-image.ts';

export const AGENT_SOURCE_DIR = join(import.meta.dirname, '..', '..', '..', 'agent');
export const AGENT_CACHE_DIR = '/var/cache/migbench/agent';
/** The image's repository; its tag is the source hash. */
export const AGENT_IMAGE_REPOSITORY = 'localhost/migbench/agent';

export interface AgentImage {
  /** e.g. localhost/migbench/agent:3f2a… */
  name: string;
  /** The OCI archive (`ctr images import`). */
  archive: string;
  binary: string;
  sourceHash: string;
}

/** The system roots the image carries, at the same path (Go's crypto/x509 reads it first on Linux). */
export const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** sha256 over agent/'s Go sources, go.mod and go.sum (tests included: they are source too) and the CA bundle, 16 hex digits. */
export async function agentSourceHash(dir = AGENT_SOURCE_DIR, caBundle = CA_BUNDLE): Promise<string> {
  const hash = createHash('sha256');
  hash
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

/** Builds the agent's binary and image unless this source hash's are cached. */
export async function ensureAgentImage(log: (line: string) => void = () => undefined): Promise<AgentImage> {
  const sourceHash = await agentSourceHash();
  const dir = join(AGENT_CACHE_DIR, sourceHash);
  const image: AgentImage = {
    name: `${AGENT_IMAGE_REPOSITORY}:${sourceHash}`,
    archive: join(dir, 'agent.oci.tar'),
    binary: join(dir, 'migbench-agent'),
    sourceHash,
  };
  if (existsSync(image.archive)) return image;
  const t0 = performance.now();
  log(`migbench-agent: building ${sourceHash} (go build, static)`);
  await mkdir(dir, { recursive: true });
  const partial = `${image.binary}.partial`;
  await exec(await goBinary(), ['build', '-trimpath', '-ldflags', `-s -w -X main.version=${sourceHash}`, '-o', partial, '.'], {
    cwd: AGENT_SOURCE_DIR,
    env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
    timeoutMs: 20 * 60_000,
  });
  await rename(partial, image.binary);
  const rootfs = join(dir, 'rootfs');
  await rm(rootfs, { recursive: true, force: true });
  await mkdir(rootfs, { recursive: true });
  await exec('cp', [image.binary, join(rootfs, 'migbench-agent')]);
  await chmod(join(rootfs, 'migbench-agent'), 0o755);
  // The wrapper where the agent looks for it (agent/runtime_handler.go: beside its own binary).
  await exec('cp', [await ensureRuntimeHandlerBinary(log), join(rootfs, 'migbench-runc')]);
  await chmod(join(rootfs, 'migbench-runc'), 0o755);
  await mkdir(join(rootfs, 'etc', 'ssl', 'certs'), { recursive: true });
  await exec('cp', [CA_BUNDLE, join(rootfs, CA_BUNDLE)]);
  await chmod(join(rootfs, CA_BUNDLE), 0o644);
  await writeOciArchive(rootfs, image.name, { entrypoint: ['/migbench-agent'], env: [] }, image.archive);
  await rm(rootfs, { recursive: true, force: true });
  log(`migbench-agent: built ${image.name} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return image;
}

/** The repository a pushed agent image goes to under the user's registry. */
const AGENT_PUSH_REPOSITORY = 'migbench/agent';

/**
 * `migbench agent image --push REGISTRY`: the agent image pushed with crane from its OCI layout,
 * under its source-hash tag, and the reference by digest the registry stores it by — what
 * `migbench agent install --image` takes on a cluster whose nodes pull from that registry.
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
    return { reference: `${target}@${digest}`, pushSeconds: Math.round((performance.now() - started) / 100) / 10 };
  } finally {
    await rm(layout, { recursive: true, force: true });
  }
}

/**
 * The runtime handler's runc wrapper (agent/cmd/migbench-runc), built from the agent's module beside
 * the agent's binary: cached under the same source hash, so a change to agent/ builds both again
 * and nothing else does. Static (CGO_ENABLED=0) like the agent.
 */
export async function ensureRuntimeHandlerBinary(log: (line: string) => void = () => undefined): Promise<string> {
  const sourceHash = await agentSourceHash();
  const dir = join(AGENT_CACHE_DIR, sourceHash);
  const binary = join(dir, 'migbench-runc');
  if (existsSync(binary)) return binary;
  const t0 = performance.now();
  await mkdir(dir, { recursive: true });
  const partial = `${binary}.partial-${process.pid}`;
  await exec(await goBinary(), ['build', '-trimpath', '-ldflags', '-s -w', '-o', partial, './cmd/migbench-runc'], {
    cwd: AGENT_SOURCE_DIR,
    env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
    timeoutMs: 10 * 60_000,
  });
  await rename(partial, binary);
  log(`migbench-runc: built in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${binary}`);
  return binary;
}
