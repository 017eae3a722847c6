// Holm and Benjamini–Hochberg adjusted p-values against statsmodels 0.15 (`multipletests(p,
// alpha=0.05, method='holm' | 'fdr_bh')`, identical to SciPy 1.17's `false_discovery_control(p)`),
// computed once for these hand-made inputs and written here.
import { describe, expect, it } from 'vitest';
import { benjaminiHochbergAdjust, holmAdjust } from '../../src/stats/multiple-testing.ts';

const cases: { name: string; p: number[]; holm: number[]; bh: number[] }[] = [
  { name: 'four tests, unsorted', p: [0.01, 0.04, 0.03, 0.005], holm: [0.03, 0.06, 0.06, 0.02], bh: [0.02, 0.04, 0.04, 0.02] },
  {
    name: "ten tests (Benjamini & Hochberg's style of example)",
    p: [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216],
    holm: [0.01, 0.072, 0.312, 0.312, 0.312, 0.312, 0.312, 0.615, 0.615, 0.615],
    bh: [0.01, 0.04, 0.084, 0.084, 0.084, 0.1, 0.10571428571428572, 0.216, 0.216, 0.216],
  },
  {
    name: "a nightly's family: two cells at the exact 6-vs-6 Mann–Whitney floor (2/924), the rest noise",
    p: [0.5, 0.5, 0.002, 1.0, 0.0021645021645021645, 0.03],
    holm: [1, 1, 0.012, 1, 0.012, 0.12],
    bh: [0.6, 0.6, 0.006493506493506494, 1, 0.006493506493506494, 0.06],
  },
  { name: 'one test: unchanged', p: [0.04], holm: [0.04], bh: [0.04] },
  { name: 'ties', p: [0.02, 0.02, 0.02], holm: [0.06, 0.06, 0.06], bh: [0.02, 0.02, 0.02] },
];

describe.each(cases)('$name', ({ p, holm, bh }) => {
  it('Holm', () => holmAdjust(p).forEach((v, i) => expect(v).toBeCloseTo(holm[i]!, 12)));
  it('Benjamini–Hochberg', () => benjaminiHochbergAdjust(p).forEach((v, i) => expect(v).toBeCloseTo(bh[i]!, 12)));
});

describe('edge cases', () => {
  it('an empty family adjusts nothing', () => {
    expect(holmAdjust([])).toEqual([]);
    expect(benjaminiHochbergAdjust([])).toEqual([]);
  });
  it('adjusted p-values are never below the raw ones and never above 1', () => {
    const p = [0.9, 0.3, 0.0001, 0.7];
    for (const adjust of [holmAdjust, benjaminiHochbergAdjust]) adjust(p).forEach((v, i) => expect(v >= p[i]! && v <= 1).toBe(true));
  });
  it('rejects a value that is not a p-value', () => {
    expect(() => holmAdjust([0.1, 1.2])).toThrow(RangeError);
    expect(() => benjaminiHochbergAdjust([Number.NaN])).toThrow(RangeError);
  });
});
