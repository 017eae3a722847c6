// Faults the probe sees are results, not crashes: after the move the service answers garbage, resets
// every connection, or has no endpoint for the whole observation window. Each is a real app (or no
// app) behind the real service rule; each run completes, gives a trial row with the right status,
// and samples.csv names the error class.
import { createConnection } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, expect, it } from 'vitest';
import type { LocalPlatform } from '../../../src/platforms/local/local-platform.ts';
import { planTrials } from '../../../src/plan/plan.ts';
import { ResultsDir } from '../../../src/results/results-dir.ts';
import { Runner } from '../../../src/runner/run.ts';
import { LocalTrialSteps } from '../../../src/platforms/local/driver/trial.ts';
import { parseScenario } from '../../../src/scenario/load.ts';
import type { MigrationContext, MigrationOutcome, Strategy } from '../../../src/strategies/entry/strategy.ts';
import { useTestPlatform } from '../../helpers/platform.ts';

let platform: LocalPlatform;
useTestPlatform((p) => (platform = p));
const root = mkdtempSync(`${tmpdir()}/migbench-probe-faults-`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Fault = 'garbage' | 'reset' | 'no-endpoint';

/** "Moves" the pod to a faulty app on the target (or to nothing), then removes the source. */
class FaultyMove implements Strategy {
  readonly name: string;
  private readonly fault: Fault;
  constructor(fault: Fault) {
    this.fault = fault;
    this.name = `to-${fault}`;
  }

  async migrate(ctx: MigrationContext): Promise<MigrationOutcome> {
    if (this.fault === 'no-endpoint') {
      await ctx.platform.setServiceEndpoint(ctx.service, null, ctx.events);
      await ctx.platform.removePod(ctx.pod);
      return { pod: ctx.pod };
    }
    const pod = await ctx.platform.startPod(
      {
        app: `${ctx.workload.name}-${this.fault}`,
        command: ['/usr/bin/python3', '/app/fault_server.py', this.fault, String(ctx.workload.port)],
        port: ctx.workload.port,
        volumes: [],
        code: { hostPath: resolve('test/fixtures/probe-faults'), mountPath: '/app' },
      },
      ctx.targetNode,
      ctx.events,
    );
    await listening(pod.ip, ctx.workload.port);
    await ctx.platform.setServiceEndpoint(ctx.service, pod, ctx.events);
    await ctx.platform.removePod(ctx.pod);
    return { pod };
  }
}

async function listening(host: string, port: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const up = await new Promise<boolean>((res) => {
      const s = createConnection({ host, port }, () => (s.destroy(), res(true)));
      s.on('error', () => res(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`fault server at ${host}:${port} never listened`);
}

const cases: { workload: 'redis' | 'video'; fault: Fault; error: RegExp }[] = [
  { workload: 'redis', fault: 'garbage', error: /^wrong_reply$/ },
  { workload: 'video', fault: 'garbage', error: /^wrong_reply$/ },
  { workload: 'redis', fault: 'reset', error: /^(reset|disconnected)$/ },
  { workload: 'redis', fault: 'no-endpoint', error: /^(refused|reset)$/ },
];

it.each(cases)(
  '$workload whose service $fault after the move: a failed row, error class in samples.csv',
  { timeout: 90_000 },
  async ({ workload, fault, error }) => {
    const { scenario, migration } = parseScenario(
      'faults.yaml',
      [
        `workloads: [{ type: ${workload}${workload === 'redis' ? ', keys: 1000' : ''} }]`,
        'strategies: [redeploy]',
        'repetitions: 1',
        'warmup: 0',
        'timing: { settleMs: 500, observeMs: 1500, readyTimeoutMs: 20000 }',
        'probe: { intervalMs: 10 }',
        '',
      ].join('\n'),
    );
    const out = `${root}/${workload}-${fault}`;
    const results = new ResultsDir(out);
    results.open();
    const strategy = new FaultyMove(fault);
    const summary = await new Runner().run({
      runId: 'faults',
      scenario,
      trials: planTrials(scenario),
      signal: new AbortController().signal,
      record: (result, metrics) => results.appendTrial(result, metrics),
      // The runner's own judgement of the row (status, failed_phase), with the faulty move as the strategy.
      platform: {
        unsupportedReason: async () => undefined,
        trialSteps: (_trial, _identity, w) =>
          new LocalTrialSteps({ platform, workload: w, strategy, from: migration.from, to: migration.to, timing: scenario.timing }),
      },
    });
    expect(summary).toMatchObject({ ok: 0, failed: 1 });
    const [row] = parse(readFileSync(`${out}/trials.csv`, 'utf8'), { columns: true }) as Record<string, string>[];
    // Redis' verification (its acknowledged writes read back through the service) fails first; the
    // video stream has none, so the runner finds the service never recovered.
    expect(row).toMatchObject({ status: 'failed', failed_phase: workload === 'redis' ? 'verify' : 'observe' });
    expect(row!.error).toMatch(workload === 'redis' ? /./ : /did not recover/);
    const samples = parse(readFileSync(`${out}/samples.csv`, 'utf8'), { columns: true }) as Record<string, string>[];
    // The samples sent once the move was over (the source removed): on a busy host that can be well
    // after 300 ms, so the trial's own `migrated` event marks it, not a fixed time.
    const events = parse(readFileSync(`${out}/events.csv`, 'utf8'), { columns: true }) as Record<string, string>[];
    const movedAt = Number(events.find((e) => e.event === 'migrated')!.t_ms);
    const after = samples.filter((s) => Number(s.t_ms) > movedAt);
    expect(after.length).toBeGreaterThan(50);
    // Every sample after the move failed, each with the fault's error class.
    expect(after.filter((s) => s.ok === 'true')).toEqual([]);
    const classes = [...new Set(after.map((s) => s.error ?? ''))];
    console.log(`${workload} ${fault}: ${row!.failed_phase}: ${row!.error}; failed_samples ${row!.failed_samples}, error classes ${classes.join(', ')}`);
    expect(classes.filter((c) => error.test(c)).length).toBeGreaterThan(0);
    expect(after.filter((s) => error.test(s.error ?? '')).length / after.length).toBeGreaterThan(0.8);
  },
);
