// The machine-wide cache of CRIU binaries built by migbench: /var/cache/migbench/criu/<version>/criu.
// Read when looking for a CRIU (criu-detect.ts), written once after a build (criu-build.ts).
import { chmod, copyFile, mkdir, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { isExecutable } from './apt.ts';
import { compareVersions, parseCriuVersion, readVersion } from './versions.ts';

export const CRIU_CACHE_DIR = '/var/cache/migbench/criu';

/** /var/cache/migbench/criu/<version>/criu, highest version first. */
export async function cachedCriuBinaries(): Promise<string[]> {
  let versions: string[];
  try {
    versions = await readdir(CRIU_CACHE_DIR);
  } catch {
    return [];
  }
  const binaries: Array<{ version: string; path: string }> = [];
  for (const version of versions) {
    const path = join(CRIU_CACHE_DIR, version, 'criu');
    if (await isExecutable(path)) binaries.push({ version, path });
  }
  return binaries.sort((a, b) => compareVersions(b.version, a.version)).map((b) => b.path);
}

/** Copy then rename, so a concurrent reader never sees a half-written binary. */
export async function storeInCache(binary: string, upstreamVersion: string): Promise<{ path: string; version: string }> {
  const version = (await readVersion(binary, parseCriuVersion)) ?? upstreamVersion;
  const dir = join(CRIU_CACHE_DIR, version);
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'criu');
  const partial = `${path}.partial-${process.pid}`;
  await copyFile(binary, partial);
  await chmod(partial, 0o755);
  await rename(partial, path);
  return { path, version };
}
