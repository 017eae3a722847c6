// `migbench images build`: an OCI image layout per workload, made without Docker. mmdebstrap makes
// the root file system from Debian's archive (the essential set plus the recipe's packages, this
// host's release with its updates and security fixes, docs and man pages left out), tar makes it a
// layer with sorted entries, numeric owners and clamped times, and umoci stacks that layer and the
// app's files (a second, small layer) into an image and writes its config (recipes.ts). Every
// installed package and its version is recorded in the config's labels, since the archive is not
// pinned to a snapshot.
//
// Cached under /var/cache/migbench/images/<workload>-<inputs hash>/ (oci/ the layout, image.json
// what was built): the hash covers the recipe, the app's files, the Debian release and this file's
// build steps (BUILD_STEPS_VERSION), so a changed input builds a new image and the same inputs
// reuse the cached one (`--rebuild` builds anew anyway, e.g. for Debian's newer packages).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { aptInstall, lookPath, type Progress } from '../setup/apt.ts';
import { PrerequisiteError } from '../setup/prerequisites.ts';
import { exec } from '../system/exec.ts';
import { IMAGE_RECIPES, type ImageRecipe, type ImageWorkload } from './recipes.ts';

const IMAGES_CACHE_DIR = '/var/cache/migbench/images';
const WORKLOADS_DIR = join(import.meta.dirname, '..', '..', 'workloads');
/** Bump when the steps below change what an image holds: the cache key changes with it. */
const BUILD_STEPS_VERSION = 1;
const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
const DEBIAN_SECURITY = 'http://deb.debian.org/debian-security';
/** Layout tag of the one image in each cached layout. */
export const LAYOUT_TAG = 'latest';
/** 2000-01-01: the layers' file times and the config's `created`, the same on every build. */
const SOURCE_DATE_EPOCH = '946684800';
const LABEL_PREFIX = 'io.migbench';

export interface BuiltImage {
  workload: ImageWorkload;
  repository: string;
  /** The inputs hash (16 hex digits): the tag the image is pushed under. */
  tag: string;
  /** The OCI image layout (one image, tagged LAYOUT_TAG): what `crane push` and `umoci unpack` read. */
  layout: string;
  /** sha256:… of the image manifest: the digest a pushed reference pins. */
  manifestDigest: string;
  /** Sum of the layers as stored and pushed (gzip-compressed). */
  compressedBytes: number;
  /** The root file system as unpacked on a node. */
  unpackedBytes: number;
  buildSeconds: number;
  builtAt: string;
  /** Every Debian package in the image, name → version. */
  packages: Record<string, string>;
  source: 'built' | 'cache';
}

/** Builds (or finds cached) the images of `workloads`, one after the other (mmdebstrap is heavy). */
export async function buildImages(
  workloads: readonly ImageWorkload[],
  options: { progress: Progress; rebuild?: boolean; verbose?: boolean },
): Promise<BuiltImage[]> {
  await ensureImageTools(options.progress);
  const release = await debianRelease();
  const built: BuiltImage[] = [];
  for (const recipe of IMAGE_RECIPES.filter((r) => workloads.includes(r.workload))) {
    const tag = await inputsHash(recipe, release);
    const dir = join(IMAGES_CACHE_DIR, `${recipe.workload}-${tag}`);
    const cached = options.rebuild ? undefined : await readCached(dir);
    built.push(cached ? { ...cached, source: 'cache' } : await buildImage(recipe, release, tag, dir, options));
  }
  return built;
}

async function inputsHash(recipe: ImageRecipe, release: string): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify({ recipe, release, BUILD_STEPS_VERSION }));
  for (const file of recipe.appFiles) hash.update('\0').update(await readFile(join(WORKLOADS_DIR, recipe.workload, file)));
  return hash.digest('hex').slice(0, 16);
}

async function readCached(dir: string): Promise<BuiltImage | undefined> {
  try {
    const image = JSON.parse(await readFile(join(dir, 'image.json'), 'utf8')) as BuiltImage;
    return existsSync(join(image.layout, 'index.json')) ? image : undefined;
  } catch {
    return undefined;
  }
}

