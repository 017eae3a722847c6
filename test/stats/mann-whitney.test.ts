// Mann–Whitney U against values SciPy 1.16 gives for the same data (scipy.stats.mannwhitneyu,
// method 'auto' unless noted), and against its defining properties on simulated data.
import { describe, expect, it } from 'vitest';
import { mannWhitneyU, minimumAttainableP, standardNormalCdf } from '../../src/stats/mann-whitney.ts';
import { seededRandom } from '../../src/plan/random.ts';

describe('known values', () => {
  it('complete separation, 5 vs 5: exact p = 2 / C(10,5)', () => {
    expect(mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])).toEqual({ u: 0, p: 2 / 252, method: 'exact' });
  });
  it("SciPy's documentation example (males vs females): U = 17, exact p = 0.1111", () => {
    const r = mannWhitneyU([19, 22, 16, 29, 24], [20, 11, 17, 12]);
    expect(r.u).toBe(17);
    expect(r.method).toBe('exact');
    expect(r.p).toBeCloseTo(0.1111111111, 9);
  });
  it('ties use mid-ranks and the tie-corrected normal approximation', () => {
    const r = mannWhitneyU([1, 2, 2, 3, 4, 5, 6, 7, 8, 9], [3, 4, 5, 5, 6, 7, 8, 9, 10, 11]);
    expect(r.u).toBe(29);
    expect(r.method).toBe('normal');
    expect(r.p).toBeCloseTo(0.11968367039603052, 6);
  });
  it('larger samples use the normal approximation with continuity correction', () => {
    const x = Array.from({ length: 20 }, (_, i) => i + 1);
    const r = mannWhitneyU(
      x,
      x.map((v) => v + 5.5),
    );
    expect(r.u).toBe(105);
    expect(r.p).toBeCloseTo(0.010581211443165648, 6);
  });
  it('4 vs 3 interleaved: exact p = 0.4', () => {
    expect(mannWhitneyU([1.1, 2.2, 3.3, 4.4], [0.5, 1.5, 2.5]).p).toBeCloseTo(0.4, 12);
  });
  it('identical samples give p = 1, and the test is symmetric in its arguments', () => {
    expect(mannWhitneyU([5, 5, 5], [5, 5, 5]).p).toBe(1);
    const x = [3.1, 4.7, 2.2, 9.9, 5.5, 6.1];
    const y = [7.2, 8.8, 6.6, 9.1, 10.4];
    expect(mannWhitneyU(x, y).p).toBeCloseTo(mannWhitneyU(y, x).p, 12);
    expect(mannWhitneyU(x, y).u + mannWhitneyU(y, x).u).toBe(x.length * y.length);
  });
  it('the smallest attainable p says when n is too small for α = 0.05', () => {
    expect(minimumAttainableP(3, 3)).toBeCloseTo(0.1, 12);
    expect(minimumAttainableP(5, 5)).toBeCloseTo(2 / 252, 12);
  });
  it('standard normal CDF', () => {
    expect(standardNormalCdf(0)).toBeCloseTo(0.5, 7);
    expect(standardNormalCdf(1.959963985)).toBeCloseTo(0.975, 6);
    expect(standardNormalCdf(-1)).toBeCloseTo(0.158655254, 6);
  });
  it('rejects empty samples', () => {
    expect(() => mannWhitneyU([], [1])).toThrow(RangeError);
  });
});

describe('on simulated data', () => {
  const exponential = (random: () => number, mean: number) => -mean * Math.log(1 - random());
  it('false positives stay near α when both sides come from the same skewed distribution', () => {
    const random = seededRandom(7);
    let rejections = 0;
    const runs = 2000;
    for (let i = 0; i < runs; i++) {
      const x = Array.from({ length: 10 }, () => exponential(random, 300));
      const y = Array.from({ length: 10 }, () => exponential(random, 300));
      if (mannWhitneyU(x, y).p < 0.05) rejections++;
    }
    expect(rejections / runs).toBeGreaterThan(0.02);
    expect(rejections / runs).toBeLessThan(0.07);
  });
  it('detects a doubled median most of the time with 10 trials per side', () => {
    const random = seededRandom(11);
    let detections = 0;
    for (let i = 0; i < 500; i++) {
      const x = Array.from({ length: 10 }, () => 300 + 20 * random());
      const y = Array.from({ length: 10 }, () => 330 + 20 * random());
      if (mannWhitneyU(x, y).p < 0.05) detections++;
    }
    expect(detections / 500).toBeGreaterThan(0.9);
  });
});
