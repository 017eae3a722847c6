// criu-precopy needs the kernel's dirty-memory tracking. Where CRIU says it is missing (this
// machine's kernel), the strategy is reported as unsupported with CRIU's reason — before any trial,
// as trials.csv rows with status `unsupported` — and the run still exits 0.
import { afterAll, expect, inject, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parse } from 'csv-parse/sync';
import { migbench } from '../../helpers/cli.ts';

const dirtyTracking = (() => {
  try {
    execFileSync(inject('tools').criu, ['check', '--feature', 'mem_dirty_track'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const dir = mkdtempSync(`${tmpdir()}/migbench-precopy-`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it.skipIf(dirtyTracking)('reports criu-precopy as unsupported, with the reason, on a kernel without dirty tracking', { timeout: 120_000 }, () => {
  writeFileSync(
    `${dir}/precopy.yaml`,
    [
      'name: precopy',
      'workloads: [{ type: redis, keys: 1000 }]',
      'strategies: [criu-precopy, criu]',
      'repetitions: 2',
      'timing: { settleMs: 300, observeMs: 500 }',
    ].join('\n'),
  );
  const { code, stdout, stderr } = migbench(['run', `${dir}/precopy.yaml`, '--out', `${dir}/out`]);
  expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
  const trials = parse(readFileSync(`${dir}/out/trials.csv`, 'utf8'), { columns: true }) as Record<string, string>[];
  const precopy = trials.filter((t) => t.strategy === 'criu-precopy');
  expect(precopy).toHaveLength(2);
  for (const t of precopy) {
    expect(t.status).toBe('unsupported');
    expect(t.error).toMatch(/^unsupported: the kernel has no dirty-memory tracking/);
    expect(t.downtime_ms).toBe('');
  }
  // The other strategy ran as usual, and the summary does not count the unsupported trials as failed.
  expect(trials.filter((t) => t.strategy === 'criu').map((t) => t.status)).toEqual(['ok', 'ok']);
  expect(stdout).toMatch(/criu-precopy\s+0\s+0/);
  const run = JSON.parse(readFileSync(`${dir}/out/run.json`, 'utf8')) as { trials: Record<string, number> };
  expect(run.trials).toMatchObject({ ok: 2, failed: 0, unsupported: 2 });
});
