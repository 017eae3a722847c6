// CRIU's kernel-facts cache (platforms/local/criu-kernel-cache.ts) with the real CRIU: where /run is
// no tmpfs, `auto` has CRIU make /run/criu.kdat, CRIU then starts from it, and it goes when the run
// ends or, after a crash, with `migbench cleanup`; a cache someone else put there is never touched.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, expect, inject, it } from 'vitest';
import { cleanupLocalHost } from '../../../src/platforms/local/cleanup.ts';
import { CRIU_KDAT, CriuKernelCache, PROVIDED_MARKER } from '../../../src/platforms/local/criu-kernel-cache.ts';
import { migbenchObjects, NOTHING } from '../../helpers/host.ts';

const runIsTmpfs = statfsSync('/run').type === 0x01021994;

/** What CRIU says about its cache when it starts (its -v4 log's kdat line). */
function criuCacheLine(criu: string): string {
  const dir = mkdtempSync(`${tmpdir()}/migbench-kdat-`);
  try {
    execFileSync(criu, ['check', '-v4', '-o', `${dir}/check.log`], { cwd: dir, stdio: 'ignore' });
    return (
      readFileSync(`${dir}/check.log`, 'utf8')
        .split('\n')
        .find((l) => /kdat/.test(l)) ?? ''
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

afterEach(() => {
  // A failed assertion must not leave a cache behind for the next test (or the next measurement).
  if (existsSync(PROVIDED_MARKER)) {
    rmSync(CRIU_KDAT, { force: true });
    rmSync(PROVIDED_MARKER, { force: true });
  }
});

it.runIf(!runIsTmpfs && !existsSync(CRIU_KDAT))(
  'auto: CRIU makes the cache for the run, starts from it, and it goes with the run',
  { timeout: 60_000 },
  async () => {
    const { criu } = inject('tools');
    expect(criuCacheLine(criu)).not.toMatch(/Loaded kdat cache/);
    const cache = await CriuKernelCache.prepare(criu, 'auto');
    expect(cache.state).toBe('provided');
    expect(existsSync(CRIU_KDAT)).toBe(true);
    expect(criuCacheLine(criu)).toMatch(/Loaded kdat cache from \/run\/criu\.kdat/);
    await cache.remove();
    expect(existsSync(CRIU_KDAT)).toBe(false);
    expect(migbenchObjects()).toEqual(NOTHING);
  },
);

it.runIf(!runIsTmpfs && !existsSync(CRIU_KDAT))('off: the host as it is — no cache, CRIU probes the kernel again', async () => {
  const { criu } = inject('tools');
  const cache = await CriuKernelCache.prepare(criu, 'off');
  expect(cache.state).toBe('none');
  expect(existsSync(CRIU_KDAT)).toBe(false);
});

it.runIf(!runIsTmpfs && !existsSync(CRIU_KDAT))('after a crash, cleanup removes the cache a run provided, and only that one', { timeout: 60_000 }, async () => {
  const tools = inject('tools');
  await CriuKernelCache.prepare(tools.criu, 'auto');
  // The "crash": the run never removed it.
  const removed = await cleanupLocalHost({ ...tools, checkpointDirs: [] });
  expect(removed).toContain(CRIU_KDAT);
  expect(existsSync(CRIU_KDAT)).toBe(false);
  expect(migbenchObjects()).toEqual(NOTHING);

  // Someone else's cache (no marker): used as found, never removed.
  const provided = await CriuKernelCache.prepare(tools.criu, 'auto');
  const copy = `${tmpdir()}/criu.kdat.someone-else`;
  copyFileSync(CRIU_KDAT, copy);
  await provided.remove();
  copyFileSync(copy, CRIU_KDAT);
  try {
    const found = await CriuKernelCache.prepare(tools.criu, 'auto');
    expect(found.state).toBe('host-file');
    await found.remove();
    expect(await cleanupLocalHost({ ...tools, checkpointDirs: [] })).not.toContain(CRIU_KDAT);
    expect(existsSync(CRIU_KDAT)).toBe(true);
  } finally {
    rmSync(CRIU_KDAT, { force: true });
    rmSync(copy, { force: true });
  }
});

it.runIf(runIsTmpfs)('on a host whose /run is a tmpfs, CRIU keeps its own cache and migbench adds none', async () => {
  const cache = await CriuKernelCache.prepare(inject('tools').criu, 'auto');
  expect(cache.state).toBe('host-tmpfs');
  expect(existsSync(PROVIDED_MARKER)).toBe(false);
});
