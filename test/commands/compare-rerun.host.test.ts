// `migbench compare --rerun HEAD` for real (root, the shared host lock): the committed code and this
// checkout's, both running scenarios/smoke.yaml in 2 rounds (ABBA), merged per arm and compared.
import { afterAll, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { parse } from 'csv-parse/sync';
import { migbench } from '../helpers/cli.ts';

const out = mkdtempSync(`${tmpdir()}/migbench-rerun-test-`);
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('runs both arms interleaved, merges each, compares them; the temporary worktree is gone', { timeout: 600_000 }, () => {
  const { code, stdout, stderr } = migbench(['compare', '--rerun', 'HEAD', '--scenario', 'scenarios/smoke.yaml', '--reps', '2', '--rounds', '2', '--out', out]);
  expect([0, 3, 4]).toContain(code);
  // ABBA: round 1 baseline first, round 2 current first.
  expect([...stderr.matchAll(/round (\d)\/2, (baseline|current)/g)].map((m) => `${m[1]}${m[2]}`)).toEqual(['1baseline', '1current', '2current', '2baseline']);
  for (const arm of ['baseline', 'current']) {
    const rows = parse(readFileSync(`${out}/${arm}/trials.csv`, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.trial)).toEqual(['1', '2', '3', '4']); // smoke: 2 cells × 1 rep per round × 2 rounds
    expect(new Set(rows.map((r) => r.strategy))).toEqual(new Set(['criu', 'redeploy']));
  }
  expect(stdout).toMatch(/migbench: rerun-current vs baseline rerun-baseline-[0-9a-f]{12}/);
  expect(spawnSync('git', ['worktree', 'list'], { encoding: 'utf8' }).stdout).not.toContain('migbench-rerun-');
  expect(existsSync(`${out}/rounds/1-baseline/trials.csv`)).toBe(true);
});
