// A single-layer OCI image archive (oci-layout + index.json + blobs, tarred) made from a directory,
// for `ctr -n k8s.io images import`: no registry is reachable here, so every image a real node runs
// (the pause image, the workloads) is built on this machine and imported into each node's containerd.
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

export interface OciArchive {
  file: string;
  /** sha256:… of the manifest: the image's id as containerd reports it. */
  manifestDigest: string;
}

/** containerd's archive importer names an image after this annotation (core/images/archive). */
const CONTAINERD_IMAGE_NAME = 'io.containerd.image.name';
const OCI_REF_NAME = 'org.opencontainers.image.ref.name';

/** Writes `imageName` (e.g. registry.k8s.io/pause:3.10.2) with `rootfs` as its only layer to `file`. */
export async function writeOciArchive(rootfs: string, imageName: string, config: OciImageConfig, file: string): Promise<OciArchive> {
  await mkdir(dirname(file), { recursive: true });
  const work = await mkdtemp(`${file}.work-`);
  try {
    const layerTar = join(work, 'layer.tar');
    await exec('tar', ['--sort=name', '--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '-C', rootfs, '-cf', layerTar, '.'], {
      timeoutMs: 10 * 60_000,
    });
    return await packOciArchive(work, layerTar, imageName, { config }, file);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The layout around one uncompressed layer (moved into it), tarred to `file`. */
async function packOciArchive(
  work: string,
  layerTar: string,
  imageName: string,
  options: { config: OciImageConfig; manifestAnnotations?: Record<string, string> },
  file: string,
): Promise<OciArchive> {
  const { config } = options;
  const blobs = join(work, 'layout', 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const layer = { digest: `sha256:${await sha256File(layerTar)}`, size: (await stat(layerTar)).size };
  await rename(layerTar, join(blobs, layer.digest.slice('sha256:'.length)));

  const writeBlob = async (json: unknown) => {
    const bytes = Buffer.from(JSON.stringify(json));
    const digest = createHash('sha256').update(bytes).digest('hex');
    await writeFile(join(blobs, digest), bytes);
    return { digest: `sha256:${digest}`, size: bytes.length };
  };
  const imageConfig = await writeBlob({
    architecture: 'amd64',
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
  const manifest = await writeBlob({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...imageConfig },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
    ...(options.manifestAnnotations ? { annotations: options.manifestAnnotations } : {}),
  });
  const tag = imageName.slice(imageName.lastIndexOf(':') + 1);
  await writeFile(join(work, 'layout', 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(work, 'layout', 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          platform: { architecture: 'amd64', os: 'linux' },
          annotations: { [CONTAINERD_IMAGE_NAME]: imageName, [OCI_REF_NAME]: tag },
        },
      ],
    }),
  );
  const partial = `${file}.partial`;
  await exec('tar', ['--sort=name', '--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '-C', join(work, 'layout'), '-cf', partial, '.'], {
    timeoutMs: 10 * 60_000,
  });
  await rename(partial, file);
  return { file, manifestDigest: manifest.digest };
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
