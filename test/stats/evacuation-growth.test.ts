import { describe, expect, it } from 'vitest';
import { contentionOnset, evacuationGrowth } from '../../src/stats/evacuation-growth.ts';

describe('contentionOnset', () => {
  it.each([
    {
      name: 'the first x more than 25 % above the smallest x',
      points: [
        { x: 4, y: 130 },
        { x: 1, y: 100 },
        { x: 2, y: 125 },
      ],
      onset: 4,
    },
    {
      name: 'none when every y stays within the margin',
      points: [
        { x: 1, y: 100 },
        { x: 2, y: 110 },
      ],
      onset: undefined,
    },
    {
      name: 'none when the smallest x has no y',
      points: [
        { x: 1, y: undefined },
        { x: 2, y: 500 },
      ],
      onset: undefined,
    },
  ])('$name', ({ points, onset }) => {
    expect(contentionOnset(points)).toBe(onset);
  });
});

describe('evacuationGrowth', () => {
  it('fits total time and per-pod downtime against the pod count, per strategy × concurrency, with medians per count', () => {
    const fits = evacuationGrowth([
      { strategy: 'criu', concurrency: 1, pods: 1, totalMs: 500, downtimeP50Ms: 400 },
      { strategy: 'criu', concurrency: 1, pods: 1, totalMs: 700, downtimeP50Ms: 400 },
      { strategy: 'criu', concurrency: 1, pods: 2, totalMs: 1_100, downtimeP50Ms: 420 },
      { strategy: 'criu', concurrency: 1, pods: 4, totalMs: 2_300, downtimeP50Ms: 600 },
      { strategy: 'drain', concurrency: 2, pods: 2, totalMs: 300 },
    ]);
    expect(fits.map((f) => [f.strategy, f.concurrency])).toEqual([
      ['criu', 1],
      ['drain', 2],
    ]);
    const criu = fits[0]!;
    expect(criu.byPods).toEqual([
      { pods: 1, evacuations: 2, totalMs: 500, downtimeP50Ms: 400 },
      { pods: 2, evacuations: 1, totalMs: 1_100, downtimeP50Ms: 420 },
      { pods: 4, evacuations: 1, totalMs: 2_300, downtimeP50Ms: 600 },
    ]);
    // Least squares over the four evacuations: x = 1, 1, 2, 4; y = 500, 700, 1100, 2300 (means 2 and 1150, Sxy 3400, Sxx 6) → slope 1700/3 ms per pod, intercept 50/3.
    expect(criu.totalFit!.slope).toBeCloseTo(1_700 / 3, 9);
    expect(criu.totalFit!.intercept).toBeCloseTo(50 / 3, 9);
    expect(criu.totalFit!.n).toBe(4);
    // 600 > 400 × 1.25: contention shows at 4 pods, not at 2 (420 ≤ 500).
    expect(criu.contentionAtPods).toBe(4);
    // One pod count only: no line, and no downtime to judge contention by.
    expect(fits[1]!.totalFit).toBeUndefined();
    expect(fits[1]!.contentionAtPods).toBeUndefined();
  });

  it("starts every limit's line from the evacuations that moved all their pods at once with fewer pods", () => {
    const fits = evacuationGrowth([
      { strategy: 'criu', concurrency: 1, pods: 1, totalMs: 500, downtimeP50Ms: 400 },
      { strategy: 'criu', concurrency: 2, pods: 2, totalMs: 700, downtimeP50Ms: 540 },
      { strategy: 'criu', concurrency: 2, pods: 4, totalMs: 1_300, downtimeP50Ms: 520 },
    ]);
    const two = fits.find((f) => f.concurrency === 2)!;
    expect(two.byPods.map((b) => b.pods)).toEqual([1, 2, 4]);
    // 540 > 400 × 1.25: two pods at once already contend.
    expect(two.contentionAtPods).toBe(2);
    expect(fits.find((f) => f.concurrency === 1)!.byPods.map((b) => b.pods)).toEqual([1]);
  });
});
