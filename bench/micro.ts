// What the harness itself costs, with tinybench: the open-loop scheduler's work per probe tick, the
// metrics of a trial per 100k samples, and how fast a trial's rows reach the results files
// (formatting and the fsynced append, as ResultsDir does it after every trial). The metrics and the
// CSV run between trials, never while probing, but a long trial at a fine interval has many samples
// (60 s at 1 ms = 60,000), and this says whether that matters.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import type { TrialResult } from '../src/model/trial-result.ts';
import type { Sample } from '../src/model/timeline.ts';
import { computeTrialMetrics } from '../src/metrics/trial-metrics.ts';
import { OpenLoopTicker } from '../src/probes/open-loop.ts';
import { ResultsDir } from '../src/results/results-dir.ts';
import { samplesCsv } from '../src/results/samples-csv.ts';

export const SAMPLES = 100_000;

/** A trial of `samples` Redis probe samples at `intervalMs`, with a 300 ms outage right after the trigger (a criu move of a small Redis). */
export function syntheticTrial(samples: number, intervalMs: number): TrialResult {
  const triggerAt = 10_000;
  const list: Sample[] = [];
  for (let i = 0; i < samples; i++) {
    const scheduledAt = triggerAt - 2_000 + i * intervalMs;
    const ok = !(scheduledAt >= triggerAt + 50 && scheduledAt < triggerAt + 350);
    list.push({ probe: 'redis', scheduledAt, sentAt: scheduledAt + 0.05, doneAt: scheduledAt + (ok ? 0.7 : intervalMs), ok, error: ok ? '' : 'timeout' });
  }
  return {
    runId: 'bench',
    trial: 1,
    workload: 'redis',
    strategy: 'criu',
    repetition: 1,
    warmup: false,
    status: 'ok',
    startedAt: new Date(0),
    timeline: { triggerAt, samples: list, events: [] },
    probeIntervalMs: intervalMs,
    strategyFinishedAt: triggerAt + 400,
    probeRecords: [],
  };
}

export interface MicroFigures {
  /** OpenLoopTicker: firing one due tick (calling its handler) and arming the timer for the next, µs. */
  tickDispatchUs: number;
  /** computeTrialMetrics for 100k samples, ms. */
  metricsPer100kMs: number;
  /** samples.csv rows for 100k samples, formatted, ms. */
  samplesCsvFormatPer100kMs: number;
  /** ResultsDir.appendTrial of a 100k-sample trial (all its files, fsynced), ms. */
  appendTrialPer100kMs: number;
  /** Bytes of samples.csv one 100k-sample trial writes. */
  samplesCsvBytesPer100k: number;
  table: ReturnType<Bench['table']>;
}

export async function runMicroBenchmarks(timeMs = 1_000): Promise<MicroFigures> {
  const trial = syntheticTrial(SAMPLES, 1);
  const scratch = mkdtempSync(join(tmpdir(), 'migbench-bench-'));
  try {
    // A clock that stands still: start() finds tick 0 due, fires it, and arms a timer for tick 1 —
    // what the ticker does once per tick while probing (plus clearing that timer in stop()).
    let fired = 0;
    const ticker = new OpenLoopTicker(
      1,
      () => void fired++,
      () => 0,
    );
    let results: ResultsDir | undefined;
    let appended = 0;

    // At least 10 runs of each task (tinybench's default minimum of 64 takes a minute for the 100k-row tasks).
    const bench = new Bench({ name: 'migbench harness', time: timeMs, iterations: 10, warmupIterations: 2 });
    bench.add('probe tick: fire + arm next timer (OpenLoopTicker)', () => {
      ticker.start();
      ticker.stop();
    });
    bench.add(`computeTrialMetrics, ${SAMPLES} samples`, () => void computeTrialMetrics(trial));
    bench.add(`samples.csv rows, ${SAMPLES} samples`, () => void samplesCsv.rows(trial, {}));
    bench.add(
      `ResultsDir.appendTrial (fsynced), ${SAMPLES} samples`,
      () => {
        results!.appendTrial({ ...trial, trial: ++appended }, {});
      },
      {
        // A fresh results directory per batch, so the files do not grow to gigabytes.
        beforeAll: () => {
          results = new ResultsDir(join(scratch, `run-${Date.now()}-${Math.random().toString(36).slice(2)}`));
          results.open();
        },
        afterAll: () => rmSync(results!.dir, { recursive: true, force: true }),
      },
    );
    await bench.run();
    if (fired === 0) throw new Error('bench: the ticker fired no tick');

    const mean = (name: string) => {
      const task = bench.getTask(name);
      const result = task?.result;
      if (!result || !('latency' in result)) throw new Error(`bench: ${name} did not complete (${result?.state ?? 'no result'})`);
      return result.latency.mean;
    };
    // Bytes of one trial's samples.csv, from a file really written.
    const sizer = new ResultsDir(join(scratch, 'size'));
    sizer.open();
    const header = statSync(`${sizer.dir}/samples.csv`).size;
    sizer.appendTrial(trial, {});
    const samplesCsvBytesPer100k = statSync(`${sizer.dir}/samples.csv`).size - header;
    return {
      tickDispatchUs: mean('probe tick: fire + arm next timer (OpenLoopTicker)') * 1_000,
      metricsPer100kMs: mean(`computeTrialMetrics, ${SAMPLES} samples`),
      samplesCsvFormatPer100kMs: mean(`samples.csv rows, ${SAMPLES} samples`),
      appendTrialPer100kMs: mean(`ResultsDir.appendTrial (fsynced), ${SAMPLES} samples`),
      samplesCsvBytesPer100k,
      table: bench.table(),
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
