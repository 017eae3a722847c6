// CRIU failing in the middle of a migration, injected for real: the store fills up during the dump
// (also with the source's cgroup left frozen), CRIU is killed during the restore. Each time the service must come
// back (the source thawed and kept, or restored back on its node from the same images), the trial is
// a failed row naming the step, nothing of the failed attempt is left, and the platform goes on.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { containerId } from '../../../src/platforms/local/names.ts';
import type { Pod } from '../../../src/platforms/local/node-runtime.ts';
import { afterEach, expect, inject, it } from 'vitest';
import type { LocalPlatform } from '../../../src/platforms/local/local-platform.ts';
import { computeTrialMetrics } from '../../../src/metrics/trial-metrics.ts';
import { servingAtTheEnd } from '../../helpers/serving.ts';
import { probeOptions } from '../../../src/probes/probe.ts';
import { LocalTrialSteps } from '../../../src/platforms/local/driver/trial.ts';
import { runTrial } from '../../../src/runner/trial.ts';
import type { FailedTrial } from '../../../src/model/trial-result.ts';
import { redisWorkloadSchema } from '../../../src/scenario/schema.ts';
import { CriuStrategy } from '../../../src/strategies/criu/local.ts';
import { RedisWorkload } from '../../../src/workloads/redis.ts';
import { migbenchObjects } from '../../helpers/host.ts';
import { useTestPlatform } from '../../helpers/platform.ts';

let platform: LocalPlatform;
useTestPlatform((p) => (platform = p));

const store = () => platform.volumePath('x').replace(/\/volumes\/x$/, '');
const mounted: string[] = [];
afterEach(() => {
  for (const m of mounted.splice(0)) execFileSync('umount', ['-l', m]);
});

/**
 * SIGKILLs the next CRIU process that has run for `afterMs` (runc first starts a short-lived CRIU to
 * ask its version; the one that lives is the dump or restore). Resolves with what it killed.
 */
function killCriuAfter(afterMs: number): { stop: () => void; killed: Promise<string> } {
  const criu = inject('tools').criu;
  const seen = new Map<number, number>();
  let stopped = false;
  const killed = new Promise<string>((resolve) => {
    const poll = () => {
      if (stopped) return resolve('');
      for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        let exe = '';
        try {
          exe = readlinkSync(`/proc/${entry}/exe`);
        } catch {
          continue;
        }
        if (exe !== criu) continue;
        const pid = Number(entry);
        const first = seen.get(pid) ?? performance.now();
        seen.set(pid, first);
        if (performance.now() - first >= afterMs) {
          process.kill(pid, 'SIGKILL');
          stopped = true;
          return resolve(`criu ${pid}`);
        }
      }
      setTimeout(poll, 1);
    };
    poll();
  });
  return { stop: () => void (stopped = true), killed };
}

async function criuTrial(
  name: string,
  sabotage: { onCheckpoint?: (pod: Pod) => Promise<() => void> | (() => void); onFirstRestore?: (pod: Pod) => Promise<() => void> | (() => void) } = {},
  strategy = new CriuStrategy(),
): Promise<FailedTrial> {
  // The strategy sees the platform through this proxy, so the fault lands inside the real call.
  let restores = 0;
  const faulty = new Proxy(platform, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const hook = property === 'checkpointPod' ? sabotage.onCheckpoint : property === 'restorePod' && restores++ === 0 ? sabotage.onFirstRestore : undefined;
      if (!hook) return (value as (...a: unknown[]) => unknown).bind(target);
      return async (...args: unknown[]) => {
        // The fault is armed before the real call starts.
        const stop = await hook(args[0] as Pod);
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          stop();
        }
      };
    },
  });
  const workload = new RedisWorkload(redisWorkloadSchema.parse({ type: 'redis', name, keys: 100_000 }));
  const timing = { settleMs: 300, observeMs: 1500, readyTimeoutMs: 20_000 };
  const { result, metrics } = await runTrial({
    identity: { runId: 'r', trial: 1, workload: 'redis', strategy: 'criu', repetition: 1, warmup: false },
    workload,
    steps: new LocalTrialSteps({ platform: faulty, workload, strategy, from: 'node-a', to: 'node-b', timing }),
    timing,
    probe: probeOptions({ intervalMs: 5 }),
    signal: new AbortController().signal,
  });
  const ev = (name: string) => result.timeline.events.find((e) => e.event === name)?.at;
  const fallbackMs = ev('fallback_done') !== undefined ? ev('fallback_done')! - ev('fallback')! : undefined;
  // The figures of the fault table (what the service saw).
  console.log(
    `fault ${name}: status ${result.status}, failed_phase ${result.status === 'failed' ? result.failedPhase : ''}, downtime_ms ${metrics.downtime_ms}, failed_samples ${metrics.failed_samples}, fallback_ms ${fallbackMs?.toFixed(1) ?? '-'}, error: ${result.status === 'ok' ? '' : result.error}`,
  );
  // Every fault here must fail the trial (and be recorded as such).
  if (result.status !== 'failed') throw new Error(`fault ${name}: the trial did not fail (status ${result.status})`);
  return result;
}

/** The service answered again after the failure: ok samples after the strategy gave up, and the last ones ok. */
function recovered(result: FailedTrial): boolean {
  const { samples, events } = result.timeline;
  const failedAt = events.find((e) => e.event === 'failed')!.at;
  const after = samples.filter((s) => s.scheduledAt > failedAt + 50);
  return after.length > 0 && servingAtTheEnd(after) && computeTrialMetrics(result).recovered;
}

