// How much the harness itself costs after a trial: computing its metrics and serializing its raw
// samples. Both run between trials, never while probing, but a long trial at a fine interval has a
// lot of samples (60 s at 1 ms = 60,000), and this says whether that matters.
// Run: npm run bench:harness
import { Bench } from 'tinybench';
import type { TrialResult } from '../src/results/trial-result.ts';
import type { Sample } from '../src/timeline.ts';
import { computeTrialMetrics } from '../src/metrics/trial-metrics.ts';
import { sampleRows } from '../src/results/samples-csv.ts';

function syntheticTrial(samples: number, intervalMs: number): TrialResult {
  const triggerAt = 10_000;
  const list: Sample[] = [];
  for (let i = 0; i < samples; i++) {
    const scheduledAt = triggerAt - 2_000 + i * intervalMs;
    // A 300 ms outage right after the trigger, as a criu move of a small Redis produces.
    const ok = !(scheduledAt >= triggerAt + 50 && scheduledAt < triggerAt + 350);
    list.push({ probe: 'redis', scheduledAt, sentAt: scheduledAt + 0.05, doneAt: scheduledAt + (ok ? 0.7 : intervalMs), ok, error: ok ? '' : 'timeout' });
  }
  return {
    runId: 'bench', trial: 1, workload: 'redis', strategy: 'criu', repetition: 1, warmup: false,
    status: 'ok', error: '', failedPhase: '', startedAt: new Date(0),
    timeline: { triggerAt, samples: list, events: [] }, probeIntervalMs: intervalMs, strategyFinishedAt: triggerAt + 400,
  };
}

const bench = new Bench({ name: 'migbench harness, per trial', time: 2_000 });
for (const [samples, interval] of [[1_000, 5], [12_000, 5], [60_000, 1]] as const) {
  const trial = syntheticTrial(samples, interval);
  bench.add(`computeTrialMetrics, ${samples} samples`, () => void computeTrialMetrics(trial));
  bench.add(`samples.csv rows, ${samples} samples`, () => void sampleRows(trial));
}
await bench.run();
console.log(bench.name);
console.table(bench.table());
