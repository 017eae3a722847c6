// The calibration bench's figures on hand-made runs: the three gates it reports side by side, and the
// resampled detection of a synthetic shift.
import { describe, expect, it } from 'vitest';
import { judge, resampledAA, resampledDetection } from '../../bench/calibration-figures.ts';
import { calibrationOrder } from '../../bench/calibrate.ts';

const gate = { alpha: 0.05, thresholds: { downtime_ms: '+10%', migration_ms: '+10%' } };
const cell = (strategy: string, downtimes: number[], latency: number[] = downtimes.map(() => 1)) =>
  downtimes.map((d, i) => ({
    workload: 'redis',
    strategy,
    status: 'ok',
    warmup: 'false',
    downtime_ms: String(d),
    migration_ms: String(400 + i),
    latency_p99_ms: String(latency[i]),
  }));

describe('judge', () => {
  it('an ungated metric that moved fails only the old, uncorrected every-metric gate', () => {
    const o = judge(cell('criu', [300, 301, 302, 303, 304, 305]), cell('criu', [300, 301, 302, 303, 304, 305], [3, 3.1, 3.2, 3.3, 3.4, 3.5]), gate);
    expect(o).toMatchObject({ holm: false, bh: false, uncorrected: true, flagged: [] });
  });
  it('a separated +30 % downtime fails every gate and names the cell', () => {
    const o = judge(cell('criu', [300, 301, 302, 303, 304, 305]), cell('criu', [390, 391, 392, 393, 394, 395]), gate);
    expect(o).toMatchObject({ holm: true, bh: true, uncorrected: true, flagged: ['criu downtime_ms'] });
  });
});

describe('resampling', () => {
  const pool = [
    ...cell(
      'criu',
      Array.from({ length: 30 }, (_, i) => 300 + ((i * 37) % 60)),
    ),
    ...cell(
      'drain',
      Array.from({ length: 30 }, (_, i) => 100 + ((i * 17) % 30)),
    ),
  ];
  it('A/A from one pool rarely fails the Holm gate', () => {
    expect(resampledAA(pool, gate, 6, 50).holm.hits).toBeLessThanOrEqual(3);
  });
  it('a +50 % shift of one cell is found far more often than a +5 % one', () => {
    const big = resampledDetection(pool, gate, 'redis criu', 10, 50, { effect: 0.5 });
    const small = resampledDetection(pool, gate, 'redis criu', 10, 50, { effect: 0.05 });
    expect(big.hits).toBeGreaterThan(40);
    expect(small.hits).toBeLessThan(5);
  });
});

it('calibrate: two plain runs first, then injected runs alternating with plain ones', () => {
  expect(calibrationOrder(4, 2, 1).map((r) => r.kind)).toEqual(['plain', 'plain', 'inject25', 'plain', 'inject10', 'plain', 'inject25']);
});
