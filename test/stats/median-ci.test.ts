// The order-statistic interval for the median: known ranks for small n, and its coverage on
// simulated skewed data (the claim a reader relies on when reading "[lo, hi]").
import { expect, it } from 'vitest';
import { medianConfidenceInterval } from '../../src/stats/median-ci.ts';
import { seededRandom } from '../../src/plan/random.ts';

it('n = 10: the 2nd and 9th values, coverage 1 − 2·P(B ≤ 1) = 0.9785', () => {
  const ci = medianConfidenceInterval([10, 1, 9, 2, 8, 3, 7, 4, 6, 5])!;
  expect([ci.lower, ci.upper]).toEqual([2, 9]);
  expect(ci.coverage).toBeCloseTo(1 - (2 * (1 + 10)) / 1024, 12);
});

it('n = 6: the extremes (coverage 0.96875); n = 5 cannot reach 95 % at all', () => {
  expect(medianConfidenceInterval([1, 2, 3, 4, 5, 6])).toMatchObject({ lower: 1, upper: 6 });
  expect(medianConfidenceInterval([1, 2, 3, 4, 5])).toBeUndefined();
  expect(medianConfidenceInterval([1, 2, 3, 4, 5], 0.9)).toMatchObject({ lower: 1, upper: 5 });
  expect(medianConfidenceInterval([])).toBeUndefined();
});

it('covers the true median of a skewed distribution at least 95 % of the time', () => {
  const random = seededRandom(3);
  const trueMedian = 100 * Math.LN2; // exponential with mean 100
  let covered = 0;
  const runs = 3000;
  for (let i = 0; i < runs; i++) {
    const values = Array.from({ length: 15 }, () => -100 * Math.log(1 - random()));
    const ci = medianConfidenceInterval(values)!;
    if (ci.lower <= trueMedian && trueMedian <= ci.upper) covered++;
  }
  expect(covered / runs).toBeGreaterThan(0.94);
  expect(covered / runs).toBeLessThan(0.995); // not vacuous: the interval is not everything
});
