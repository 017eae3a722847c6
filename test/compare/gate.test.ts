// The gate of `compare` on hand-made runs whose Mann–Whitney p-values are exact (6 vs 6, no ties):
// only gated metrics can fail, their p-values are Holm-adjusted as one family, and a regression needs
// both adjusted p < α and a change beyond the threshold. Raw and adjusted p-values were computed once
// with SciPy 1.17 (`mannwhitneyu(current, baseline, method='auto')`) and statsmodels 0.15
// (`multipletests(p, method='holm')`) and are written here.
import { describe, expect, it } from 'vitest';
import { compareRuns, type MetricComparison } from '../../src/compare/compare.ts';
import { DEFAULT_GATE, resolveGate, resolveThresholds } from '../../src/compare/thresholds.ts';
import { comparisonCsv } from '../../src/compare/format-csv.ts';
import { comparisonMarkdown } from '../../src/compare/format-markdown.ts';
import { comparisonTable } from '../../src/compare/format-table.ts';
import type { MetricColumn } from '../../src/metrics/trial-metrics.ts';
import { parse } from 'csv-parse/sync';

type Row = Record<string, string>;

/** Per cell and metric: 6 baseline values, 6 current values. */
const data: Record<string, Record<string, [number[], number[]]>> = {
  criu: {
    downtime_ms: [
      [300, 310, 320, 330, 340, 350],
      [400, 410, 420, 430, 440, 450],
    ], // U = 36, p = 2/924; medians +31 %
    migration_ms: [
      [400, 402, 404, 406, 408, 410],
      [401, 403, 405, 407, 409, 411],
    ], // interleaved: p = 0.699
    latency_p99_ms: [
      [1, 1.1, 1.2, 1.3, 1.4, 1.5],
      [3, 3.1, 3.2, 3.3, 3.4, 3.5],
    ], // U = 36, p = 2/924; never gated below
    redis_acked_writes_lost: [
      [0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0],
    ], // every value equal: no test
  },
  redeploy: {
    downtime_ms: [
      [100, 102, 104, 106, 108, 110],
      [105, 109, 111, 112, 113, 114],
    ], // U = 32, p = 0.02597; medians +6.7 %
    migration_ms: [
      [200, 201, 202, 203, 204, 205],
      [206, 207, 208, 209, 210, 211],
    ], // U = 36, p = 2/924; +3.0 %
  },
};

function run(side: 0 | 1): Row[] {
  return Object.entries(data).flatMap(([strategy, metrics]) =>
    Array.from({ length: 6 }, (_, i) => ({
      workload: 'redis',
      strategy,
      status: 'ok',
      warmup: 'false',
      ...Object.fromEntries(Object.entries(metrics).map(([metric, values]) => [metric, String(values[side][i])])),
    })),
  );
}

const P_SEPARATED = 0.0021645021645021645;
const cases: {
  name: string;
  entries: Record<string, string>;
  gated: MetricColumn[];
  expect: Record<string, { p: number; pAdjusted?: number; verdict: MetricComparison['verdict']; signal?: 'worse' }>;
  regression: boolean;
  /** Size of the Holm family (tests of gated metrics that can reject). */
  family: number;
}[] = [
  {
    name: 'four gated tests: the +31 % is a regression; the raw p = 0.026 does not survive Holm; a significant +3 % is within +10 %',
    entries: { downtime_ms: '+5%', migration_ms: '+10%' },
    gated: ['downtime_ms', 'migration_ms'],
    expect: {
      'criu downtime_ms': { p: P_SEPARATED, pAdjusted: 0.008658008658008658, verdict: 'regression' },
      'criu migration_ms': { p: 0.6991341991341992, pAdjusted: 0.6991341991341992, verdict: 'same' },
      'criu latency_p99_ms': { p: P_SEPARATED, verdict: 'not-gated', signal: 'worse' },
      'redeploy downtime_ms': { p: 0.025974025974025976, pAdjusted: 0.05194805194805195, verdict: 'same' },
      'redeploy migration_ms': { p: P_SEPARATED, pAdjusted: 0.008658008658008658, verdict: 'same' },
    },
    regression: true,
    family: 4,
  },
  {
    name: 'a tighter migration threshold turns the significant +3 % into a regression',
    entries: { downtime_ms: '+5%', migration_ms: '+1%' },
    gated: ['downtime_ms', 'migration_ms'],
    expect: { 'redeploy migration_ms': { p: P_SEPARATED, pAdjusted: 0.008658008658008658, verdict: 'regression' } },
    regression: true,
    family: 4,
  },
  {
    name: 'gating downtime alone: a family of two, and the +6.7 % (p = 0.026) is now a regression',
    entries: { downtime_ms: '+5%' },
    gated: ['downtime_ms'],
    expect: {
      'criu downtime_ms': { p: P_SEPARATED, pAdjusted: 0.004329004329004329, verdict: 'regression' },
      'redeploy downtime_ms': { p: 0.025974025974025976, pAdjusted: 0.025974025974025976, verdict: 'regression' },
      'criu migration_ms': { p: 0.6991341991341992, verdict: 'not-gated' },
      'redeploy migration_ms': { p: P_SEPARATED, verdict: 'not-gated' }, // +3 % within the default +10 %: no signal
    },
    regression: true,
    family: 2,
  },
  {
    name: 'a gated metric whose every value is equal (0 writes lost) is no test: the family stays at two',
    entries: { downtime_ms: '+5%', redis_acked_writes_lost: '+5' },
    gated: ['downtime_ms', 'redis_acked_writes_lost'],
    expect: {
      'criu redis_acked_writes_lost': { p: 1, verdict: 'same' },
      'criu downtime_ms': { p: P_SEPARATED, pAdjusted: 0.004329004329004329, verdict: 'regression' },
      'redeploy downtime_ms': { p: 0.025974025974025976, pAdjusted: 0.025974025974025976, verdict: 'regression' },
    },
    regression: true,
    family: 2,
  },
  {
    name: 'gating only a metric that did not move: nothing fails, however large the ungated changes',
    entries: { migration_ms: '+10%' },
    gated: ['migration_ms'],
    expect: {
      'criu downtime_ms': { p: P_SEPARATED, verdict: 'not-gated', signal: 'worse' },
      'criu migration_ms': { p: 0.6991341991341992, pAdjusted: 0.6991341991341992, verdict: 'same' },
      'redeploy migration_ms': { p: P_SEPARATED, pAdjusted: 0.004329004329004329, verdict: 'same' },
    },
    regression: false,
    family: 2,
  },
];

