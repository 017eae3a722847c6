// `migbench compare` as CI calls it: results directories written by the real writers, exit code 0
// when nothing changed, 3 on a regression, 2 on bad input; the Markdown file for the job summary.
import { afterAll, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { migbench } from '../helpers/cli.ts';
import { ResultsDir } from '../../src/results/results-dir.ts';
import { computeTrialMetrics } from '../../src/metrics/trial-metrics.ts';
import { seededRandom } from '../../src/plan/random.ts';
import type { TrialResult } from '../../src/model/trial-result.ts';
import type { Sample } from '../../src/model/timeline.ts';

const root = mkdtempSync(`${tmpdir()}/migbench-compare-`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A trial whose probe saw one outage of `outageMs` (5 ms ticks) right after the trigger. */
function trial(trialNo: number, strategy: string, outageMs: number): TrialResult {
  const triggerAt = 1000;
  const samples: Sample[] = [];
  for (let t = -500; t <= 3000; t += 5) {
    const ok = !(t >= 10 && t < 10 + outageMs);
    samples.push({ probe: 'redis', scheduledAt: triggerAt + t, sentAt: triggerAt + t, doneAt: triggerAt + t + 0.8, ok, error: ok ? '' : 'timeout' });
  }
  return {
    runId: 'r',
    trial: trialNo,
    workload: 'redis',
    strategy,
    repetition: trialNo,
    warmup: false,
    status: 'ok',
    startedAt: new Date(0),
    timeline: { triggerAt, samples, events: [] },
    probeIntervalMs: 5,
    strategyFinishedAt: triggerAt + outageMs + 20,
    probeRecords: [],
  };
}

function writeRun(name: string, seed: number, redeployMs: number): string {
  const dir = `${root}/${name}`;
  const results = new ResultsDir(dir);
  results.open();
  const random = seededRandom(seed);
  let n = 0;
  for (let rep = 1; rep <= 8; rep++) {
    for (const [strategy, centre] of [
      ['criu', 380],
      ['redeploy', redeployMs],
    ] as const) {
      const t = trial(++n, strategy, Math.round((centre * (0.95 + 0.1 * random())) / 5) * 5);
      results.appendTrial(t, computeTrialMetrics(t).metrics);
    }
  }
  return dir;
}

const baseline = writeRun('baseline', 1, 150);
const same = writeRun('same', 2, 150);
const slower = writeRun('slower', 3, 260);

// Each case spawns the CLI (Node start-up, dependency check): allow for a busy 2-core host.
it('exits 0 and shows `~` when nothing changed', { timeout: 60_000 }, () => {
  const { code, stdout } = migbench(['compare', baseline, same]);
  expect(code).toBe(0);
  expect(stdout).toMatch(/redeploy\s+downtime_ms\s.*~/);
  expect(stdout).not.toContain('REGRESSION');
});

it('exits 3 and names the metric when one strategy got slower; writes the Markdown summary', { timeout: 60_000 }, () => {
  const md = `${root}/summary.md`;
  const { code, stdout } = migbench(['compare', baseline, slower, '--markdown', md, '--threshold', 'migration_ms=+100%']);
  expect(code).toBe(3);
  expect(stdout).toMatch(/redeploy\s+downtime_ms\s.*REGRESSION/);
  expect(stdout).toMatch(/criu\s+downtime_ms\s.*~/);
  expect(stdout).toMatch(/redeploy\s+migration_ms\s.*~/); // loosened by the flag
  expect(readFileSync(md, 'utf8')).toMatch(/❌ regression/);
});

it('rejects bad input with exit 2 and a message naming it', { timeout: 60_000 }, () => {
  const bad = migbench(['compare', baseline, same, '--threshold', 'downtime=+10%']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('unknown metric "downtime"');
  const missing = migbench(['compare', `${root}/nope`, same]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain(`${root}/nope`);
  expect(existsSync(`${root}/nope`)).toBe(false);
});