/** This host's Debian release (VERSION_CODENAME): the images get the same packages the local platform runs. */
async function debianRelease(): Promise<string> {
  const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const codename = /^VERSION_CODENAME=(\S+)$/m.exec(osRelease)?.[1];
  const id = /^ID=(\S+)$/m.exec(osRelease)?.[1];
  if (id !== 'debian' || !codename) {
    const fix = 'run `migbench images build` on Debian (12 or newer), or build with the Dockerfiles in workloads/';
    throw new PrerequisiteError(
      `migbench images: mmdebstrap builds from the host's Debian release, and this host is not Debian (/etc/os-release ID=${id ?? '?'}). Fix: ${fix}`,
      fix,
    );
  }
  return codename;
}

async function ensureImageTools(progress: Progress): Promise<void> {
  const missing = [];
  for (const tool of ['mmdebstrap', 'umoci']) if (!(await lookPath(tool))) missing.push(tool);
  if (missing.length === 0) return;
  if (!(await lookPath('apt-get'))) {
    const fix = `install ${missing.join(' ')} with your package manager`;
    throw new PrerequisiteError(`migbench images: needs ${missing.join(', ')}. Fix: ${fix}`, fix);
  }
  progress(`migbench images: installing ${missing.join(' ')} (apt-get) ...`);
  await aptInstall(missing);
}

