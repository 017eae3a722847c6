// Issue 3's acceptance criterion, end to end with the real CLI: "A drain interrupted with Ctrl-C
// leaves the node uncordoned and nothing running."
//
// How the interrupt is made to land inside the drain, every time: the source pod's Redis is frozen
// (SIGSTOP) during the settle phase, so it cannot act on the eviction's SIGTERM. The drain then
// cordons node-a, evicts the pod, starts the replacement on node-b (a Deployment does not wait), puts
// it in the service and waits out the frozen pod's 30 s grace period — `kubectl drain` returns only
// once the evicted pod is gone. The test sees the replacement answer through the service (so the
// drain is surely in progress, well inside that 30 s window) and sends SIGINT to the CLI's process
// group, as Ctrl-C in a terminal does.
//
// What it proves, all through what is observable from outside the process: exit code 130, soon
// (not after the grace period); the trial's events (written when the interrupted trial is torn down)
// show node-a cordoned and then uncordoned; the results measured so far are on disk; and nothing of
// migbench is left on the host — no container, network namespace, veth, bridge, iptables rule,
// cgroup, mount, volume, pod process or run directory.
import { afterEach, expect, it } from 'vitest';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { Redis } from 'ioredis';
import { migbench } from '../helpers/cli.ts';
import { migbenchObjects, NOTHING } from '../helpers/host.ts';
import { Subnet } from '../../src/platforms/local/network.ts';
import { LOCK_FILE, RUN_DIR, containerId } from '../../src/platforms/local/names.ts';
import { processAlive } from '../../src/system/processes.ts';
import { PROBE_KEY } from '../../src/probes/redis-probe.ts';
import { argsForAttempt } from '../helpers/attempt.ts';

const root = resolve(import.meta.dirname, '..', '..');
const SUBNET = '198.18.0.0/24';
const GRACE_SECONDS = 30;
/** The scenario's only service: the first one a fresh local platform makes (bridge address, port 30000). */
const SERVICE = { host: new Subnet(SUBNET).gateway, port: 30_000 };

let base: string;
let child: ChildProcess | undefined;
const frozen: number[] = [];

