// Ctrl-C in the middle of an evacuation, end to end with the real CLI: the rows of the evacuation
// that had finished stay whole, the interrupted one's pods are failed rows saying so, node-a is
// uncordoned and nothing of migbench is left on the host.
//
// How the interrupt is made to land inside the moves: the run is two drain evacuations of 2 Redis
// pods. Once the first is on disk (its rows in trials.csv), the second's source pods are frozen
// (SIGSTOP) during its settle, so neither can act on its eviction's SIGTERM: the drains start both
// replacements and then wait out the 30 s grace period. When both replacements run, the test sends
// SIGINT to the CLI's process group, as Ctrl-C does.
import { afterEach, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parse } from 'csv-parse/sync';
import { migbench, migbenchDetached, type DetachedMigbench } from '../helpers/cli.ts';
import { migbenchObjects, NOTHING } from '../helpers/host.ts';
import { OBJECT_PREFIX, RUN_DIR } from '../../src/platforms/local/names.ts';
import { processAlive } from '../../src/system/processes.ts';

const GRACE_SECONDS = 30;

let base: string | undefined;
let run: DetachedMigbench | undefined;
const frozen: number[] = [];

afterEach(() => {
  run?.kill();
  for (const pid of frozen.splice(0)) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      /* already gone */
    }
  }
  run = undefined;
  if (base) {
    migbench(['cleanup', '--store', `${base}/store`], { timeoutMs: 120_000 });
    rmSync(base, { recursive: true, force: true });
  }
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** migbench's running pods: name (without the prefix) → app pid. */
function runningPods(): Map<string, number> {
  const list = JSON.parse(execFileSync('runc', ['list', '--format', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }) || '[]') as
    | { id: string; pid: number; status: string }[]
    | null;
  return new Map((list ?? []).filter((c) => c.id.startsWith(OBJECT_PREFIX) && c.status === 'running').map((c) => [c.id.slice(OBJECT_PREFIX.length), c.pid]));
}

const csv = (file: string) => (existsSync(file) ? (parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[]) : []);

it('Ctrl-C mid-evacuation exits 130, keeps the finished evacuation whole, uncordons the node and leaves nothing', { timeout: 300_000 }, async () => {
  base = mkdtempSync(`${tmpdir()}/migbench-evac-int-`);
  const out = `${base}/results`;
  const scenario = `${base}/evacuate-interrupt.yaml`;
  writeFileSync(
    scenario,
    `name: evacuate-interrupt
nodes: [node-a, node-b, node-c]
workloads: [{ type: redis, keys: 500 }]
evacuate: { pods: [{ workload: redis, count: 2 }], concurrency: 2, targets: [node-b, node-c] }
strategies: [{ name: drain, gracePeriodSeconds: ${GRACE_SECONDS} }]
repetitions: 2
timing: { settleMs: 6000, observeMs: 300 }
local: { checkpointDir: ${base}/store }
`,
  );
  run = migbenchDetached(['run', scenario, '--out', out]);
  const { until, diagnose } = run;

  try {
    await until('the first evacuation to be written', 180_000, () => (csv(`${out}/trials.csv`).length === 2 ? true : undefined));
    const firstPods = new Set(
      csv(`${out}/events.csv`)
        .filter((e) => e.event === 'pod_created')
        .map((e) => e.detail!.split(' ')[0]!),
    );
    // The second evacuation's two source pods, running on node-a: frozen once loaded (halfway through the 6 s settle).
    const sources = await until("the second evacuation's pods to run", 60_000, () => {
      const pods = [...runningPods()].filter(([name]) => !firstPods.has(name));
      return pods.length === 2 ? pods : undefined;
    });
    await sleep(3_000);
    for (const [, pid] of sources) {
      process.kill(pid, 'SIGSTOP');
      frozen.push(pid);
    }
    // Both replacements running: both drains now wait for their frozen pods' grace period.
    const replacements = await until('both replacements to run', 60_000, () => {
      const pods = [...runningPods()].filter(([name]) => !firstPods.has(name) && !sources.some(([s]) => s === name));
      return pods.length === 2 ? pods : undefined;
    });
    await sleep(500);
    const interruptedAt = performance.now();
    run.signalGroup('SIGINT');
    const { code, signal } = await run.exited;
    const exitMs = performance.now() - interruptedAt;
    expect({ code, signal }, diagnose()).toEqual({ code: 130, signal: null });
    expect(exitMs, `exit ${exitMs.toFixed(0)} ms after SIGINT`).toBeLessThan((GRACE_SECONDS / 2) * 1000);

    const trials = csv(`${out}/trials.csv`);
    expect(
      trials.map((t) => [t.evacuation, t.evacuation_pod, t.status]),
      diagnose(),
    ).toEqual([
      ['1', 'redis-p1', 'ok'],
      ['1', 'redis-p2', 'ok'],
      ['2', 'redis-p1', 'failed'],
      ['2', 'redis-p2', 'failed'],
    ]);
    for (const t of trials.slice(2)) {
      expect(t.failed_phase).toBe('migrate');
      expect(t.error).toContain('interrupted (SIGINT)');
    }
    const evacuations = csv(`${out}/evacuations.csv`);
    expect(evacuations.map((e) => [e.evacuation, e.pods_failed])).toEqual([
      ['1', '0'],
      ['2', '2'],
    ]);
    expect(evacuations[1]!.total_ms).toBe('');
    // Cordoned once for the evacuation, uncordoned on the interrupt's way out, in each pod's log.
    const events = csv(`${out}/events.csv`).filter((e) => e.trial === trials[2]!.trial);
    const index = (event: string) => events.findIndex((e) => e.event === event && e.detail === 'node-a');
    expect(index('node_cordoned')).toBeGreaterThanOrEqual(0);
    expect(index('node_uncordoned')).toBeGreaterThan(index('node_cordoned'));

    for (const [, pid] of [...sources, ...replacements]) expect(processAlive(pid)).toBe(false);
    expect(migbenchObjects()).toEqual(NOTHING);
    expect(existsSync(RUN_DIR), `${RUN_DIR} removed`).toBe(false);
    expect(migbench(['cleanup', '--store', `${base}/store`])).toMatchObject({ code: 0, stdout: 'migbench cleanup: nothing to remove\n' });
  } catch (err) {
    if (err instanceof Error) err.message += diagnose();
    throw err;
  }
});
