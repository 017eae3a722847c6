// The checkpoint image migbench builds from a kubelet checkpoint archive: an OCI archive whose only
// layer is the archive itself (byte for byte: containerd unpacks it to find spec.dump, config.dump
// and CRIU's images) and whose manifest carries org.criu.checkpoint.container.name, which is what
// containerd's CreateContainer looks for to restore instead of start. And CRIU's stats-dump read
// straight out of an archive.
import { afterAll, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { CHECKPOINT_ANNOTATION, writeCheckpointImageArchive } from '../../../src/lab/build/oci-image.ts';
import { readTarMember } from '../../../src/lab/nodes/node-checkpoints.ts';

const base = mkdtempSync(join(tmpdir(), 'migbench-checkpoint-image-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** An archive laid out as containerd writes one (no ./ prefix), with a stats-dump of known bytes. */
function checkpointArchive(): string {
  const dir = join(base, 'archive');
  mkdirSync(join(dir, 'checkpoint'), { recursive: true });
  writeFileSync(join(dir, 'config.dump'), '{"rootfsImageRef":"sha256:abc"}');
  writeFileSync(join(dir, 'spec.dump'), '{}');
  writeFileSync(join(dir, 'checkpoint', 'pages-1.img'), Buffer.alloc(10_000, 7));
  writeFileSync(join(dir, 'stats-dump'), Buffer.from([1, 2, 3, 4, 5]));
  const file = join(base, 'checkpoint.tar');
  execFileSync('tar', ['-C', dir, '-cf', file, 'checkpoint', 'config.dump', 'spec.dump', 'stats-dump']);
  return file;
}

it('builds an OCI archive whose only layer is the checkpoint archive and whose manifest is annotated as a checkpoint', async () => {
  const archive = checkpointArchive();
  const file = join(base, 'image.tar');
  const built = await writeCheckpointImageArchive(archive, 'localhost/migbench-checkpoint/redis:run-1', 'redis', file);
  const layout = join(base, 'layout');
  mkdirSync(layout);
  execFileSync('tar', ['-C', layout, '-xf', file]);
  const blob = (digest: string) => readFileSync(join(layout, 'blobs', 'sha256', digest.replace('sha256:', '')));
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  expect(index.manifests).toHaveLength(1);
  expect(index.manifests[0].annotations['io.containerd.image.name']).toBe('localhost/migbench-checkpoint/redis:run-1');
  expect(index.manifests[0].digest).toBe(built.manifestDigest);
  const manifest = JSON.parse(blob(built.manifestDigest).toString());
  expect(manifest.annotations).toEqual({ [CHECKPOINT_ANNOTATION]: 'redis' });
  expect(manifest.layers).toHaveLength(1);
  const archiveBytes = readFileSync(archive);
  expect(manifest.layers[0]).toMatchObject({ mediaType: 'application/vnd.oci.image.layer.v1.tar', size: archiveBytes.length, digest: `sha256:${createHash('sha256').update(archiveBytes).digest('hex')}` });
  expect(blob(manifest.layers[0].digest).equals(archiveBytes)).toBe(true);
  const config = JSON.parse(blob(manifest.config.digest).toString());
  expect(config.rootfs.diff_ids).toEqual([manifest.layers[0].digest]);
  // The stored archive is still there (linked into the layout, not moved).
  expect(readFileSync(archive).equals(archiveBytes)).toBe(true);
});

it('reads one member of a tar archive without unpacking it', async () => {
  const archive = checkpointArchive();
  expect(await readTarMember(archive, 'stats-dump', 1024)).toEqual(Buffer.from([1, 2, 3, 4, 5]));
  expect(await readTarMember(archive, 'no-such-file', 1024)).toBeUndefined();
  expect(await readTarMember(archive, 'checkpoint/pages-1.img', 1024)).toBeUndefined(); // over the size limit
});
