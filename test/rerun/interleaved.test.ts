// The plan and the merge of `compare --rerun` (the runs themselves: test/commands/compare-rerun.host.test.ts).
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { mergeRounds, planRounds } from '../../src/rerun/interleaved.ts';
import { migbench } from '../helpers/cli.ts';

describe('planRounds', () => {
  it.each([
    {
      reps: 6,
      rounds: 3,
      want: [
        [1, 'baseline', 2],
        [2, 'current', 2],
        [3, 'baseline', 2],
      ],
    },
    {
      reps: 5,
      rounds: 2,
      want: [
        [1, 'baseline', 3],
        [2, 'current', 2],
      ],
    },
    {
      reps: 2,
      rounds: 3,
      want: [
        [1, 'baseline', 1],
        [2, 'current', 1],
      ],
    },
  ])('$reps repetitions in $rounds rounds, ABBA', ({ reps, rounds, want }) => {
    const plan = planRounds(reps, rounds);
    expect(plan.map((r) => [r.round, r.order[0], r.reps])).toEqual(want);
    expect(plan.every((r) => new Set(r.order).size === 2)).toBe(true);
    expect(plan.reduce((a, r) => a + r.reps, 0)).toBe(reps);
  });
});

describe('mergeRounds', () => {
  const root = mkdtempSync(`${tmpdir()}/migbench-merge-`);
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const round = (name: string, rows: string[]) => {
    mkdirSync(`${root}/${name}`);
    writeFileSync(`${root}/${name}/trials.csv`, `run_id,trial,workload,error\n${rows.join('\n')}\n`);
    writeFileSync(`${root}/${name}/run.json`, JSON.stringify({ runId: name, scenario: { name: 'smoke' } }));
  };
  it('concatenates the rounds, renumbers the trials, names the arm, keeps quoted cells whole', () => {
    round('r1', ['a,1,redis,', 'a,2,redis,"x, y"']);
    round('r2', ['b,1,redis,']);
    mergeRounds([`${root}/r1`, `${root}/r2`], `${root}/arm`, 'rerun-current');
    expect(readFileSync(`${root}/arm/trials.csv`, 'utf8')).toBe(
      'run_id,trial,workload,error\nrerun-current,1,redis,\nrerun-current,2,redis,"x, y"\nrerun-current,3,redis,\n',
    );
    expect(JSON.parse(readFileSync(`${root}/arm/run.json`, 'utf8'))).toMatchObject({
      runId: 'rerun-current',
      scenario: { name: 'smoke' },
      rerunRounds: [`${root}/r1`, `${root}/r2`],
    });
  });
});

describe('bad input: exit 2 before anything runs', () => {
  it.each([
    [['compare', '--rerun', 'no-such-commit-xyz', '--scenario', 'scenarios/smoke.yaml'], /--rerun no-such-commit-xyz: not a commit/],
    [['compare', '--rerun', 'HEAD'], /--rerun: needs --scenario FILE/],
    [['compare', 'a', 'b', '--rerun', 'HEAD', '--scenario', 'scenarios/smoke.yaml'], /--rerun: measures both arms itself/],
  ])(
    '%j',
    (args, message) => {
      const { code, stderr } = migbench(args as string[], { timeoutMs: 60_000 });
      expect(code).toBe(2);
      expect(stderr).toMatch(message);
    },
    60_000,
  );
});
