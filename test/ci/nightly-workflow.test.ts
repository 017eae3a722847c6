// The nightly workflow uses the gate and the history: it restores the history, judges the run
// against the baseline and the history (appending tonight), plots it, and saves the history even when
// the judgement failed. The flags it passes must be ones `migbench compare` and `report` accept.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { parse } from 'yaml';

const workflow = parse(readFileSync(new URL('../../.github/workflows/nightly.yml', import.meta.url), 'utf8')) as {
  jobs: { nightly: { steps: { name?: string; uses?: string; run?: string; if?: string; with?: Record<string, string> }[] } };
};
const steps = workflow.jobs.nightly.steps;
const cli = readFileSync(new URL('../../src/cli.ts', import.meta.url), 'utf8');

it('restores the history, judges with it and appends, reports it, and saves it always', () => {
  const at = (pattern: RegExp) => steps.findIndex((s) => pattern.test(`${s.uses ?? ''} ${s.run ?? ''}`));
  const restore = at(/actions\/cache\/restore/);
  const judge = at(/migbench -- compare results\/baseline results\/nightly/);
  const report = at(/migbench -- report results\/nightly --history/);
  const save = at(/actions\/cache\/save/);
  expect([restore, judge, report, save].every((i) => i >= 0)).toBe(true);
  expect(restore < judge && judge < report && report < save).toBe(true);
  expect(steps[judge]!.run).toMatch(/--history "\$HISTORY" --append-history/);
  expect(steps[save]!.if).toBe('always()');
  expect(steps[restore]!.with!.path).toBe(steps[save]!.with!.path);
});

it('passes on the exit code (3 regression, 4 unreliable regression) and says what 4 means', () => {
  const judge = steps.find((s) => /compare results\/baseline/.test(s.run ?? ''))!;
  expect(judge.run).toMatch(/exit "\$code"/);
  expect(judge.run).toMatch(/"\$code" = 4/);
});

it('uses only flags the CLI defines', () => {
  for (const flag of ['history', 'append-history', 'markdown', 'csv']) expect(cli).toContain(`.option('${flag}'`);
});
