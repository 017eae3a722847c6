// The three workloads' images for the real nodes, built here (no registry is reachable) under the
// names their manifests (workloads/*/k8s.yaml) use, and imported into every node's containerd.
//
// What an image holds: the app's own code from workloads/<type>/ at the path its Dockerfile copies
// it to, the Dockerfile's command, and a root skeleton (/bin, /lib, /lib64, /sbin as links into /usr,
// as on this host). The programs — python3, PyTorch, redis-server — are the host's Debian packages,
// the same ones the local platform runs, mounted read-only at /usr by the real-node manifests
// (realNodePodSpec): an image with its own copy of /usr would be 2+ GB per node for PyTorch, imported
// at every start, and would run other interpreter builds than the local platform does, making the
// side-by-side comparison one of two Pythons as well.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NODE_CACHE_DIR } from '../build/node-build.ts';
import { writeOciArchive, type OciImageConfig } from '../build/oci-image.ts';

const WORKLOADS_DIR = join(import.meta.dirname, '..', '..', '..', 'workloads');
const IMAGES_DIR = join(NODE_CACHE_DIR, 'images');

export interface WorkloadImage {
  workload: string;
  /** As containerd stores it: kubelet normalizes "redis:7.0" to docker.io/library/redis:7.0 before asking. */
  name: string;
  /** workloads/<workload>/<file> → /app/<file> */
  appFiles: string[];
  config: OciImageConfig;
}

const PYTHON_ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'PYTHONUNBUFFERED=1', 'PYTHONDONTWRITEBYTECODE=1'];

/** The Dockerfiles' ENTRYPOINT, CMD and ENV; redis:7.0's entrypoint runs redis-server with the args k8s.yaml gives. */
export const WORKLOAD_IMAGES: readonly WorkloadImage[] = [
  { workload: 'redis', name: 'docker.io/library/redis:7.0', appFiles: [], config: { entrypoint: ['redis-server'], workingDir: '/data' } },
  {
    workload: 'video',
    name: 'docker.io/migbench/video:latest',
    appFiles: ['server.py'],
    config: {
      entrypoint: ['python3', '/app/server.py'],
      cmd: ['--fps', '25', '--bitrate-kbps', '2000', '--gop-frames', '50', '--port', '8080'],
      env: PYTHON_ENV,
      workingDir: '/app',
    },
  },
  {
    workload: 'ml-training',
    name: 'docker.io/migbench/ml-training:latest',
    appFiles: ['train.py'],
    config: {
      entrypoint: ['python3', '/app/train.py'],
      cmd: ['--data-dir', '/data', '--port', '8080'],
      env: [...PYTHON_ENV, 'OMP_NUM_THREADS=1', 'MKL_NUM_THREADS=1', 'OPENBLAS_NUM_THREADS=1'],
      workingDir: '/app',
    },
  },
];

/** The image archives, rebuilt when a workload's code or its image definition changes (the hash names the file). */
export async function ensureWorkloadImages(): Promise<string[]> {
  const archives: string[] = [];
  for (const image of WORKLOAD_IMAGES) {
    const hash = createHash('sha256').update(JSON.stringify(image));
    for (const file of image.appFiles) hash.update('\0').update(await readFile(join(WORKLOADS_DIR, image.workload, file)));
    const archive = join(IMAGES_DIR, `${image.workload}-${hash.digest('hex').slice(0, 16)}.tar`);
    if (!existsSync(archive)) await buildImage(image, archive);
    archives.push(archive);
  }
  return archives;
}

async function buildImage(image: WorkloadImage, archive: string): Promise<void> {
  const rootfs = `${archive}.rootfs`;
  await rm(rootfs, { recursive: true, force: true });
  try {
    for (const dir of ['usr', 'app', 'data', 'tmp', 'etc', 'proc', 'sys', 'dev', 'run', 'var/tmp']) await mkdir(join(rootfs, dir), { recursive: true });
    for (const dir of ['tmp', 'var/tmp']) await chmod(join(rootfs, dir), 0o1777);
    for (const link of ['bin', 'lib', 'lib64', 'sbin']) await symlink(`usr/${link}`, join(rootfs, link));
    // Who root and nobody are (redis-server and Python ask); the rest of /etc comes from the runtime (hosts, resolv.conf).
    await writeFile(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
    await writeFile(join(rootfs, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
    for (const file of image.appFiles) await copyFile(join(WORKLOADS_DIR, image.workload, file), join(rootfs, 'app', file));
    await writeOciArchive(rootfs, image.name, image.config, archive);
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}