async function buildImage(
  recipe: ImageRecipe,
  release: string,
  tag: string,
  dir: string,
  options: { progress: Progress; verbose?: boolean },
): Promise<BuiltImage> {
  const started = performance.now();
  const partial = `${dir}.partial-${process.pid}`;
  const rootfs = join(partial, 'rootfs');
  const layout = join(partial, 'oci');
  const image = `${layout}:${LAYOUT_TAG}`;
  const env = { ...process.env, SOURCE_DATE_EPOCH };
  const run = (file: string, args: string[], timeoutMs = 10 * 60_000) =>
    exec('nice', ['-n', '19', file, ...args], { env, timeoutMs, showOutput: options.verbose ?? false });
  options.progress(`migbench images: building ${recipe.repository} (Debian ${release}: ${recipe.debianPackages.join(' ')}) ...`);
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  try {
    await run(
      'mmdebstrap',
      [
        '--variant=essential',
        `--include=${recipe.debianPackages.join(',')}`,
        '--mode=root',
        '--format=directory',
        // What nobody reads in a container: documentation, manuals, translations.
        ...['/usr/share/doc/*', '/usr/share/man/*', '/usr/share/info/*', '/usr/share/locale/*', '/usr/share/lintian/*'].map(
          (p) => `--dpkgopt=path-exclude=${p}`,
        ),
        '--dpkgopt=path-include=/usr/share/doc/*/copyright',
        release,
        rootfs,
        `deb ${DEBIAN_MIRROR} ${release} main`,
        `deb ${DEBIAN_MIRROR} ${release}-updates main`,
        `deb ${DEBIAN_SECURITY} ${release}-security main`,
      ],
      30 * 60_000,
    );
    const packages = await installedPackages(rootfs);
    // Left by the build, rewritten by the runtime or useless in an image.
    for (const path of ['var/cache/apt', 'var/lib/apt/lists', 'var/log', 'etc/machine-id', 'etc/hostname', 'etc/resolv.conf'])
      await rm(join(rootfs, path), { recursive: true, force: true });
    await mkdir(join(rootfs, 'var/log'));
    for (const d of recipe.volumes) await mkdir(join(rootfs, d), { recursive: true });
    const unpackedBytes = await treeBytes(rootfs);

    const baseTar = join(partial, 'base.tar');
    await tarLayer(rootfs, baseTar);
    await rm(rootfs, { recursive: true });
    const appRoot = join(partial, 'app-root');
    await mkdir(join(appRoot, 'app'), { recursive: true });
    for (const file of recipe.appFiles) await writeFile(join(appRoot, 'app', file), await readFile(join(WORKLOADS_DIR, recipe.workload, file)));
    const appTar = join(partial, 'app.tar');
    await tarLayer(appRoot, appTar);

    const created = new Date(Number(SOURCE_DATE_EPOCH) * 1000).toISOString();
    await run('umoci', ['init', '--layout', layout]);
    await run('umoci', ['new', '--image', image]);
    await run('umoci', ['raw', 'add-layer', '--image', image, '--no-history', baseTar]);
    await run('umoci', ['raw', 'add-layer', '--image', image, '--no-history', appTar]);
    const labels: Record<string, string> = {
      'org.opencontainers.image.title': recipe.repository,
      'org.opencontainers.image.description': `migbench's ${recipe.workload} workload: ${recipe.debianPackages.join(', ')} from Debian ${release}${recipe.appFiles.length ? ` and workloads/${recipe.workload}/${recipe.appFiles.join(', ')}` : ''}`,
      [`${LABEL_PREFIX}.workload`]: recipe.workload,
      [`${LABEL_PREFIX}.inputs`]: tag,
      [`${LABEL_PREFIX}.debian.release`]: release,
      [`${LABEL_PREFIX}.debian.packages`]: Object.entries(packages)
        .map(([p, v]) => `${p}=${v}`)
        .join(' '),
      ...Object.fromEntries(recipe.debianPackages.map((p) => [`${LABEL_PREFIX}.debian.package.${p}`, packages[p] ?? '?'])),
    };
    await run('umoci', [
      'config',
      '--image',
      image,
      '--no-history',
      '--created',
      created,
      '--architecture',
      'amd64',
      '--os',
      'linux',
      '--clear=config.entrypoint',
      ...recipe.entrypoint.map((a) => `--config.entrypoint=${a}`),
      ...(recipe.cmd.length ? recipe.cmd.map((a) => `--config.cmd=${a}`) : ['--clear=config.cmd']),
      '--clear=config.env',
      ...recipe.env.map((e) => `--config.env=${e}`),
      `--config.workingdir=${recipe.workingDir}`,
      ...recipe.exposedPorts.map((p) => `--config.exposedports=${p}`),
      ...recipe.volumes.map((v) => `--config.volume=${v}`),
      ...Object.entries(labels).map(([k, v]) => `--config.label=${k}=${v}`),
    ]);
    await run('umoci', ['gc', '--layout', layout]);
    await rm(baseTar);
    await rm(appTar);
    await rm(appRoot, { recursive: true });
    const { manifestDigest, compressedBytes } = await layoutImage(layout);
    const finalLayout = join(dir, 'oci');
    const result: BuiltImage = {
      workload: recipe.workload,
      repository: recipe.repository,
      tag,
      layout: finalLayout,
      manifestDigest,
      compressedBytes,
      unpackedBytes,
      buildSeconds: Math.round((performance.now() - started) / 100) / 10,
      builtAt: new Date().toISOString(),
      packages,
      source: 'built',
    };
    await writeFile(join(partial, 'image.json'), `${JSON.stringify(result, null, 2)}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(partial, dir);
    options.progress(
      `migbench images: built ${recipe.repository} in ${result.buildSeconds} s: ${formatBytes(compressedBytes)} compressed, ${formatBytes(unpackedBytes)} unpacked → ${dir}`,
    );
    return result;
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

/** A layer tar whose bytes depend only on the tree's content: sorted, root-owned, times clamped. */
async function tarLayer(root: string, file: string): Promise<void> {
  await exec(
    'tar',
    [
      '--sort=name',
      '--numeric-owner',
      '--xattrs',
      `--mtime=@${SOURCE_DATE_EPOCH}`,
      '--clamp-mtime',
      '--format=posix',
      '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
      '-C',
      root,
      '-cf',
      file,
      '.',
    ],
    { timeoutMs: 10 * 60_000 },
  );
}

async function installedPackages(rootfs: string): Promise<Record<string, string>> {
  const out = (await exec('dpkg-query', [`--admindir=${join(rootfs, 'var/lib/dpkg')}`, '-W', '-f', '${Package}\t${Version}\n'], { timeoutMs: 60_000 })).stdout;
  return Object.fromEntries(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t') as [string, string])
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** The manifest digest of the layout's one image, and its layers' stored size. */
async function layoutImage(layout: string): Promise<{ manifestDigest: string; compressedBytes: number }> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  const manifestDigest = index.manifests[0]?.digest;
  if (!manifestDigest || index.manifests.length !== 1) throw new Error(`${layout}: expected one image, found ${index.manifests.length}`);
  const manifest = JSON.parse(await readFile(join(layout, 'blobs', 'sha256', manifestDigest.slice('sha256:'.length)), 'utf8')) as {
    layers: Array<{ size: number }>;
  };
  return { manifestDigest, compressedBytes: manifest.layers.reduce((sum, l) => sum + l.size, 0) };
}

async function treeBytes(root: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

export function formatBytes(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(2)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
