// The node agent's image holds linux/amd64 and linux/arm64 (agent-image.ts): built for real (Go
// cross-compiles; into a directory of the test's own, so no root), its archive's index.json names
// one image index that lists both platforms, each manifest's config says the same architecture, and
// each layer's binaries are ELF files for that CPU (the header's e_machine) beside the same CA
// bundle (that the arm64 build also runs: test/agent/go-test.host.test.ts, its Go suite under QEMU).
// A cache of the same sources for fewer platforms has another hash. The single-platform
// archives (the pause image, the workloads) take their architecture from a parameter, this
// machine's by default.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../../src/system/exec.ts';
import { AGENT_PLATFORMS, agentSourceHash, CA_BUNDLE, ensureAgentImage } from '../../../src/lab/build/agent-image.ts';
import { hostOciArchitecture, writeOciArchive, type OciArchitecture } from '../../../src/lab/build/oci-image.ts';

const root = mkdtempSync(join(tmpdir(), 'migbench-agent-image-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string };
  annotations?: Record<string, string>;
}

/** An archive unpacked: its index.json and a reader of its blobs. */
async function openArchive(archive: string, name: string) {
  const layout = join(root, name);
  await mkdir(layout, { recursive: true });
  await exec('tar', ['-xf', archive, '-C', layout]);
  const blob = (d: Descriptor) => join(layout, 'blobs', 'sha256', d.digest.slice('sha256:'.length));
  const json = async <T>(d: Descriptor) => JSON.parse(await readFile(blob(d), 'utf8')) as T;
  return { index: JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: Descriptor[] }, blob, json, layout };
}

/** The CPU an ELF file is for (e_machine, System V ABI), after checking it is a 64-bit little-endian ELF. */
function elfMachine(file: string): number {
  const header = readFileSync(file).subarray(0, 20);
  expect(header.subarray(0, 4).toString('latin1'), file).toBe('\x7fELF');
  expect(header[4], `${file}: ELFCLASS64`).toBe(2);
  expect(header[5], `${file}: little-endian`).toBe(1);
  return header.readUInt16LE(18);
}
const E_MACHINE: Record<OciArchitecture, number> = { amd64: 62, arm64: 183 };

describe('the agent image', () => {
  it('lists linux/amd64 and linux/arm64 under one named index, each with its own config and binaries', { timeout: 15 * 60_000 }, async () => {
    const image = await ensureAgentImage(() => undefined, join(root, 'cache'));
    const { index, json, blob } = await openArchive(image.archive, 'agent-layout');
    // One entry, the image index, named for containerd's import and crane's push.
    expect(index.manifests).toHaveLength(1);
    const top = index.manifests[0]!;
    expect(top.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(top.annotations?.['io.containerd.image.name']).toBe(image.name);
    const platforms = await json<{ manifests: Descriptor[] }>(top);
    expect(platforms.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`)).toEqual(['linux/amd64', 'linux/arm64']);
    expect(AGENT_PLATFORMS).toEqual(['amd64', 'arm64']);

    const layers = new Set<string>();
    for (const descriptor of platforms.manifests) {
      const architecture = descriptor.platform!.architecture as OciArchitecture;
      expect(descriptor.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
      const manifest = await json<{ config: Descriptor; layers: Descriptor[] }>(descriptor);
      const config = await json<{ architecture: string; os: string; config: { Entrypoint: string[] }; rootfs: { diff_ids: string[] } }>(manifest.config);
      expect({ architecture: config.architecture, os: config.os }).toEqual({ architecture, os: 'linux' });
      expect(config.config.Entrypoint).toEqual(['/migbench-agent']);
      expect(manifest.layers).toHaveLength(1);
      expect(config.rootfs.diff_ids).toEqual([manifest.layers[0]!.digest]);
      layers.add(manifest.layers[0]!.digest);

      const rootfs = join(root, `rootfs-${architecture}`);
      await mkdir(rootfs, { recursive: true });
      await exec('tar', ['-xf', blob(manifest.layers[0]!), '-C', rootfs]);
      expect(elfMachine(join(rootfs, 'migbench-agent')), `${architecture} migbench-agent`).toBe(E_MACHINE[architecture]);
      expect(elfMachine(join(rootfs, 'migbench-runc')), `${architecture} migbench-runc`).toBe(E_MACHINE[architecture]);
      expect(readFileSync(join(rootfs, CA_BUNDLE)).equals(readFileSync(CA_BUNDLE)), `${architecture} CA bundle`).toBe(true);
    }
    expect(layers.size).toBe(2);
    // The binary it reports is this machine's.
    expect(elfMachine(image.binary)).toBe(E_MACHINE[hostOciArchitecture()]);
  });

  it('is cached under a hash that counts the platforms: an amd64-only cache of the same sources is not it', async () => {
    expect(await agentSourceHash()).toBe(await agentSourceHash(undefined, undefined, AGENT_PLATFORMS));
    expect(await agentSourceHash(undefined, undefined, ['amd64'])).not.toBe(await agentSourceHash());
  });
});

describe('a single-platform archive', () => {
  it.each([
    ['x64', 'amd64'],
    ['arm64', 'arm64'],
  ])("names Node's %s as OCI's %s, and refuses a CPU no image is built for", (node, oci) => {
    expect(hostOciArchitecture(node)).toBe(oci);
    expect(() => hostOciArchitecture('ia32')).toThrow(/amd64 and arm64 only; this machine is ia32/);
  });

  it("is this machine's architecture unless told, in its config and in index.json", async () => {
    const rootfs = join(root, 'tiny');
    await mkdir(rootfs, { recursive: true });
    await exec('cp', [CA_BUNDLE, join(rootfs, 'file')]);
    for (const architecture of [undefined, 'arm64'] as const) {
      const file = join(root, `tiny-${architecture ?? 'host'}.tar`);
      const written = await writeOciArchive(rootfs, 'example.test/tiny:1', { entrypoint: ['/file'] }, file, architecture);
      const { index, json } = await openArchive(file, `tiny-${architecture ?? 'host'}`);
      const expected = architecture ?? hostOciArchitecture();
      expect(index.manifests).toHaveLength(1);
      const manifest = index.manifests[0]!;
      expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
      expect(manifest.digest).toBe(written.digest);
      expect(manifest.platform).toEqual({ architecture: expected, os: 'linux' });
      expect(manifest.annotations?.['io.containerd.image.name']).toBe('example.test/tiny:1');
      const config = await json<{ architecture: string }>((await json<{ config: Descriptor }>(manifest)).config);
      expect(config.architecture).toBe(expected);
    }
  });
});
