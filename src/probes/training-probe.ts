// Training probe: every tick asks the job for its progress (GET /progress) through the service, open
// loop (see http-poller.ts: one connection per request, never retried).
// Successful answers are kept as observations (when, step, which process); the training metrics are
// computed from them afterwards (src/metrics/training.ts).
import type { TrainingObservation, TrainingRecords } from '../model/records.ts';
import type { Endpoint } from '../model/endpoint.ts';
import type { Sample } from '../model/timeline.ts';
import { HttpPoller } from './http-poller.ts';
import type { Probe, ProbeOptions } from './probe.ts';

/** What train.py's GET /progress answers. */
export interface TrainingProgress {
  step: number;
  epoch: number;
  loss: number | null;
  samples_per_s: number;
  started_step: number;
  process_start: number;
  pid: number;
}

/** The progress in a response body, or undefined when it is not one. */
export function parseProgress(body: string): TrainingProgress | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const numeric = ['step', 'epoch', 'samples_per_s', 'started_step', 'process_start', 'pid'];
  if (!numeric.every((k) => typeof v[k] === 'number' && Number.isFinite(v[k]))) return undefined;
  return v as unknown as TrainingProgress;
}

export class TrainingProbe implements Probe {
  readonly name = 'training';
  private readonly poller: HttpPoller;
  private readonly observations: TrainingObservation[] = [];
  private stoppedAt: number | undefined;

  constructor(target: Endpoint, options: ProbeOptions) {
    this.poller = new HttpPoller(this.name, `http://${target.host}:${target.port}/progress`, options, (status, body, doneAt) => {
      if (status !== 200) return { ok: false, error: 'server_error', detail: `HTTP ${status}` };
      const progress = parseProgress(body);
      if (!progress) return { ok: false, error: 'wrong_reply', detail: body.slice(0, 200) };
      this.observations.push({ at: doneAt, step: progress.step, startedStep: progress.started_step, pid: progress.pid, processStart: progress.process_start });
      return { ok: true, error: '' };
    });
  }

  async start(): Promise<void> {
    this.poller.start();
  }

  answering(): boolean {
    return this.poller.answering();
  }

  async stop(): Promise<Sample[]> {
    this.stoppedAt = performance.now();
    return this.poller.stop();
  }

  records(): TrainingRecords {
    return { probe: 'training', progress: this.observations, ...(this.stoppedAt !== undefined ? { stoppedAt: this.stoppedAt } : {}) };
  }
}
