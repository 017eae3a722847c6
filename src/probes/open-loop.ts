// Open-loop tick scheduling: tick i is due at start + i × interval on the monotonic clock, whatever
// happened to earlier ticks, so a slow or failed answer never delays the next request and an outage
// cannot hide behind a client waiting for responses (no coordinated omission; k6's
// constant-arrival-rate executor works the same way). When the event loop wakes late, every tick
// that fell due is still fired, each with its own scheduled time, so the lateness is recorded
// (sentAt − scheduledAt) instead of the tick being silently skipped.
import type { MonotonicMs } from '../clock.ts';

export type TickHandler = (index: number, scheduledAt: MonotonicMs) => void;

export class OpenLoopTicker {
  private readonly intervalMs: number;
  private readonly now: () => MonotonicMs;
  private readonly onTick: TickHandler;
  private startAt = 0;
  private nextIndex = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(intervalMs: number, onTick: TickHandler, now: () => MonotonicMs = () => performance.now()) {
    if (!(intervalMs > 0)) throw new Error(`probe interval must be > 0 ms, got ${intervalMs}`);
    this.intervalMs = intervalMs;
    this.onTick = onTick;
    this.now = now;
  }

  start(): void {
    this.running = true;
    this.startAt = this.now();
    this.nextIndex = 0;
    this.fireDue();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Ticks fired so far. */
  get ticks(): number {
    return this.nextIndex;
  }

  private fireDue(): void {
    if (!this.running) return;
    const now = this.now();
    while (this.running && this.startAt + this.nextIndex * this.intervalMs <= now) {
      const index = this.nextIndex++;
      this.onTick(index, this.startAt + index * this.intervalMs);
    }
    if (!this.running) return;
    const dueIn = this.startAt + this.nextIndex * this.intervalMs - this.now();
    this.timer = setTimeout(() => this.fireDue(), Math.max(0, dueIn));
  }
}
