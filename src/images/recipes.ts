// What each workload's image holds (`migbench images build`): Debian's packages for the programs
// (the same packages, from the same release, the local platform runs on this host), the app's own
// files from workloads/<name>/ at /app, and how the app starts — the same ENTRYPOINT, CMD, ENV and
// WORKDIR as the Dockerfiles beside the apps (workloads/*/Dockerfile), which stay the recipe for
// people with Docker. Nothing comes from PyPI: Debian 12 has every module the apps import (the
// video server needs only Python's standard library, the trainer python3-torch).
export interface ImageRecipe {
  workload: 'redis' | 'video' | 'ml-training';
  /** The repository part of the reference: <registry>/migbench/<name>. */
  repository: string;
  /** Debian packages installed (with their dependencies) on top of the essential set. */
  debianPackages: string[];
  /** workloads/<workload>/<file> → /app/<file> */
  appFiles: string[];
  entrypoint: string[];
  cmd: string[];
  env: string[];
  workingDir: string;
  exposedPorts: string[];
  volumes: string[];
}

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const PYTHON_ENV = [PATH_ENV, 'PYTHONUNBUFFERED=1', 'PYTHONDONTWRITEBYTECODE=1'];

export const IMAGE_RECIPES: readonly ImageRecipe[] = [
  {
    workload: 'redis',
    repository: 'migbench/redis',
    // redis-server depends on redis-tools: redis-cli, which the manifests' readiness probe runs.
    debianPackages: ['redis-server'],
    appFiles: [],
    // As the official redis image: the server is the entrypoint, the manifest's args its flags.
    entrypoint: ['redis-server'],
    cmd: [],
    env: [PATH_ENV],
    workingDir: '/data',
    exposedPorts: ['6379/tcp'],
    volumes: ['/data'],
  },
  {
    workload: 'video',
    repository: 'migbench/video',
    debianPackages: ['python3'],
    appFiles: ['server.py'],
    entrypoint: ['python3', '/app/server.py'],
    cmd: ['--fps', '25', '--bitrate-kbps', '2000', '--gop-frames', '50', '--port', '8080'],
    env: PYTHON_ENV,
    workingDir: '/app',
    exposedPorts: ['8080/tcp'],
    volumes: [],
  },
  {
    workload: 'ml-training',
    repository: 'migbench/ml-training',
    debianPackages: ['python3-torch'],
    appFiles: ['train.py'],
    entrypoint: ['python3', '/app/train.py'],
    cmd: ['--data-dir', '/data', '--port', '8080'],
    env: [...PYTHON_ENV, 'OMP_NUM_THREADS=1', 'MKL_NUM_THREADS=1', 'OPENBLAS_NUM_THREADS=1'],
    workingDir: '/app',
    exposedPorts: ['8080/tcp'],
    volumes: ['/data'],
  },
];

export type ImageWorkload = ImageRecipe['workload'];
export const IMAGE_WORKLOADS = IMAGE_RECIPES.map((r) => r.workload);
