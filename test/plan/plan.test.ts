// The trial order must be reproducible from the seed (so a run can be repeated exactly) and
// interleaved in rounds (so drift of the host spreads over every strategy).
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.ts';
import { planTrials, type PlannedTrial } from '../../src/plan/plan.ts';
import { seededRandom, shuffled } from '../../src/plan/random.ts';

const yaml = (seed: number, repetitions: number, warmup: number) =>
  [
    'workloads: [{ type: redis, name: small, keys: 10 }, { type: redis, name: big, keys: 1000 }, { type: redis, name: huge, keys: 5000 }]',
    'strategies: [criu, { name: redeploy, gracePeriodSeconds: 2 }]',
    `seed: ${seed}`,
    `repetitions: ${repetitions}`,
    `warmup: ${warmup}`,
    '',
  ].join('\n');

const plan = (seed: number, repetitions = 5, warmup = 2) => planTrials(parseScenario('t.yaml', yaml(seed, repetitions, warmup)).scenario);
const key = (t: PlannedTrial) => `${t.workloadName}×${t.strategy.name}`;
const order = (trials: PlannedTrial[]) => trials.map((t) => `${key(t)}#${t.repetition}${t.warmup ? 'w' : ''}`);
const PAIRS = ['small×criu', 'small×redeploy', 'big×criu', 'big×redeploy', 'huge×criu', 'huge×redeploy'];

describe('planTrials', () => {
  it('gives the same order for the same seed', () => {
    expect(order(plan(42))).toEqual(order(plan(42)));
  });

  it('gives a different order for a different seed', () => {
    // 7 rounds of 6 pairs: 720^7 orders, so two seeds agreeing would be a broken PRNG or no shuffle.
    expect(order(plan(1))).not.toEqual(order(plan(2)));
  });

  it('is actually shuffled, not the declaration order every round', () => {
    const rounds = chunk(plan(42, 10, 0), PAIRS.length).map((r) => r.map(key).join(','));
    expect(new Set(rounds).size).toBeGreaterThan(1);
  });

  it('has warm-up × pairs + repetitions × pairs trials, numbered 1..N in order', () => {
    const trials = plan(7, 5, 2);
    expect(trials).toHaveLength(6 * 2 + 6 * 5);
    expect(trials.map((t) => t.trial)).toEqual(Array.from({ length: 42 }, (_, i) => i + 1));
  });

  it('runs every warm-up first, marked, numbered 1..warmup per pair', () => {
    const trials = plan(7, 5, 2);
    const warmups = trials.slice(0, 12);
    expect(warmups.every((t) => t.warmup)).toBe(true);
    expect(trials.slice(12).every((t) => !t.warmup)).toBe(true);
    for (const pair of PAIRS) {
      expect(warmups.filter((t) => key(t) === pair).map((t) => t.repetition)).toEqual([1, 2]);
    }
  });

  it('numbers measured repetitions 1..repetitions per pair, separately from warm-ups', () => {
    const measured = plan(7, 5, 2).filter((t) => !t.warmup);
    for (const pair of PAIRS) {
      expect(measured.filter((t) => key(t) === pair).map((t) => t.repetition)).toEqual([1, 2, 3, 4, 5]);
    }
  });

  it('interleaves: every round holds each workload × strategy pair exactly once', () => {
    const rounds = chunk(plan(3, 5, 2), PAIRS.length);
    expect(rounds).toHaveLength(7);
    rounds.forEach((round, i) => {
      expect(round.map(key).sort()).toEqual([...PAIRS].sort());
      // A round is one repetition (warm-up rounds first).
      const expected = i < 2 ? { warmup: true, repetition: i + 1 } : { warmup: false, repetition: i - 1 };
      for (const t of round) expect({ warmup: t.warmup, repetition: t.repetition }).toEqual(expected);
    });
  });

  it('carries the configured workload and strategy objects', () => {
    const t = plan(1).find((x) => key(x) === 'big×redeploy')!;
    expect(t.workload).toMatchObject({ type: 'redis', name: 'big', keys: 1000 });
    expect(t.strategy).toEqual({ name: 'redeploy', gracePeriodSeconds: 2 });
  });

  it('names unnamed workloads by their type', () => {
    const trials = planTrials(parseScenario('t.yaml', 'workloads: [{ type: redis }]\nstrategies: [criu]\nrepetitions: 1\n').scenario);
    expect(trials.map((t) => [t.trial, t.workloadName, t.strategy.name, t.repetition, t.warmup])).toEqual([[1, 'redis', 'criu', 1, false]]);
  });

  it('plans no warm-ups when warmup is 0', () => {
    expect(plan(1, 2, 0).some((t) => t.warmup)).toBe(false);
  });
});

