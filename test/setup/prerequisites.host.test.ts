// Integration (root, this host): the prerequisites are found, reported and ensured without
// installing anything when they are present. Features are compared with what CRIU itself says.
import { checkWorkloadPrerequisites, ensureWorkloadPrerequisites } from '../../src/setup/workload-prerequisites.ts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { exec } from '../../src/system/exec.ts';
import { CRIU_CACHE_DIR } from '../../src/setup/criu-cache.ts';
import { criuFeatures } from '../../src/criu/features.ts';
import { findCriu } from '../../src/setup/criu-detect.ts';
import { checkPrerequisites, ensurePrerequisites, PrerequisiteError, toolVersions } from '../../src/setup/prerequisites.ts';
import { versionAtLeast } from '../../src/setup/versions.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('findCriu', () => {
  it.skipIf(process.env.MIGBENCH_CRIU)('finds the cached CRIU ≥ 4.2 and `criu check` passes', async () => {
    const criu = await findCriu();
    expect(criu).toBeDefined();
    expect(criu!.source).toBe('cache');
    expect(criu!.path).toBe(`${CRIU_CACHE_DIR}/${criu!.version}/criu`);
    expect(versionAtLeast(criu!.version, '4.2')).toBe(true);
    const check = await exec(criu!.path, ['check'], { allowFailure: true });
    expect(check.exitCode).toBe(0);
  });

  it('reports dirty tracking and lazy pages as `criu check --feature` does', async () => {
    const criu = (await findCriu())!;
    const feature = async (name: string) => (await exec(criu.path, ['check', '--feature', name], { allowFailure: true })).exitCode === 0;
    expect(await criuFeatures(criu.path)).toEqual({
      dirtyTracking: await feature('mem_dirty_track'),
      lazyPages: await feature('uffd-noncoop'),
    });
  });
});

describe('checkPrerequisites', () => {
  it('passes every check on this host, one per prerequisite', async () => {
    const checks = await checkPrerequisites();
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.map((c) => c.name)).toEqual([
      'root',
      'Linux kernel',
      'cgroup cpuset',
      'runc',
      'CRIU',
      'CRIU dirty tracking',
      'CRIU lazy pages',
      'iptables',
      'ip (iproute2)',
      'redis-server',
      'network namespaces',
    ]);
  });

  it('reports the CRIU features as found (missing ones stay informational)', async () => {
    const checks = await checkPrerequisites();
    const criu = (await findCriu())!;
    const features = await criuFeatures(criu.path);
    const found = (name: string) => checks.find((c) => c.name === name)!.found;
    expect(found('CRIU dirty tracking')).toBe(features.dirtyTracking ? 'available: criu-precopy possible' : 'missing: criu-precopy unavailable');
    expect(found('CRIU lazy pages')).toBe(features.lazyPages ? 'available: criu-lazy possible' : 'missing: criu-lazy unavailable');
  });
});

describe('ensurePrerequisites', () => {
  it('is idempotent and quick when everything is present', async () => {
    const lines: string[] = [];
    const first = await ensurePrerequisites((l) => lines.push(l));
    const started = performance.now();
    const second = await ensurePrerequisites((l) => lines.push(l));
    expect(performance.now() - started).toBeLessThan(3000);
    expect(second).toEqual(first);
    expect(lines).toEqual([]); // nothing installed, nothing built
    expect(second.criu).toBe((await findCriu())!.path);
    for (const tool of [second.runc, second.iptables, second.ip, second.redisServer]) expect(tool).toMatch(/^\//);
  });

  it('returns the versions run.json records', async () => {
    const versions = toolVersions(await ensurePrerequisites(() => {}));
    expect(Object.keys(versions).sort()).toEqual(['criu', 'iptables', 'kernel', 'node', 'redis', 'runc']);
    expect(versions.node).toBe(process.version);
    expect(versionAtLeast(versions.criu!, '4.2')).toBe(true);
    for (const v of Object.values(versions)) expect(v).not.toBe('unknown');
  });

  it('refuses to run without root, saying what to run instead', async () => {
    vi.spyOn(process, 'getuid').mockReturnValue(1000);
    const error = await ensurePrerequisites(() => {}, 'npm run bench -- scenarios/smoke.yaml').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrerequisiteError);
    expect((error as PrerequisiteError).message).toBe(
      'migbench needs root (it creates network namespaces, runs runc and CRIU). Run: sudo npm run bench -- scenarios/smoke.yaml',
    );
    expect((error as PrerequisiteError).fix).toBe('sudo npm run bench -- scenarios/smoke.yaml');
  });
});

describe('ensureWorkloadPrerequisites', () => {
  it('has what every workload needs (the global setup installed it), quickly, with the package versions', async () => {
    const lines: string[] = [];
    const started = performance.now();
    const versions = await ensureWorkloadPrerequisites(['redis', 'video', 'ml-training'], (l) => lines.push(l));
    expect(performance.now() - started).toBeLessThan(3000); // finds torch without importing it
    expect(lines).toEqual([]);
    expect(Object.keys(versions).sort()).toEqual(['python3', 'python3-torch']);
    expect(versions['python3-torch']).toMatch(/^\d/);
    expect(await ensureWorkloadPrerequisites(['redis'], () => {})).toEqual({});
  });

  it('tells doctor which workloads need which package', async () => {
    expect(await checkWorkloadPrerequisites()).toEqual([
      { name: 'python3 (video, ml-training)', ok: true, found: 'installed' },
      { name: 'PyTorch for /usr/bin/python3 (ml-training)', ok: true, found: 'installed' },
    ]);
  });
});
