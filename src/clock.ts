// One monotonic clock for everything measured. performance.now() is monotonic (it never jumps with
// NTP or wall-clock changes) and has sub-microsecond resolution on Linux; wall-clock time is used
// only to label when a trial started (ISO 8601 in the CSVs), never to measure a duration.
import { performance } from 'node:perf_hooks';
import type { MonotonicMs } from './model/timeline.ts';

/** Milliseconds on the process-wide monotonic clock (origin: process start); the data model's type. */
export type { MonotonicMs };

export interface Clock {
  now(): MonotonicMs;
  /** Wall-clock time, for labels only. */
  wallNow(): Date;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => new Date(),
};

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
