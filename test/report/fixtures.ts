// A small results directory for the report tests, written by the real writers (ResultsDir) from
// hand-made trials, with metrics computed by the real computeTrialMetrics: what the report reads is
// exactly what `migbench run` would have written.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { ResultsDir } from '../../src/results/results-dir.ts';
import type { RunInfo } from '../../src/results/run-json.ts';
import type { CriuStats } from '../../src/model/criu-stats.ts';
import type { EventName } from '../../src/model/events.ts';
import type { FailedTrial, RanTrial, TrialResult } from '../../src/model/trial-result.ts';
import type { PhaseEvent, Sample, SampleError } from '../../src/model/timeline.ts';
import type { Scenario } from '../../src/scenario/schema.ts';
import { computeTrialMetrics } from '../../src/metrics/trial-metrics.ts';

export const TRIGGER = 100_000;
export const INTERVAL = 5;

/** Samples every INTERVAL ms from `fromMs` to `toMs` (relative to the trigger); `fails(t)` says which fail and why. */
export function samples(fromMs: number, toMs: number, fails: (tMs: number, i: number) => SampleError = () => ''): Sample[] {
  const out: Sample[] = [];
  for (let i = 0, t = fromMs; t < toMs; i++, t = fromMs + i * INTERVAL) {
    const error = fails(t, i);
    const at = TRIGGER + t;
    out.push({ probe: 'redis', scheduledAt: at, sentAt: at + 0.1, doneAt: at + (error ? INTERVAL : 0.7), ok: error === '', error });
  }
  return out;
}

// `event` is any text: the report must show (and escape) whatever events.csv holds.
const ev = (tMs: number, source: string, event: string, detail?: string): PhaseEvent => ({
  at: TRIGGER + tMs,
  source,
  event: event as EventName,
  ...(detail ? { detail } : {}),
});

export function criuEvents(): PhaseEvent[] {
  return [
    ev(-5000, 'trial', 'phase:deploy'),
    ev(-2000, 'trial', 'phase:settle'),
    ev(0, 'trial', 'trigger', 'criu: node-a -> node-b'),
    ev(0.6, 'platform:local', 'checkpoint_start', 'redis-1'),
    ev(205, 'platform:local', 'checkpoint_done', 'redis-1'),
    ev(216, 'platform:local', 'restore_start', 'redis-2'),
    ev(358, 'platform:local', 'restore_done', 'redis-2'),
    ev(360, 'strategy:criu', 'ready', 'redis-2'),
    ev(373, 'platform:local', 'service_endpoint', 'redis -> redis-2'),
    ev(389, 'trial', 'migrated', 'redis-2'),
    ev(390, 'trial', 'phase:observe'),
  ];
}

/** An ok trial, or with `status: 'failed'` (and its error and phase) a failed one. */
export function trial(overrides: Partial<Omit<FailedTrial, 'status'>> & { trial: number; status?: 'ok' | 'failed' }): RanTrial {
  return {
    runId: 'test-run',
    workload: 'redis',
    strategy: 'criu',
    repetition: 1,
    warmup: false,
    status: 'ok',
    startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, overrides.trial)),
    timeline: { triggerAt: TRIGGER, samples: samples(-2000, 3000, (t) => (t >= 0 && t < 330 ? 'timeout' : '')), events: criuEvents() },
    probeIntervalMs: INTERVAL,
    strategyFinishedAt: TRIGGER + 389,
    probeRecords: [],
    ...overrides,
  } as RanTrial;
}

export const CRIU_STATS: CriuStats = { freezingUs: 101_041, frozenUs: 60_192, memdumpUs: 2_903, memwriteUs: 1_576, restoreUs: 81_763, pagesWritten: 1165 };

export const HOSTILE = '<script>alert("pwned")</script> & \'quotes\'';

/**
 * Six trials: a criu warm-up, two ok criu trials (one with 50,000 ok samples and a single failed
 * one), an ok redeploy trial, and a failed redeploy trial whose error and one event name carry HTML.
 */
