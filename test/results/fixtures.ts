// A hand-made trial for the writer tests: two probe samples before the trigger, one failed at it,
// a few phase events (stored out of order, as several recorders may append them).
import type { FailedTrial, RanTrial } from '../../src/model/trial-result.ts';

export const TRIGGER = 5000.25;

/** An ok trial, or with `status: 'failed'` (and its error and phase) a failed one. */
export function sampleTrial(overrides: Partial<Omit<FailedTrial, 'status'>> & { status?: 'ok' | 'failed' } = {}): RanTrial {
  return {
    runId: '20250101-000000-smoke',
    trial: 3,
    workload: 'redis',
    strategy: 'criu',
    repetition: 2,
    warmup: false,
    status: 'ok',
    startedAt: new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 67)),
    timeline: {
      triggerAt: TRIGGER,
      samples: [
        // Stored out of order on purpose: the writer sorts by due time.
        { probe: 'redis', scheduledAt: TRIGGER + 5, sentAt: TRIGGER + 5.5, doneAt: TRIGGER + 10, ok: false, error: 'timeout', detail: 'Command timed out' },
        { probe: 'redis', scheduledAt: TRIGGER - 10, sentAt: TRIGGER - 9.875, doneAt: TRIGGER - 9.5, ok: true, error: '' },
        { probe: 'redis', scheduledAt: TRIGGER - 5, sentAt: TRIGGER - 5, doneAt: TRIGGER - 4.25, ok: true, error: '' },
      ],
      events: [
        { at: TRIGGER + 12.5, source: 'strategy:criu', event: 'restore', detail: 'pod redis-2 on node-b' },
        { at: TRIGGER - 100, source: 'trial', event: 'phase:settle' },
        { at: TRIGGER, source: 'trial', event: 'trigger' },
      ],
    },
    probeIntervalMs: 5,
    strategyFinishedAt: TRIGGER + 20,
    probeRecords: [],
    ...overrides,
  } as RanTrial;
}
