// What an open-loop probe keeps of its ticks: each sample as its request finishes (in completion
// order), the requests still in flight, and whether the service answered the latest tick to finish
// — what lets a trial end its probing on an answer (ProbeSession.endOnAnswer) instead of on
// whatever its last tick happened to meet.
import type { Sample } from '../model/timeline.ts';

export class SampleLog {
  private readonly samples: Sample[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  /** The finished sample due latest: answers finish out of order, the schedule decides which is newest. */
  private newest: Sample | undefined;

  record(sample: Sample): void {
    this.samples.push(sample);
    if (this.newest === undefined || sample.scheduledAt > this.newest.scheduledAt) this.newest = sample;
  }

  /** A tick's request, kept until it settles so stopping can wait for it. */
  track(request: Promise<void>): void {
    this.inFlight.add(request);
    void request.finally(() => this.inFlight.delete(request));
  }

  /** False while the newest finished tick failed; true once one answered (and before any finished). */
  answering(): boolean {
    return this.newest?.ok ?? true;
  }

  /** Waits for the requests in flight (each bounded by its own timeout); every sample, in schedule order. */
  async drain(): Promise<Sample[]> {
    await Promise.allSettled([...this.inFlight]);
    return [...this.samples].sort((a, b) => a.scheduledAt - b.scheduledAt);
  }
}
