// Drift, for real: scenarios/smoke.yaml run twice on this host (root, the shared lock), the second
// time with two CPU hogs beside it; `migbench compare` must flag the pair as unreliable, from the
// host_* columns the runs wrote (real /proc and cgroup counters, real busy processes).
import { afterAll, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parse } from 'csv-parse/sync';
import { migbench } from '../helpers/cli.ts';

const root = mkdtempSync(`${tmpdir()}/migbench-drift-`);
const hogs: ChildProcess[] = [];
afterAll(() => {
  for (const hog of hogs) hog.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const otherCpu = (dir: string) =>
  (parse(readFileSync(`${dir}/trials.csv`, 'utf8'), { columns: true }) as Record<string, string>[]).map((r) => Number(r.host_other_cpu_pct));

it('a run with CPU hogs beside it is flagged against one without', { timeout: 600_000 }, () => {
  const quiet = migbench(['run', 'scenarios/smoke.yaml', '--out', `${root}/quiet`, '--quiet']);
  expect(quiet.code, quiet.stderr).toBe(0);
  // One busy loop per CPU of this 2-core host: processes that are not migbench's nor its pods'.
  for (let i = 0; i < 2; i++) hogs.push(spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
  const busy = migbench(['run', 'scenarios/smoke.yaml', '--out', `${root}/busy`, '--quiet']);
  for (const hog of hogs) hog.kill('SIGKILL');
  expect(busy.code, busy.stderr).toBe(0);

  const [q, b] = [otherCpu(`${root}/quiet`), otherCpu(`${root}/busy`)];
  // The hogs' CPU shows in every busy trial (the quiet run may still catch other users of the host).
  expect(Math.min(...b)).toBeGreaterThan(Math.min(...q) + 10);
  const { code, stdout } = migbench(['compare', `${root}/quiet`, `${root}/busy`]);
  expect(code).toBe(0); // one trial per cell: nothing can be a regression
  expect(stdout).toMatch(
    /warning: other processes' CPU differed: median host_other_cpu_pct [\d.]+ % in the baseline vs [\d.]+ % in the current run \(bound ±10 points\): the verdict is unreliable/,
  );
  expect(stdout).toMatch(/RESULT: no regression \(UNRELIABLE/);
  const run = JSON.parse(readFileSync(`${root}/busy/run.json`, 'utf8')) as { environment: { loadavg: number[]; memoryPressureAvailable: boolean } };
  expect(run.environment.loadavg).toHaveLength(3);
});
