// Nearest rank: a reported percentile is always a value some sample really had.
import { describe, expect, it } from 'vitest';
import { percentile } from '../../src/metrics/percentile.ts';

const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);

describe('percentile', () => {
  it('picks the nearest rank on 1..100', () => {
    expect(percentile(oneToHundred, 99)).toBe(99);
    expect(percentile(oneToHundred, 50)).toBe(50);
    expect(percentile(oneToHundred, 100)).toBe(100);
    expect(percentile(oneToHundred, 0)).toBe(1);
    expect(percentile(oneToHundred, 99.5)).toBe(100);
  });

  it('never interpolates between two values', () => {
    expect(percentile([10, 20], 50)).toBe(10);
    expect(percentile([10, 20], 51)).toBe(20);
    expect(percentile([1, 2, 3, 4], 25)).toBe(1);
    expect(percentile([1, 2, 3, 4], 26)).toBe(2);
    expect(percentile([7], 99)).toBe(7);
  });

  it('sorts numerically, not as strings', () => {
    expect(percentile([100, 9, 20, 3], 100)).toBe(100);
    expect(percentile([100, 9, 20, 3], 50)).toBe(9);
  });

  it('is undefined for no values', () => {
    expect(percentile([], 50)).toBeUndefined();
  });

  it('does not modify its input', () => {
    const values = [5, 3, 9, 1];
    percentile(values, 50);
    expect(values).toEqual([5, 3, 9, 1]);
  });

  it('rejects p outside 0..100, also when there are no values', () => {
    expect(() => percentile(oneToHundred, 101)).toThrow(RangeError);
    expect(() => percentile(oneToHundred, -1)).toThrow(RangeError);
    expect(() => percentile(oneToHundred, Number.NaN)).toThrow(RangeError);
    // A wrong p is a programming error; it must not hide until a trial happens to have samples.
    expect(() => percentile([], 101)).toThrow(RangeError);
  });
});
