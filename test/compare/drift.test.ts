// Drift between the arms of a comparison: the medians of the host_* columns against the stated bounds.
import { describe, expect, it } from 'vitest';
import { checkDrift, DRIFT_BOUNDS } from '../../src/compare/drift.ts';
import { compareRuns } from '../../src/compare/compare.ts';
import { resolveThresholds } from '../../src/compare/thresholds.ts';
import { comparisonMarkdown } from '../../src/compare/format-markdown.ts';

const trials = (other: number[], extra: Record<string, string> = {}) =>
  other.map((o, i) => ({
    workload: 'redis',
    strategy: 'criu',
    status: 'ok',
    warmup: 'false',
    downtime_ms: String(300 + i),
    host_other_cpu_pct: String(o),
    host_steal_pct: '0',
    host_memory_pressure_pct: '',
    ...extra,
  }));

describe('checkDrift', () => {
  it.each([
    { name: 'same load', base: [2, 3, 4, 5], cur: [3, 4, 5, 6], unreliable: 0 },
    { name: 'at the bound (+10 points) still the same', base: [2, 3, 4, 5], cur: [12, 13, 14, 15], unreliable: 0 },
    { name: 'beyond it: unreliable', base: [2, 3, 4, 5], cur: [40, 45, 50, 55], unreliable: 1 },
    { name: 'also when the baseline was the busy one', base: [40, 45, 50, 55], cur: [2, 3, 4, 5], unreliable: 1 },
  ])('$name', ({ base, cur, unreliable }) => {
    expect(checkDrift(trials(base), trials(cur)).unreliable).toHaveLength(unreliable);
  });
  it('medians, not means: one busy trial does not make a run busy', () => {
    expect(checkDrift(trials([2, 3, 4, 5, 6]), trials([2, 3, 4, 5, 90])).unreliable).toEqual([]);
  });
  it('warm-ups do not count', () => {
    expect(checkDrift(trials([2, 3, 4]), [...trials([2, 3, 4]), ...trials([90, 90, 90, 90], { warmup: 'true' })]).unreliable).toEqual([]);
  });
  it('names the figure, both medians and the bound', () => {
    expect(checkDrift(trials([2, 3, 4]), trials([50, 50, 50])).unreliable[0]).toBe(
      "other processes' CPU differed: median host_other_cpu_pct 3.0 % in the baseline vs 50.0 % in the current run (bound ±10 points)",
    );
  });
  it('steal is bounded too', () => {
    expect(checkDrift(trials([2]), trials([2], { host_steal_pct: '8' })).unreliable[0]).toMatch(/CPU steal differed/);
  });
  it('a run from before the host_* columns: said, not judged', () => {
    const old = trials([1, 2]).map(({ host_other_cpu_pct: _o, host_steal_pct: _s, host_memory_pressure_pct: _m, ...rest }) => rest);
    const check = checkDrift(old, trials([50, 50]));
    expect(check.unreliable).toEqual([]);
    expect(check.unchecked).toEqual(['host_other_cpu_pct (baseline run has none)', 'host_steal_pct (baseline run has none)']);
  });
  it('the bounds are stated', () => {
    expect(DRIFT_BOUNDS.map((b) => [b.column, b.maxDifference])).toEqual([
      ['host_other_cpu_pct', 10],
      ['host_steal_pct', 5],
      ['host_memory_pressure_pct', 5],
    ]);
  });
});

it('compareRuns carries the drift: unreliable reasons, a warning, and the Markdown headline says so', () => {
  const c = compareRuns(trials([2, 3, 4, 5, 6, 7]), trials([50, 51, 52, 53, 54, 55]), { alpha: 0.05, thresholds: resolveThresholds({}).thresholds });
  expect(c.unreliable).toHaveLength(1);
  expect(c.warnings.join('\n')).toMatch(/the verdict is unreliable/);
  expect(comparisonMarkdown(c)).toMatch(/^## .*⚠ unreliable/);
  expect(c.hostLoad.find((a) => a.column === 'host_other_cpu_pct')).toEqual({ column: 'host_other_cpu_pct', baseline: 4, current: 52 });
});
