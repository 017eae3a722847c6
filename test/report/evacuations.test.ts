import { describe, expect, it } from 'vitest';
import { evacuationCells, formatEvacuations } from '../../src/report/evacuations.ts';
import { renderHtmlReport } from '../../src/report/html-report.ts';
import type { ResultsData } from '../../src/report/read-results.ts';

const row = (strategy: string, pods: number, concurrency: number, totalMs: string, p50: string, extra: Record<string, string> = {}) => ({
  run_id: 'r',
  evacuation: '1',
  strategy,
  repetition: '1',
  warmup: 'false',
  pods: String(pods),
  concurrency: String(concurrency),
  targets: 'node-b',
  total_ms: totalMs,
  downtime_p50_ms: p50,
  downtime_p99_ms: p50,
  downtime_max_ms: p50,
  pods_failed: '0',
  bytes_moved: '0',
  ...extra,
});

const records = [
  row('criu', 1, 1, '500.000', '400.000'),
  row('criu', 2, 1, '1000.000', '400.000'),
  row('criu', 2, 1, '1200.000', '450.000', { pods_failed: '1' }),
  row('criu', 4, 1, '2000.000', '600.000'),
  row('criu', 4, 1, '9999.000', '9999.000', { warmup: 'true' }),
];

describe('the evacuations summary', () => {
  it('has medians per strategy × pods × concurrency (warm-ups left out) and the growth per added pod', () => {
    const cells = evacuationCells(records)!;
    expect(cells.body).toEqual([
      ['criu', '1', '1', '1', '500.0', '400.0', '400.0', '0'],
      ['criu', '2', '1', '2', '1000.0', '400.0', '400.0', '1'],
      ['criu', '4', '1', '1', '2000.0', '600.0', '600.0', '0'],
    ]);
    // total_ms over x = 1, 2, 2, 4 and y = 500, 1000, 1200, 2000: means 2.25 and 1175, Sxy 2325, Sxx 4.75: slope 489.47… ms per pod.
    expect(cells.growth).toEqual([
      expect.stringMatching(
        /^criu, 1 at once: total \+489\.5 ms per added pod \(r² 0\.97\), per-pod downtime \+\d+\.\d ms per added pod; contention from 4 pods$/,
      ),
    ]);
    expect(formatEvacuations(records)).toMatch(/^evacuations \(evacuations\.csv; medians over repetitions\)\nstrategy +pods/);
  });

  it('is absent from a run without evacuations', () => {
    expect(evacuationCells([])).toBeUndefined();
    expect(formatEvacuations([])).toBe('');
  });

  it('is a table in the HTML report, with the growth lines', async () => {
    const data: ResultsData = {
      dir: '/nowhere',
      trials: [],
      summary: [],
      segments: [],
      events: [],
      sampleCount: 0,
      problems: [],
      evacuations: records,
    };
    data.summary.push({ workload: 'redis-n1-c1', strategy: 'criu', ok: 1, failed: 0, medians: { downtime_ms: 400 }, anatomyMs: {} });
    const html = await renderHtmlReport(data);
    expect(html).toContain('<table id="evacuations" class="numeric">');
    expect(html).toContain('<li>criu, 1 at once: total +489.5 ms per added pod');
  });
});
