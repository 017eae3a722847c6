// A single-layer OCI image archive (oci-layout + index.json + blobs, tarred) made from a directory,
// for `ctr -n k8s.io images import`: no registry is reachable here, so every image a real node runs
// (the pause image, the workloads) is built on this machine, for its CPU, and imported into each
// node's containerd. The node agent's image holds several platforms, one such layer each, under one
// image index (writeMultiPlatformOciArchive).
// Layout per the OCI image spec (image-layout.md, manifest.md, config.md). The layer is an
// uncompressed tar, so its digest is also its diff_id; entries are sorted, owned by root and dated
// 1970, so the same directory gives the same image digest on every build.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { exec } from '../../system/exec.ts';

export interface OciImageConfig {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  /** "65535:65535" for the pause image, as upstream's. */
  user?: string;
}

/** The CPU architectures images are built for, by their OCI names (image-spec config.md: Go's GOARCH values). */
export type OciArchitecture = 'amd64' | 'arm64';

/** Node's name for this machine's CPU (process.arch) as OCI names it: the images the lab's nodes run are this machine's. */
export function hostOciArchitecture(arch: string = process.arch): OciArchitecture {
  if (arch === 'x64') return 'amd64';
  if (arch === 'arm64') return 'arm64';
  throw new Error(`migbench builds images for amd64 and arm64 only; this machine is ${arch}`);
}

export interface OciArchive {
  file: string;
  /** sha256:… of what index.json names: the image's id as containerd reports it (a manifest, or an index of several platforms). */
  digest: string;
}

/** One platform of an image: its architecture and the directory that becomes its only layer. */
export interface OciPlatformRootfs {
  architecture: OciArchitecture;
  rootfs: string;
}

/** containerd's archive importer names an image after this annotation (core/images/archive). */
const CONTAINERD_IMAGE_NAME = 'io.containerd.image.name';
const OCI_REF_NAME = 'org.opencontainers.image.ref.name';
const INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';

interface Descriptor {
  digest: string;
  size: number;
}

/** Writes `imageName` (e.g. registry.k8s.io/pause:3.10.2) with `rootfs` as its only layer to `file`, for one architecture (this machine's unless said). */
export async function writeOciArchive(
  rootfs: string,
  imageName: string,
  config: OciImageConfig,
  file: string,
  architecture: OciArchitecture = hostOciArchitecture(),
): Promise<OciArchive> {
  return packOciArchive([{ architecture, rootfs }], imageName, config, file, false);
}

/**
 * Writes `imageName` for several platforms to `file`: index.json names one image index, which lists
 * one manifest per platform (each with its config and its layer). Not one named manifest per platform
 * in index.json: containerd's importer (client/import.go) makes an image of every named entry of
 * index.json before it filters platforms, so the last entry would win whatever the node's CPU; and
 * crane pushes a layout whose index.json has one entry as that entry (cmd/crane/cmd/push.go), so the
 * registry stores this very index and its digest. A node's containerd unpacks its own platform of it
 * (ctr import: platforms.Default()), as with any multi-platform image it pulls.
 */
export async function writeMultiPlatformOciArchive(
  platforms: readonly OciPlatformRootfs[],
  imageName: string,
  config: OciImageConfig,
  file: string,
): Promise<OciArchive> {
  if (new Set(platforms.map((p) => p.architecture)).size !== platforms.length || platforms.length === 0)
    throw new Error(`${imageName}: one rootfs per architecture, at least one (got ${platforms.map((p) => p.architecture).join(', ')})`);
  return packOciArchive(platforms, imageName, config, file, true);
}

async function packOciArchive(
  platforms: readonly OciPlatformRootfs[],
  imageName: string,
  config: OciImageConfig,
  file: string,
  asIndex: boolean,
): Promise<OciArchive> {
  await mkdir(dirname(file), { recursive: true });
  const work = await mkdtemp(`${file}.work-`);
  try {
    const blobs = join(work, 'layout', 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const manifests: Array<Descriptor & { mediaType: string; platform: { architecture: OciArchitecture; os: 'linux' } }> = [];
    for (const { architecture, rootfs } of platforms) {
      const layerTar = join(work, `layer-${architecture}.tar`);
      await exec('tar', ['--sort=name', '--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '-C', rootfs, '-cf', layerTar, '.'], {
        timeoutMs: 10 * 60_000,
      });
      const manifest = await writeImageBlobs(blobs, layerTar, config, architecture);
      manifests.push({ mediaType: MANIFEST_MEDIA_TYPE, ...manifest, platform: { architecture, os: 'linux' } });
    }
    const tag = imageName.slice(imageName.lastIndexOf(':') + 1);
    const names = { [CONTAINERD_IMAGE_NAME]: imageName, [OCI_REF_NAME]: tag };
    const named = asIndex
      ? { mediaType: INDEX_MEDIA_TYPE, ...(await writeJsonBlob(blobs, { schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests })), annotations: names }
      : { ...manifests[0]!, annotations: names };
    await writeFile(join(work, 'layout', 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(join(work, 'layout', 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests: [named] }));
    const partial = `${file}.partial`;
    await exec('tar', ['--sort=name', '--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '-C', join(work, 'layout'), '-cf', partial, '.'], {
      timeoutMs: 10 * 60_000,
    });
    await rename(partial, file);
    return { file, digest: named.digest };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** One platform's layer (moved into `blobs`), config and manifest; the manifest's descriptor. */
async function writeImageBlobs(blobs: string, layerTar: string, config: OciImageConfig, architecture: OciArchitecture): Promise<Descriptor> {
  const layer = { digest: `sha256:${await sha256File(layerTar)}`, size: (await stat(layerTar)).size };
  await rename(layerTar, join(blobs, layer.digest.slice('sha256:'.length)));
  const imageConfig = await writeJsonBlob(blobs, {
    architecture,
    os: 'linux',
    config: {
      ...(config.entrypoint ? { Entrypoint: config.entrypoint } : {}),
      ...(config.cmd ? { Cmd: config.cmd } : {}),
      Env: config.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      ...(config.workingDir ? { WorkingDir: config.workingDir } : {}),
      ...(config.user ? { User: config.user } : {}),
    },
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
  });
  return writeJsonBlob(blobs, {
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...imageConfig },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
  });
}

async function writeJsonBlob(blobs: string, json: unknown): Promise<Descriptor> {
  const bytes = Buffer.from(JSON.stringify(json));
  const digest = createHash('sha256').update(bytes).digest('hex');
  await writeFile(join(blobs, digest), bytes);
  return { digest: `sha256:${digest}`, size: bytes.length };
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