afterEach(() => {
  // Whatever failed above: no CLI left running, no pod left frozen or running, nothing on the host.
  if (child?.pid && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (const pid of frozen.splice(0)) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      /* already gone */
    }
  }
  child = undefined;
  if (base) {
    migbench(['cleanup', '--store', `${base}/store`], { timeoutMs: 120_000 });
    rmSync(base, { recursive: true, force: true });
  }
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`migbench exited (${child.exitCode ?? child.signalCode}) while waiting for ${what}`);
    }
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** One Redis command through the service; undefined when it does not answer (refused, frozen, not there yet). */
async function redis<T>(f: (c: Redis) => Promise<T>): Promise<T | undefined> {
  const client = new Redis({
    ...SERVICE,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: 200,
    commandTimeout: 200,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await f(client);
  } catch {
    return undefined;
  } finally {
    client.disconnect(false);
  }
}

/** The pid of a running pod's app (runc state), or undefined while the container is not running. */
function podPid(pod: string): number | undefined {
  try {
    const state = JSON.parse(execFileSync('runc', ['state', containerId(pod)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as {
      status: string;
      pid: number;
    };
    return state.status === 'running' && state.pid > 0 ? state.pid : undefined;
  } catch {
    return undefined;
  }
}

/** Host mounts under anything migbench or this test owns (the run directory, the store). */
function migbenchMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((mountPoint) => mountPoint.startsWith(RUN_DIR) || mountPoint.startsWith(base));
}

/** The pid of another migbench run holding the host lock (a benchmark beside the tests), if any. */
function otherRun(): number | undefined {
  const pid = existsSync(LOCK_FILE) ? Number.parseInt(readFileSync(LOCK_FILE, 'utf8'), 10) : Number.NaN;
  return Number.isInteger(pid) && processAlive(pid) ? pid : undefined;
}

const csv = (file: string) => parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];

it('Ctrl-C during a drain exits 130, uncordons the node, keeps the results and leaves nothing running', { timeout: 420_000 }, async () => {
  // One run per host: wait for a run already in progress instead of failing on its lock.
  await until('another migbench run to finish (host lock)', 180_000, () => (otherRun() === undefined ? true : undefined));
  base = mkdtempSync(`${tmpdir()}/migbench-drain-int-`);
  const out = `${base}/results`;
  const scenario = `${base}/drain-interrupt.yaml`;
  writeFileSync(
    scenario,
    [
      'name: drain-interrupt',
      'platform: local',
      'nodes: [node-a, node-b]',
      'migration: { from: node-a, to: node-b }',
      'workloads:',
      '  - type: redis',
      '    keys: 20000',
      '    valueBytes: 64',
      'strategies:',
      '  - name: drain',
      `    gracePeriodSeconds: ${GRACE_SECONDS}`,
      '    controller: deployment',
      'repetitions: 1',
      'warmup: 0',
      'seed: 1',
      'timing:',
      // Long enough to freeze the source calmly once the probe has started; the trial never gets to observe.
      '  settleMs: 4000',
      '  observeMs: 3000',
      '  readyTimeoutMs: 60000',
      'probe:',
      '  intervalMs: 5',
      'local:',
      `  subnet: ${SUBNET}`,
      `  checkpointDir: ${base}/store`,
      `output: { dir: ${out} }`,
      '',
    ].join('\n'),
  );

  // The CLI as a user starts it, in its own process group: the group is what Ctrl-C signals.
  child = spawn('sh', [`${root}/bin/migbench`, ...argsForAttempt(['run', scenario, '--out', out])], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child!.on('exit', (code, signal) => done({ code, signal })));
  const diagnose = () => `\n--- migbench stdout ---\n${stdout}\n--- migbench stderr ---\n${stderr}`;

  try {
    // Settle: the probe's first write exists only once the data set is loaded and probing began.
    await until('the probe to start (settle phase)', 120_000, () => redis(async (c) => ((await c.exists(PROBE_KEY)) === 1 ? true : undefined)));
    const sourcePid = await until('the source pod redis-1 to run', 10_000, () => podPid('redis-1'));
    process.kill(sourcePid, 'SIGSTOP'); // it can no longer act on SIGTERM: only SIGKILL, after the grace period, ends it
    frozen.push(sourcePid);

    // The drain: the replacement answers through the service only after node-a was cordoned, the
    // frozen pod evicted and redis-2 started on node-b and made ready. From then on the drain waits
    // for the frozen pod to end (30 s): the Ctrl-C lands inside the strategy.
    await until('the replacement redis-2 to serve the service (drain in progress)', 60_000, () =>
      redis(async (c) => ((await c.ping()) === 'PONG' ? true : undefined)),
    );
    const replacementPid = podPid('redis-2');
    expect(replacementPid, 'the replacement pod redis-2 runs').toBeGreaterThan(0);
    expect(processAlive(sourcePid), 'the evicted source is still terminating').toBe(true);

    const interruptedAt = performance.now();
    process.kill(-child.pid!, 'SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const { code, signal } = await Promise.race([
      exited,
      new Promise<never>((_, fail) => {
        timer = setTimeout(() => fail(new Error(`migbench did not exit within 120 s of SIGINT${diagnose()}`)), 120_000);
      }),
    ]).finally(() => clearTimeout(timer));
    const exitMs = performance.now() - interruptedAt;

    expect({ code, signal }, diagnose()).toEqual({ code: 130, signal: null });
    expect(stderr).toContain('SIGINT: stopping after cleaning up');
    // Ctrl-C stops waiting for the evicted pod: the run ends well before its grace period would have.
    expect(exitMs, `exit ${exitMs.toFixed(0)} ms after SIGINT`).toBeLessThan((GRACE_SECONDS / 2) * 1000);

    // The results measured so far are kept: the interrupted trial's row, samples and events.
    for (const file of ['run.json', 'trials.csv', 'samples.csv', 'events.csv']) expect(existsSync(`${out}/${file}`), file).toBe(true);
    const trials = csv(`${out}/trials.csv`);
    expect(trials).toHaveLength(1);
    expect(trials[0]).toMatchObject({ strategy: 'drain', status: 'failed', failed_phase: 'migrate' });
    expect(trials[0]!.error).toContain('interrupted (SIGINT)');
    expect(csv(`${out}/samples.csv`).filter((s) => s.trial === '1').length).toBeGreaterThan(100);
    const run = JSON.parse(readFileSync(`${out}/run.json`, 'utf8'));
    expect(run.endedAt).toMatch(/Z$/);
    expect(run.trials).toMatchObject({ planned: 1, failed: 1, ok: 0 });

    // The node is uncordoned. The cordon lives in LocalPlatform's memory, so the proof is the event
    // LocalPlatform.uncordon records (node_uncordoned; close() clears cordons silently, so only the
    // strategy's own uncordon can produce it): after the drain cordoned node-a and evicted the pod,
    // on the interrupt's way out (the trial's `failed` event follows it, the drain never finished).
    const events = csv(`${out}/events.csv`).filter((e) => e.trial === '1');
    const timeline = `events.csv:\n${events.map((e) => `  ${e.t_ms} ${e.source} ${e.event} ${e.detail}`).join('\n')}`;
    const index = (event: string, detail?: string | RegExp) =>
      events.findIndex((e) => e.event === event && (detail === undefined || (typeof detail === 'string' ? e.detail === detail : detail.test(e.detail!))));
    const cordoned = index('node_cordoned', 'node-a');
    const evicted = index('evicted', 'redis-1');
    const uncordoned = index('node_uncordoned', 'node-a');
    const failed = index('failed');
    expect(cordoned, timeline).toBeGreaterThanOrEqual(0);
    expect(evicted, timeline).toBeGreaterThan(cordoned);
    expect(index('service_endpoint', /^redis -> redis-2 /), timeline).toBeGreaterThan(evicted);
    expect(uncordoned, timeline).toBeGreaterThan(evicted);
    expect(failed, timeline).toBeGreaterThan(uncordoned);
    expect(events[failed]!.detail, timeline).toMatch(/^migrate: interrupted \(SIGINT\)/);
    expect(
      events.filter((e) => e.event === 'node_cordoned'),
      timeline,
    ).toHaveLength(1);
    expect(
      events.filter((e) => e.event === 'node_uncordoned'),
      timeline,
    ).toHaveLength(1);
    expect(index('migrated'), `${timeline}\nthe drain never completed`).toBe(-1);

    // Nothing running, nothing left.
    expect(processAlive(sourcePid), 'the frozen source pod is gone').toBe(false);
    expect(processAlive(replacementPid!), 'the replacement pod is gone').toBe(false);
    expect(migbenchObjects()).toEqual(NOTHING);
    expect(migbenchMounts()).toEqual([]);
    expect(existsSync(RUN_DIR), `${RUN_DIR} (pods, lock) removed`).toBe(false);
    for (const sub of ['volumes', 'checkpoints']) expect(readdirSync(`${base}/store/${sub}`), `store/${sub}`).toEqual([]);
    // `migbench cleanup` finds nothing to remove.
    const cleanup = migbench(['cleanup', '--store', `${base}/store`]);
    expect(cleanup).toMatchObject({ code: 0, stdout: 'migbench cleanup: nothing to remove\n' });
  } catch (err) {
    if (err instanceof Error && !err.message.includes('--- migbench stderr ---')) err.message += diagnose();
    throw err;
  }
});
