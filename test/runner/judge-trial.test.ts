// The runner hands back a judged trial (src/runner/trial.ts judgeTrial): its metrics computed once,
// and its status final — a trial whose steps all worked but whose service never answered again
// within the observation window failed in `observe`.
import { expect, it } from 'vitest';
import { judgeTrial } from '../../src/runner/trial.ts';
import type { Sample } from '../../src/model/timeline.ts';
import { sampleTrial, TRIGGER } from '../results/fixtures.ts';

const tick = (t: number, ok: boolean): Sample => ({
  probe: 'redis',
  scheduledAt: TRIGGER + t,
  sentAt: TRIGGER + t,
  doneAt: TRIGGER + t + 1,
  ok,
  error: ok ? '' : 'timeout',
});

it('fails an ok trial whose service never came back, in observe, saying why', () => {
  const neverBack = sampleTrial({ timeline: { triggerAt: TRIGGER, samples: [tick(-10, true), tick(0, false), tick(5, false), tick(10, false)], events: [] } });
  const { result, metrics } = judgeTrial(neverBack, 1500);
  expect(result).toMatchObject({
    status: 'failed',
    failedPhase: 'observe',
    error:
      'service did not recover: no successful probe sample after the outage within timing.observeMs (1500 ms) and 1000 ms more (probe redis: failing from 0 ms after the trigger, 3 samples, first timeout)',
  });
  expect(metrics).toMatchObject({ failed_samples: 3, samples: 4 });
  expect(metrics.downtime_ms).toBeUndefined();
  expect(neverBack.status).toBe('ok');
});

it('keeps an ok trial that recovered, and a failed trial as it failed', () => {
  const recovered = sampleTrial({ timeline: { triggerAt: TRIGGER, samples: [tick(-10, true), tick(0, false), tick(5, true)], events: [] } });
  expect(judgeTrial(recovered, 1500)).toMatchObject({ result: { status: 'ok' }, metrics: { downtime_ms: 5 } });
  const failed = sampleTrial({ status: 'failed', failedPhase: 'deploy', error: 'image missing', timeline: { triggerAt: 0, samples: [], events: [] } });
  expect(judgeTrial(failed, 1500).result).toBe(failed);
});