describe('planTrials with a sweep', () => {
  const swept = (seed: number) =>
    planTrials(
      parseScenario(
        't.yaml',
        [
          'workloads: [{ type: redis, valueBytes: 1000, sweep: { datasetMiB: [64, 512, 2048] } }, { type: video }]',
          'strategies: [criu, redeploy]',
          `seed: ${seed}`,
          'repetitions: 3',
          'warmup: 1',
          '',
        ].join('\n'),
      ).scenario,
    );
  const SWEPT_PAIRS = ['redis-64', 'redis-512', 'redis-2048', 'video'].flatMap((w) => [`${w}×criu`, `${w}×redeploy`]);

  it('expands each value into its own workload, interleaved: every round holds each value × strategy once', () => {
    const trials = swept(5);
    expect(trials).toHaveLength(SWEPT_PAIRS.length * 4);
    for (const round of chunk(trials, SWEPT_PAIRS.length)) expect(round.map(key).sort()).toEqual([...SWEPT_PAIRS].sort());
    // Shuffled, not value by value: the rounds do not all list the sizes in the same order.
    expect(new Set(chunk(trials, SWEPT_PAIRS.length).map((r) => r.map(key).join(','))).size).toBeGreaterThan(1);
  });

  it('runs each value with the field set to it, and says which parameter and value the trial has', () => {
    const t = swept(5).find((x) => x.workloadName === 'redis-2048')!;
    expect(t.workload).toMatchObject({ type: 'redis', name: 'redis-2048', datasetMiB: 2048, valueBytes: 1000 });
    expect(t.workload).not.toHaveProperty('sweep');
    expect(t.sweep).toEqual({ parameter: 'datasetMiB', value: 2048 });
    expect(swept(5).find((x) => x.workloadName === 'video')!.sweep).toBeUndefined();
  });

  it('is reproducible from the seed', () => {
    expect(order(swept(9))).toEqual(order(swept(9)));
    expect(order(swept(9))).not.toEqual(order(swept(10)));
  });
});

describe('seededRandom', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const take = (seed: number) => {
      const r = seededRandom(seed);
      return Array.from({ length: 20 }, () => r());
    };
    expect(take(5)).toEqual(take(5));
    expect(take(5)).not.toEqual(take(6));
  });

  it('is mulberry32 (pinned, so a seed in an old run.json still reproduces its order)', () => {
    const r = seededRandom(1);
    expect([r(), r(), r()]).toEqual([0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
  });

  it('gives floats in [0, 1), spread over the range', () => {
    for (const seed of [0, 1, 42, 2 ** 32 - 1]) {
      const r = seededRandom(seed);
      const values = Array.from({ length: 2000 }, () => r());
      expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
      expect(Math.min(...values)).toBeLessThan(0.01);
      expect(Math.max(...values)).toBeGreaterThan(0.99);
      // Not stuck: nearly all distinct.
      expect(new Set(values).size).toBeGreaterThan(1990);
    }
  });
});

describe('shuffled', () => {
  it('returns a permutation as a new array, leaving the input alone', () => {
    const input = Array.from({ length: 50 }, (_, i) => i);
    const copy = [...input];
    const out = shuffled(input, seededRandom(9));
    expect(out).not.toBe(input);
    expect(input).toEqual(copy);
    expect([...out].sort((a, b) => a - b)).toEqual(input);
    expect(out).not.toEqual(input);
  });

  it('handles empty and single-element lists', () => {
    expect(shuffled([], seededRandom(1))).toEqual([]);
    expect(shuffled(['a'], seededRandom(1))).toEqual(['a']);
  });

  it('puts every element in every position over many shuffles (no position is stuck)', () => {
    const random = seededRandom(123);
    const seen = Array.from({ length: 4 }, () => new Set<string>());
    for (let i = 0; i < 400; i++) shuffled(['a', 'b', 'c', 'd'], random).forEach((v, pos) => seen[pos]!.add(v));
    for (const s of seen) expect([...s].sort()).toEqual(['a', 'b', 'c', 'd']);
  });
});

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