describe.each(cases)('$name', ({ entries, gated, expect: expected, regression, family }) => {
  const c = compareRuns(run(0), run(1), { alpha: 0.05, thresholds: resolveThresholds(entries).thresholds, gated: new Set(gated) });
  it.each(Object.entries(expected))('%s', (key, want) => {
    const m = c.metrics.find((x) => `${x.strategy} ${x.metric}` === key)!;
    expect(m.p).toBeCloseTo(want.p, 12);
    if (want.pAdjusted === undefined) expect(m.pAdjusted).toBeUndefined();
    else expect(m.pAdjusted).toBeCloseTo(want.pAdjusted, 12);
    expect(m.verdict).toBe(want.verdict);
    expect(m.signal).toBe(want.signal);
  });
  it(`regression: ${regression}`, () => {
    expect(c.regression).toBe(regression);
    expect(c.gatedTests).toBe(family);
  });
});

describe('which metrics are gated', () => {
  it("the scenario's compare.thresholds, when it declares any", () => {
    expect([...resolveGate({ downtime_ms: '+5%' }, {}).gated]).toEqual(['downtime_ms']);
  });
  it('else the default set: downtime, migration and the losses', () => {
    expect([...resolveGate(undefined, {}).gated]).toEqual([
      'downtime_ms',
      'migration_ms',
      'redis_acked_writes_lost',
      'video_frames_lost',
      'training_steps_lost',
    ]);
    expect(Object.keys(DEFAULT_GATE)).toEqual([...resolveGate({}, {}).gated]);
  });
  it('flags add to the gate and override a threshold', () => {
    const { gated, thresholds } = resolveGate({ downtime_ms: '+5%' }, { downtime_ms: '+20%', latency_p99_ms: '+50%' });
    expect([...gated]).toEqual(['downtime_ms', 'latency_p99_ms']);
    expect(thresholds.get('downtime_ms')!.text).toBe('+20%');
  });
  it('reports a gated metric that is not a column', () => {
    expect(resolveGate({ downtime: '+5%' }, {}).problems[0]!.message).toMatch(/unknown metric "downtime"/);
  });
});

describe('the outputs say what is gated', () => {
  const c = compareRuns(run(0), run(1), {
    alpha: 0.05,
    thresholds: resolveThresholds({ downtime_ms: '+5%' }).thresholds,
    gated: new Set<MetricColumn>(['downtime_ms']),
  });
  it('table: gated rows first with their adjusted p, the rest marked not gated', () => {
    const lines = comparisonTable(c).split('\n');
    expect(lines[1]).toMatch(/criu\s+downtime_ms .*0\.002 \(adj 0\.004\)\s+\+31\.3% REGRESSION/);
    expect(lines.find((l) => /criu\s+latency_p99_ms/.test(l))).toMatch(/not gated \(\+.*% worse, uncorrected p < α\)/);
    expect(comparisonTable(c)).toMatch(/over the 2 gated tests/);
  });
  it('Markdown: the ungated metrics in a folded table', () => {
    const md = comparisonMarkdown(c);
    expect(md.indexOf('`latency_p99_ms`')).toBeGreaterThan(md.indexOf('<details>'));
    expect(md.indexOf('`downtime_ms`')).toBeLessThan(md.indexOf('<details>'));
  });
  it('CSV: gated, p_adjusted and signal columns', () => {
    const rows = parse(comparisonCsv(c), { columns: true }) as Row[];
    const latency = rows.find((r) => r.metric === 'latency_p99_ms')!;
    expect([latency.gated, latency.p_adjusted, latency.verdict, latency.signal]).toEqual(['false', '', 'not-gated', 'worse']);
    const downtime = rows.find((r) => r.metric === 'downtime_ms' && r.strategy === 'criu')!;
    expect([downtime.gated, Number(downtime.p_adjusted), downtime.verdict]).toEqual(['true', 0.004329004329004329, 'regression']);
  });
});
