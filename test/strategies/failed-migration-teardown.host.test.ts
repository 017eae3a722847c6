// A strategy that fails after creating a pod (a replacement that never became ready, Ctrl-C during a
// restore) must not leave that pod running into the next trial: the trial tears down every pod the
// strategy created, also one it never handed back.
import { expect, it } from 'vitest';
import type { LocalPlatform } from '../../src/platforms/local/local-platform.ts';
import { probeOptions } from '../../src/probes/probe.ts';
import { LocalTrialSteps } from '../../src/platforms/local/driver/trial.ts';
import { runTrial } from '../../src/runner/trial.ts';
import { redisWorkloadSchema } from '../../src/scenario/schema.ts';
import type { MigrationContext, MigrationOutcome, Strategy } from '../../src/strategies/entry/strategy.ts';
import { RedisWorkload } from '../../src/workloads/redis.ts';
import { migbenchObjects } from '../helpers/host.ts';
import { useTestPlatform } from '../helpers/platform.ts';

let platform: LocalPlatform;
useTestPlatform((p) => (platform = p));

/** Starts the replacement, then fails before returning it. */
class AbandoningStrategy implements Strategy {
  readonly name = 'abandoning';
  started: string[] = [];
  async migrate(ctx: MigrationContext): Promise<MigrationOutcome> {
    const pod = await ctx.platform.startPod(ctx.workload.podSpec(), ctx.targetNode, ctx.events);
    this.started.push(pod.name);
    throw new Error('replacement never became ready');
  }
}

it('removes a pod the failed strategy created but never returned', { timeout: 60_000 }, async () => {
  const strategy = new AbandoningStrategy();
  const workload = new RedisWorkload(redisWorkloadSchema.parse({ type: 'redis', name: 'abandon', keys: 100 }));
  const timing = { settleMs: 100, observeMs: 100, readyTimeoutMs: 10_000 };
  const { result } = await runTrial({
    identity: { runId: 'r', trial: 1, workload: 'redis', strategy: strategy.name, repetition: 1, warmup: false },
    workload,
    steps: new LocalTrialSteps({ platform, workload, strategy, from: 'node-a', to: 'node-b', timing }),
    timing,
    probe: probeOptions({ intervalMs: 5 }),
    signal: new AbortController().signal,
  });
  expect(result).toMatchObject({ status: 'failed', failedPhase: 'migrate' });
  expect(strategy.started).toHaveLength(1);
  // The platform is still open (the run goes on): neither the source nor the abandoned pod is left.
  expect(migbenchObjects().containers).toEqual([]);
});
