// The one trial lifecycle both platforms run (src/runner/trial.ts), checked with recording steps and
// a recording workload: the order deploy → prepare → probes → trigger → strategy → observe → verify
// → teardown, a teardown also after a failed phase, failures recorded in their phase without hiding
// one another, and a dry run that waits for nothing. The platforms' own steps are tested against the
// real thing (test/strategies, test/platforms/kubernetes).
import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../src/model/endpoint.ts';
import type { Probe } from '../../src/probes/probe.ts';
import { probeOptions } from '../../src/probes/probe.ts';
import { runTrial, type Deployed, type Moved, type TrialSteps } from '../../src/runner/trial.ts';
import type { EventRecorder } from '../../src/model/timeline.ts';
import type { Workload } from '../../src/workloads/workload.ts';

const address: Endpoint = { host: '198.18.0.1', port: 30000 };

class RecordingSteps implements TrialSteps {
  readonly strategyName = 'recording';
  readonly calls: string[];
  readonly dryRun: boolean;
  readonly probesSkipped: boolean;
  fail: { deploy?: string; migrate?: string; teardown?: string } = {};
  constructor(calls: string[], dryRun = false, probesSkipped = false) {
    this.calls = calls;
    this.dryRun = dryRun;
    this.probesSkipped = probesSkipped;
  }
  async deploy(events: EventRecorder): Promise<Deployed> {
    this.calls.push('deploy');
    events.emit('platform:test', 'pod_started', 'app-1');
    if (this.fail.deploy) throw new Error(this.fail.deploy);
    return { address: this.probesSkipped ? undefined : address, from: 'node-a', to: 'node-b' };
  }
  async migrate(): Promise<Moved> {
    this.calls.push('migrate');
    if (this.fail.migrate) throw new Error(this.fail.migrate);
    return { movedPod: 'app-2', checkpointBytes: 4096 };
  }
  async teardown(): Promise<string[]> {
    this.calls.push('teardown');
    return this.fail.teardown ? [this.fail.teardown] : [];
  }
}

function recordingWorkload(calls: string[]): Workload {
  const probe: Probe = {
    name: 'recording',
    start: async () => void calls.push('probes.start'),
    stop: async () => (calls.push('probes.stop'), [{ probe: 'recording', scheduledAt: 0, sentAt: 0, doneAt: 1, ok: true, error: '' }]),
    verify: async () => (calls.push('probes.verify'), {}),
  };
  return {
    name: 'app',
    type: 'redis',
    port: 6379,
    volumes: () => [],
    podSpec: () => ({ app: 'app', command: [], port: 6379, volumes: [] }),
    waitReady: async () => undefined,
    prepare: async () => (calls.push('prepare'), { datasetBytes: 123 }),
    probes: () => [probe],
  };
}

const run = (steps: RecordingSteps, workload: Workload, settleMs = 0) =>
  runTrial({
    identity: { runId: 'r', trial: 1, workload: 'app', strategy: 'recording', repetition: 1, warmup: false },
    workload,
    steps,
    timing: { settleMs, observeMs: 0, readyTimeoutMs: 1000 },
    probe: probeOptions({ intervalMs: 5 }),
    signal: new AbortController().signal,
  }).then((judged) => judged.result);

describe('runTrial', () => {
  it('runs the phases in order and tears down after the probes have stopped', async () => {
    const calls: string[] = [];
    const result = await run(new RecordingSteps(calls), recordingWorkload(calls));
    expect(calls).toEqual(['deploy', 'prepare', 'probes.start', 'migrate', 'probes.stop', 'probes.verify', 'teardown']);
    expect(result).toMatchObject({ status: 'ok', datasetBytes: 123, checkpointBytes: 4096 });
    // An ok trial carries no failure (trials.csv writes its error and failed_phase empty).
    expect(result).not.toHaveProperty('error');
    expect(result).not.toHaveProperty('failedPhase');
    const trialEvents = result.timeline.events.filter((e) => e.source === 'trial').map((e) => `${e.event}${e.detail ? ` ${e.detail}` : ''}`);
    expect(trialEvents).toEqual([
      'phase:deploy',
      'phase:prepare',
      'phase:settle',
      'phase:migrate',
      'trigger recording: node-a -> node-b',
      'migrated app-2',
      'phase:observe',
      'phase:verify',
    ]);
    // t = 0 is the trigger.
    expect(result.timeline.triggerAt).toBe(result.timeline.events.find((e) => e.event === 'trigger')!.at);
    expect(result.timeline.samples).toHaveLength(1);
  });

  it('tears down after a failed strategy and records the phase it failed in', async () => {
    const calls: string[] = [];
    const steps = new RecordingSteps(calls);
    steps.fail = { migrate: 'replacement never became ready' };
    const result = await run(steps, recordingWorkload(calls));
    expect(calls).toEqual(['deploy', 'prepare', 'probes.start', 'migrate', 'probes.stop', 'teardown']);
    expect(result).toMatchObject({ status: 'failed', failedPhase: 'migrate', error: 'replacement never became ready' });
    expect(result.strategyFinishedAt).toBeUndefined();
  });

  it('keeps the first failure when the teardown fails too, and fails an ok trial in teardown', async () => {
    const calls: string[] = [];
    const both = new RecordingSteps(calls);
    both.fail = { deploy: 'image missing', teardown: 'volume busy' };
    expect(await run(both, recordingWorkload(calls))).toMatchObject({ status: 'failed', failedPhase: 'deploy', error: 'image missing' });
    expect(calls).toEqual(['deploy', 'teardown']);
    const onlyTeardown = new RecordingSteps([]);
    onlyTeardown.fail = { teardown: 'volume busy' };
    expect(await run(onlyTeardown, recordingWorkload([]))).toMatchObject({ status: 'failed', failedPhase: 'teardown', error: 'volume busy' });
  });

  it('probes nothing and says so when the platform has no app address; a dry run does not wait', async () => {
    const calls: string[] = [];
    const started = performance.now();
    const result = await run(new RecordingSteps(calls, true, true), recordingWorkload(calls), 60_000);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(calls).toEqual(['deploy', 'migrate', 'teardown']);
    expect(result).toMatchObject({ status: 'ok', probesSkipped: true });
    expect(result.datasetBytes).toBeUndefined();
  });
});