const eventNames = (r: FailedTrial) => r.timeline.events.map((e) => e.event);
const leftImages = () =>
  ['checkpoints', 'nodes'].flatMap((d) => (existsSync(`${store()}/${d}`) ? readdirSync(`${store()}/${d}`, { recursive: true, encoding: 'utf8' }) : []));

it("a dump that fills the store: source keeps serving, failed in dump with CRIU's line, partial images removed", { timeout: 90_000 }, async () => {
  // A 4 MiB store: Redis with 100k keys needs several times that.
  const dir = `${store()}/checkpoints`;
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'migbench-test-full', dir]);
  mounted.push(dir);
  const result = await criuTrial('dump-full');
  expect(result.status).toBe('failed');
  expect(result.failedPhase).toBe('dump');
  expect(result.error).toMatch(/CRIU: .*(No space left|ENOSPC|write)/i);
  expect(eventNames(result)).toEqual(expect.arrayContaining(['checkpoint_failed', 'source_kept', 'observe_after_failure']));
  expect(recovered(result)).toBe(true);
  expect(readdirSync(dir)).toEqual([]);
  expect(migbenchObjects().containers).toEqual([]);
});

it('a dump that fails with the source frozen (as a CRIU killed mid-freeze leaves it): the platform thaws it', { timeout: 90_000 }, async () => {
  // The cgroup frozen just before the dump, as a CRIU killed while it froze the pod leaves it (the
  // state is the kernel's own: runc pause writes the same FROZEN), and a full store to fail the dump.
  const dir = `${store()}/checkpoints`;
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'migbench-test-full', dir]);
  mounted.push(dir);
  const runc = inject('tools').runc;
  // CRIU's own freeze: the one a killed CRIU can leave behind (with criu's default, the action-script
  // freeze, the harness thaws its own freeze first and this path is not reached).
  const ownFreeze = new CriuStrategy({ name: 'criu', ip: 'new', freezer: 'criu', targetPod: 'after-dump', pagePipes: 'sysctl' });
  const result = await criuTrial('dump-frozen', { onCheckpoint: (pod) => (execFileSync(runc, ['pause', containerId(pod.name)]), () => undefined) }, ownFreeze);
  expect(result.status).toBe('failed');
  expect(result.failedPhase).toBe('dump');
  // Only the platform's resume brings the source back: without it, it stays frozen for good.
  expect(eventNames(result)).toEqual(expect.arrayContaining(['checkpoint_failed', 'source_thawed', 'source_kept']));
  expect(recovered(result)).toBe(true);
  expect(leftImages()).toEqual([]);
  expect(migbenchObjects().containers).toEqual([]);
});

// 20 ms into a restore that starts from CRIU's kernel-facts cache, CRIU has forked the pod's tasks:
// without the restore watchdog (platforms/local/restore-watchdog.ts) runc waited for ever on them.
it('CRIU killed mid-restore: falls back to the source node from the same images; no target pod left', { timeout: 90_000 }, async () => {
  let killer: ReturnType<typeof killCriuAfter> | undefined;
  const result = await criuTrial('restore-killed', { onFirstRestore: () => ((killer = killCriuAfter(20)), () => killer!.stop()) });
  expect(await killer!.killed).toMatch(/^criu \d+/);
  expect(result.status).toBe('failed');
  expect(result.failedPhase).toBe('restore');
  expect(result.error).toMatch(/fell back: restored on node-a/);
  const names = eventNames(result);
  expect(names).toEqual(expect.arrayContaining(['restore_failed', 'fallback', 'fallback_done']));
  // The pod that serves at the end is on the source's node.
  expect(result.timeline.events.find((e) => e.event === 'fallback_done')?.detail).toMatch(/serving on node-a after [\d.]+ ms/);
  expect(recovered(result)).toBe(true);
  expect(result.verification?.redisAckedWritesLost).toBe(0);
  expect(leftImages()).toEqual([]);
  expect(migbenchObjects().containers).toEqual([]);
});

it('with the service switched while CRIU restores (serviceSwitch: during-restore), CRIU killed mid-restore: the fallback switches it back', {
  timeout: 90_000,
}, async () => {
  let killer: ReturnType<typeof killCriuAfter> | undefined;
  const early = new CriuStrategy({
    name: 'criu',
    ip: 'new',
    freezer: 'action-script',
    targetPod: 'before-dump',
    pagePipes: 'sysctl',
    serviceSwitch: 'during-restore',
  });
  const result = await criuTrial('restore-killed-early-switch', { onFirstRestore: () => ((killer = killCriuAfter(20)), () => killer!.stop()) }, early);
  expect(await killer!.killed).toMatch(/^criu \d+/);
  expect(result.failedPhase).toBe('restore');
  expect(result.error).toMatch(/fell back: restored on node-a/);
  const events = result.timeline.events;
  const at = (name: string, from = 0) => events.findIndex((e, i) => i >= from && e.event === name);
  // The switch to the target came inside its (failed) restore, the switch back after the fallback's restore.
  const restoreStart = at('restore_start');
  const switchedEarly = at('service_endpoint', restoreStart);
  expect(switchedEarly).toBeGreaterThan(restoreStart);
  expect(at('restore_failed', restoreStart)).toBeGreaterThan(switchedEarly);
  const back = at('service_endpoint', at('fallback'));
  expect(back).toBeGreaterThan(at('restore_done', at('fallback')));
  expect(events[back]?.detail).not.toBe(events[switchedEarly]?.detail);
  expect(recovered(result)).toBe(true);
  expect(result.verification?.redisAckedWritesLost).toBe(0);
  expect(leftImages()).toEqual([]);
  expect(migbenchObjects().containers).toEqual([]);
});
