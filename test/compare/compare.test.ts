// The verdicts of `compare` on hand-made trial rows with known differences.
import { describe, expect, it } from 'vitest';
import { compareRuns, type Comparison } from '../../src/compare/compare.ts';
import { judgeChange, parseThreshold, resolveThresholds } from '../../src/compare/thresholds.ts';
import { seededRandom } from '../../src/plan/random.ts';
import { comparisonTable } from '../../src/compare/format-table.ts';
import { comparisonMarkdown } from '../../src/compare/format-markdown.ts';
import { comparisonCsv, comparisonColumns } from '../../src/compare/format-csv.ts';
import { parse } from 'csv-parse/sync';

type Row = Record<string, string>;

/** n ok trials per strategy with downtime around the given centre (±5 %), migration fixed around 400. */
function rows(seed: number, n: number, centre: Record<string, number>, extra: Partial<Row> = {}): Row[] {
  const random = seededRandom(seed);
  return Object.entries(centre).flatMap(([strategy, downtime]) =>
    Array.from({ length: n }, (_, i) => ({
      workload: 'redis',
      strategy,
      repetition: String(i + 1),
      status: 'ok',
      warmup: 'false',
      downtime_ms: (downtime * (0.95 + 0.1 * random())).toFixed(3),
      migration_ms: (400 * (0.95 + 0.1 * random())).toFixed(3),
      samples: '600',
      ...extra,
    })),
  );
}

const options = (entries: Record<string, string> = {}) => ({ alpha: 0.05, thresholds: resolveThresholds(entries).thresholds });
const verdicts = (c: Comparison) => Object.fromEntries(c.metrics.map((m) => [`${m.strategy} ${m.metric}`, m.verdict]));

describe('compareRuns', () => {
  it('two runs of the same thing: every metric `~`, no regression', () => {
    const c = compareRuns(rows(1, 10, { criu: 380, redeploy: 150 }), rows(2, 10, { criu: 380, redeploy: 150 }), options());
    expect(c.regression).toBe(false);
    expect(new Set(Object.values(verdicts(c)))).toEqual(new Set(['same']));
    expect(comparisonTable(c)).not.toContain('REGRESSION');
  });

  it('one strategy made 40 % slower: that metric of that strategy is the regression, nothing else', () => {
    const c = compareRuns(rows(1, 10, { criu: 380, redeploy: 150 }), rows(2, 10, { criu: 380, redeploy: 210 }), options());
    expect(c.regression).toBe(true);
    expect(verdicts(c)).toEqual({
      'criu downtime_ms': 'same',
      'criu migration_ms': 'same',
      'redeploy downtime_ms': 'regression',
      'redeploy migration_ms': 'same',
    });
    const row = c.metrics.find((m) => m.strategy === 'redeploy' && m.metric === 'downtime_ms')!;
    expect(row.relativeChange).toBeGreaterThan(0.3);
    expect(row.p).toBeLessThan(0.001);
    expect(comparisonTable(c)).toMatch(/redeploy\s+downtime_ms.*REGRESSION/);
  });

  it('a significant change within its threshold is `~`; a loosened threshold absorbs a regression', () => {
    const base = rows(1, 20, { criu: 380 });
    const slower = rows(2, 20, { criu: 380 * 1.3 });
    expect(verdicts(compareRuns(base, slower, options({ downtime_ms: '+50%' })))['criu downtime_ms']).toBe('same');
    expect(verdicts(compareRuns(base, slower, options({ downtime_ms: '+50' })))['criu downtime_ms']).toBe('regression');
  });

  it('faster is an improvement, not a regression', () => {
    const c = compareRuns(rows(1, 10, { criu: 380 }), rows(2, 10, { criu: 200 }), options());
    expect(verdicts(c)['criu downtime_ms']).toBe('improvement');
    expect(c.regression).toBe(false);
  });

  it('too few trials: a note, never a verdict', () => {
    const c = compareRuns(rows(1, 3, { criu: 380 }), rows(2, 3, { criu: 900 }), options());
    const row = c.metrics.find((m) => m.metric === 'downtime_ms')!;
    expect(row.verdict).toBe('same');
    expect(row.note).toMatch(/cannot reach p < 0.05/);
    expect(c.warnings.join('\n')).toMatch(/too few trials/);
  });

  it('more failed trials than the baseline is a regression even when medians match', () => {
    const current = [...rows(2, 10, { criu: 380 }), { workload: 'redis', strategy: 'criu', status: 'failed', warmup: 'false', downtime_ms: '' }];
    const c = compareRuns(rows(1, 10, { criu: 380 }), current, options());
    expect(c.trials[0]).toMatchObject({ baseline: { ok: 10, failed: 0 }, current: { ok: 10, failed: 1 }, regression: true });
    expect(c.regression).toBe(true);
  });

  it('ignores warm-ups and set-up columns, and warns about pairs on one side only', () => {
    const warm = rows(9, 5, { criu: 5000 }, { warmup: 'true' });
    const c = compareRuns([...rows(1, 10, { criu: 380 }), ...warm], [...rows(2, 10, { criu: 380, drain: 300 })], options());
    expect(c.metrics.find((m) => m.metric === 'downtime_ms')!.baseline.n).toBe(10);
    expect(c.metrics.some((m) => m.metric === 'samples')).toBe(false);
    expect(c.warnings).toContain('redis × drain: only in the current run; not compared');
  });
});

describe('output formats', () => {
  const c = compareRuns(rows(1, 10, { redeploy: 150 }), rows(2, 10, { redeploy: 210 }), options());
  it('Markdown has a header line with the result and one table row per metric', () => {
    const md = comparisonMarkdown(c, 'nightly');
    expect(md).toMatch(/^## nightly: ❌ regression/);
    expect(md.split('\n').filter((l) => l.startsWith('| redis'))).toHaveLength(2);
  });
  it('CSV carries the raw numbers', () => {
    const parsed = parse(comparisonCsv(c), { columns: true }) as Row[];
    expect(Object.keys(parsed[0]!)).toEqual(comparisonColumns);
    const row = parsed.find((r) => r.metric === 'downtime_ms')!;
    expect(row.verdict).toBe('regression');
    expect(Number(row.current_median)).toBeGreaterThan(Number(row.baseline_median));
    expect(Number(row.baseline_ci_low)).toBeLessThanOrEqual(Number(row.baseline_median));
  });
});

describe('thresholds', () => {
  it('parses relative and absolute thresholds with a direction', () => {
    expect(parseThreshold('+10%')).toMatchObject({ worse: 'increase', kind: 'relative', amount: 0.1 });
    expect(parseThreshold('-5%')).toMatchObject({ worse: 'decrease', kind: 'relative', amount: 0.05 });
    expect(parseThreshold('50')).toMatchObject({ worse: 'increase', kind: 'absolute', amount: 50 });
    expect(parseThreshold('ten')).toBeUndefined();
  });
  it('judges changes against them', () => {
    const t = parseThreshold('+10%')!;
    expect(judgeChange(100, 109, t)).toBe('within');
    expect(judgeChange(100, 111, t)).toBe('worse');
    expect(judgeChange(100, 80, t)).toBe('better');
    expect(judgeChange(0, 1, t)).toBe('worse');
    expect(judgeChange(100, 80, parseThreshold('-10%')!)).toBe('worse');
  });
  it('reports unknown metrics and malformed thresholds', () => {
    const { problems } = resolveThresholds({ downtime: '+10%', migration_ms: 'lots' });
    expect(problems.map((p) => p.entry)).toEqual(['downtime=+10%', 'migration_ms=lots']);
  });
});