export function reportFixtureTrials(): TrialResult[] {
  return [
    trial({ trial: 1, warmup: true, criu: CRIU_STATS, checkpointBytes: 4_795_772 }),
    trial({ trial: 2, repetition: 1, criu: CRIU_STATS, checkpointBytes: 4_795_772 }),
    trial({
      trial: 3,
      strategy: 'redeploy',
      timeline: {
        triggerAt: TRIGGER,
        samples: samples(-2000, 3000, (t) => (t >= 20 && t < 180 ? 'refused' : '')),
        events: [ev(0, 'trial', 'trigger'), ev(160, 'trial', 'migrated')],
      },
      strategyFinishedAt: TRIGGER + 160,
    }),
    trial({
      trial: 4,
      repetition: 2,
      criu: { ...CRIU_STATS, memdumpUs: 5_000, memwriteUs: 3_000 },
      // 50,000 samples (250 s), all ok but one, far from the trigger.
      timeline: { triggerAt: TRIGGER, samples: samples(-2000, 248_000, (_t, i) => (i === 40_000 ? 'timeout' : '')), events: criuEvents() },
    }),
    trial({
      trial: 5,
      strategy: 'redeploy',
      repetition: 2,
      status: 'failed',
      error: HOSTILE,
      failedPhase: 'observe',
      timeline: {
        triggerAt: TRIGGER,
        samples: samples(-2000, 3000, (t) => (t >= 20 ? 'refused' : '')),
        events: [ev(0, 'trial', 'trigger'), ev(50, 'strategy:redeploy', '<b>bold</b><script>x()</script>', HOSTILE)],
      },
      strategyFinishedAt: undefined,
    }),
  ];
}

export function runInfo(overrides: Partial<RunInfo> = {}): RunInfo {
  return {
    runId: 'test-run',
    scenarioFile: '/tmp/test.yaml',
    scenario: { name: 'test', description: 'a hand-made run' } as unknown as Scenario,
    scenarioSource: 'name: test\n',
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:01:00.000Z',
    host: {
      hostname: 'testhost',
      os: 'Debian GNU/Linux 12 (bookworm)',
      kernel: '6.1.0',
      cpuModel: 'Test CPU',
      cpus: 2,
      memoryBytes: 8 * 2 ** 30,
      node: 'v24.21.0',
    },
    versions: { kernel: '6.1.0', criu: '4.2.1', runc: '1.1.5', redis: '7.0.15', node: 'v24.21.0' },
    gitCommit: '0123456789abcdef0123456789abcdef01234567',
    argv: ['run', 'test.yaml'],
    trials: { planned: 5, ok: 4, failed: 1 },
    ...overrides,
  };
}

/** Writes the trials (and run.json unless `run` is null) into `dir` as `migbench run` does. */
export function writeResultsDir(dir: string, trials: TrialResult[], run: RunInfo | null = runInfo()): void {
  const results = new ResultsDir(dir);
  results.open();
  for (const t of trials) results.appendTrial(t, computeTrialMetrics(t).metrics);
  if (run) results.writeRunJson(run);
}

/**
 * A real `migbench run scenarios/default.yaml` (36 trials: redis, video, ml-training × criu, drain,
 * redeploy, 3 repetitions + 1 warm-up), committed as it was written — trials.csv, events.csv,
 * run.json, and samples.csv gzipped (it is most of the bytes) — for tests that need a run of the
 * real shape: every column filled as a real run fills it, names and numbers as long as real ones.
 */
export const DEFAULT_RUN_DIR = fileURLToPath(new URL('./default-run/', import.meta.url));

/** Writes the committed default run into `dir` as `migbench run` left it (samples.csv unzipped). */
export function copyDefaultRun(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const file of ['trials.csv', 'events.csv', 'run.json']) copyFileSync(join(DEFAULT_RUN_DIR, file), join(dir, file));
  writeFileSync(join(dir, 'samples.csv'), gunzipSync(readFileSync(join(DEFAULT_RUN_DIR, 'samples.csv.gz'))));
}
