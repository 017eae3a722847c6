// Open loop is what makes the downtime honest: tick i is due at start + i × interval whatever the
// earlier ticks are doing, so a request stuck on a frozen pod never holds back the next one
// (no coordinated omission). Driven with fake timers, so nothing depends on this VM's speed.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OpenLoopTicker } from '../../src/probes/open-loop.ts';
import { sleep } from '../../src/clock.ts';

const START = 1_000_000;

interface Tick {
  index: number;
  scheduledAt: number;
  firedAt: number;
}

describe('OpenLoopTicker (fake clock)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(START);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const record =
    (ticks: Tick[], work: (index: number) => unknown = () => undefined) =>
    (index: number, scheduledAt: number) => {
      ticks.push({ index, scheduledAt, firedAt: Date.now() });
      void work(index);
    };

  it('fires tick 0 at start and tick i at start + i × interval', () => {
    const ticks: Tick[] = [];
    const ticker = new OpenLoopTicker(5, record(ticks), () => Date.now());
    ticker.start();
    expect(ticks).toEqual([{ index: 0, scheduledAt: START, firedAt: START }]);
    vi.advanceTimersByTime(50);
    ticker.stop();
    expect(ticks.map((t) => t.index)).toEqual(Array.from({ length: 11 }, (_, i) => i));
    expect(ticks.map((t) => t.scheduledAt)).toEqual(ticks.map((t) => START + t.index * 5));
    // On a clock that is never late, each tick fires exactly when due.
    expect(ticks.every((t) => t.firedAt === t.scheduledAt)).toBe(true);
    expect(ticker.ticks).toBe(11);
  });

  it('keeps ticking while earlier ticks never answer', () => {
    const ticks: Tick[] = [];
    const pending: Promise<void>[] = [];
    const never = () => {
      const p = new Promise<void>(() => {});
      pending.push(p);
      return p;
    };
    const ticker = new OpenLoopTicker(5, record(ticks, never), () => Date.now());
    ticker.start();
    vi.advanceTimersByTime(100);
    ticker.stop();
    expect(pending).toHaveLength(21);
    expect(ticks.map((t) => t.scheduledAt)).toEqual(Array.from({ length: 21 }, (_, i) => START + i * 5));
  });

  it('fires every tick that fell due while the event loop was blocked, each with its own due time', () => {
    const ticks: Tick[] = [];
    // Tick 2's synchronous work takes 17 ms (the clock moves, timers cannot run meanwhile).
    const slow = (index: number) => {
      if (index === 2) vi.setSystemTime(Date.now() + 17);
    };
    const ticker = new OpenLoopTicker(5, record(ticks, slow), () => Date.now());
    ticker.start();
    vi.advanceTimersByTime(40);
    ticker.stop();
    // None skipped, none shifted: every tick due by now fired, tick i at START + 5i, whatever the stall.
    const due = Math.floor((Date.now() - START) / 5) + 1;
    expect(due).toBeGreaterThan(8);
    expect(ticks.map((t) => t.index)).toEqual(Array.from({ length: due }, (_, i) => i));
    expect(ticks.map((t) => t.scheduledAt)).toEqual(ticks.map((t) => START + t.index * 5));
    // Ticks 3, 4 and 5 came due during the stall: fired together on the first wake-up after it
    // (not dropped, not shifted), so their lateness is visible in sentAt − scheduledAt.
    const [t3, t4, t5] = ticks.slice(3, 6);
    expect(t3!.firedAt).toBeGreaterThanOrEqual(START + 27);
    expect([t4!.firedAt, t5!.firedAt]).toEqual([t3!.firedAt, t3!.firedAt]);
    expect(t3!.firedAt - t3!.scheduledAt).toBeGreaterThanOrEqual(12);
    expect(ticks.slice(6).every((t) => t.firedAt - t.scheduledAt < 5)).toBe(true);
  });

  it('stops ticking at stop()', () => {
    const ticks: Tick[] = [];
    const ticker = new OpenLoopTicker(5, record(ticks), () => Date.now());
    ticker.start();
    vi.advanceTimersByTime(20);
    ticker.stop();
    // No timer left behind (it would keep the process alive after the probe is done).
    expect(vi.getTimerCount()).toBe(0);
    const fired = ticks.length;
    expect(fired).toBe(5);
    vi.advanceTimersByTime(100);
    expect(ticks).toHaveLength(fired);
    expect(ticker.ticks).toBe(fired);
  });

  it('fires no further due tick once a tick handler stops it', () => {
    const ticks: Tick[] = [];
    let ticker: OpenLoopTicker;
    const stopAt3 = (index: number) => {
      if (index === 1) vi.setSystemTime(Date.now() + 50); // leaves ticks 2..11 due at once
      if (index === 3) ticker.stop();
    };
    ticker = new OpenLoopTicker(5, record(ticks, stopAt3), () => Date.now());
    ticker.start();
    vi.advanceTimersByTime(100);
    expect(ticks.map((t) => t.index)).toEqual([0, 1, 2, 3]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('starts counting afresh on a new start()', () => {
    const ticks: Tick[] = [];
    const ticker = new OpenLoopTicker(5, record(ticks), () => Date.now());
    ticker.start();
    vi.advanceTimersByTime(10);
    ticker.stop();
    vi.advanceTimersByTime(3);
    ticks.length = 0;
    ticker.start();
    vi.advanceTimersByTime(10);
    ticker.stop();
    expect(ticks.map((t) => [t.index, t.scheduledAt - START])).toEqual([
      [0, 13],
      [1, 18],
      [2, 23],
    ]);
  });

  it('rejects an interval that is not positive', () => {
    expect(() => new OpenLoopTicker(0, () => {})).toThrow(/> 0/);
    expect(() => new OpenLoopTicker(-5, () => {})).toThrow(/> 0/);
    expect(() => new OpenLoopTicker(Number.NaN, () => {})).toThrow(/> 0/);
  });
});

describe('OpenLoopTicker (real clock)', () => {
  it('schedules on exact multiples of the interval and stops, with handlers that never finish', async () => {
    const scheduled: number[] = [];
    const ticker = new OpenLoopTicker(2, (_index, at) => {
      scheduled.push(at);
      void new Promise(() => {});
    });
    ticker.start();
    await sleep(60);
    ticker.stop();
    const fired = scheduled.length;
    // Tolerant of a busy 2-core VM: only that it kept going, not how precisely.
    expect(fired).toBeGreaterThanOrEqual(10);
    const start = scheduled[0]!;
    expect(scheduled).toEqual(scheduled.map((_, i) => start + i * 2));
    await sleep(20);
    expect(scheduled).toHaveLength(fired);
  });
});
