// migbench itself SIGKILLed in the middle of a trial — no handler runs, nothing is torn down — at
// several points of a trial (settle, the dump, the restore, the switch, observe): afterwards
// `migbench cleanup` leaves nothing of migbench on the host, the trials finished before the kill are
// complete and parseable in every CSV, and the next run starts normally.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, expect, inject, it } from 'vitest';
import { migbench } from '../helpers/cli.ts';
import { migbenchObjects, NOTHING } from '../helpers/host.ts';
import { argsForAttempt } from '../helpers/attempt.ts';

const root = mkdtempSync(`${tmpdir()}/migbench-sigkill-`);
const store = `${root}/store`;
afterAll(() => {
  // Whatever happened in a test: the host must not keep what a killed run left.
  migbench(['cleanup', '--store', store]);
  rmSync(root, { recursive: true, force: true });
});

function scenario(name: string, strategy: string): string {
  const file = `${root}/${name}.yaml`;
  writeFileSync(
    file,
    [
      `name: ${name}`,
      'workloads: [{ type: redis, keys: 20000 }]',
      `strategies: [${strategy}]`,
      'repetitions: 2',
      'warmup: 0',
      'timing: { settleMs: 1000, observeMs: 1500 }',
      'probe: { intervalMs: 5 }',
      `local: { checkpointDir: ${store} }`,
      '',
    ].join('\n'),
  );
  return file;
}

/** Processes running `binary`, with their parent's command line. */
function processesOf(binary: string): { pid: number; parent: string }[] {
  const out: { pid: number; parent: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/exe`) !== binary) continue;
      const ppid = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]!;
      out.push({ pid: Number(entry), parent: readFileSync(`/proc/${ppid}/cmdline`, 'utf8').replace(/\0/g, ' ') });
    } catch {
      /* gone */
    }
  }
  return out;
}

const criuUnder = (runcCommand: string) => () => processesOf(inject('tools').criu).some((p) => p.parent.includes(` ${runcCommand} `));
const aContainer = () => migbenchObjects().containers.length > 0;

/**
 * The kill points: `when` is polled (every 2 ms) once the first trial is in trials.csv, and the run
 * is SIGKILLed `delayMs` after it first holds.
 */
const points: { name: string; strategy: string; when: () => boolean; delayMs: number }[] = [
  { name: 'settle', strategy: 'redeploy', when: aContainer, delayMs: 700 },
  { name: 'dump', strategy: 'criu', when: criuUnder('checkpoint'), delayMs: 30 },
  { name: 'restore', strategy: 'criu', when: criuUnder('restore'), delayMs: 20 },
  // Restore done → readiness → the service switch: right after the restore's CRIU is gone.
  {
    name: 'switch',
    strategy: 'criu',
    when: (() => {
      let seen = false;
      return () => (criuUnder('restore')() ? ((seen = true), false) : seen);
    })(),
    delayMs: 0,
  },
  { name: 'observe', strategy: 'drain', when: aContainer, delayMs: 2600 },
];

/** Every line complete, every row with the header's cells; returns the rows. */
function csvRows(file: string): Record<string, string>[] {
  const text = readFileSync(file, 'utf8');
  expect(text.endsWith('\n'), `${file} ends with a newline`).toBe(true);
  return parse(text, { columns: true }) as Record<string, string>[];
}

it.each(points)(
  'SIGKILL during $name ($strategy): cleanup leaves nothing; finished trials complete',
  { timeout: 240_000 },
  async ({ name, strategy, when, delayMs }) => {
    const out = `${root}/results-${name}`;
    const child = spawn('sh', [resolve('bin/migbench'), ...argsForAttempt(['run', scenario(name, strategy), '--out', out, '--quiet'])], { stdio: 'ignore' });
    const exited = new Promise<number | null>((res) => child.on('exit', (code, signal) => res(signal ? -1 : code)));
    let killedAt = '';
    try {
      // Wait for the first trial's row, then for the point of the second trial.
      const deadline = Date.now() + 180_000;
      let heldSince: number | undefined;
      while (Date.now() < deadline && child.exitCode === null) {
        const rows = existsSync(`${out}/trials.csv`) ? readFileSync(`${out}/trials.csv`, 'utf8').split('\n').length - 2 : 0;
        if (rows >= 1) {
          if (heldSince === undefined && when()) heldSince = Date.now();
          if (heldSince !== undefined && Date.now() - heldSince >= delayMs) {
            child.kill('SIGKILL'); // bin/migbench execs node: this is migbench itself
            killedAt = name;
            break;
          }
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    } finally {
      if (!killedAt) child.kill('SIGKILL');
    }
    expect(await exited).toBe(-1);
    expect(killedAt).toBe(name);

    // What the kill left (a container, its netns, rules …), then what cleanup leaves.
    const left = migbenchObjects();
    const cleanup = migbench(['cleanup', '--store', store]);
    expect(cleanup.code, cleanup.stderr).toBe(0);
    console.log(`SIGKILL during ${name} (${strategy}): left ${JSON.stringify(left)}; cleanup: ${cleanup.stdout.replace(/\s+/g, ' ').slice(0, 600)}`);
    expect(migbenchObjects()).toEqual(NOTHING);
    expect(processesOf(inject('tools').criu)).toEqual([]);
    expect(processesOf(inject('tools').redisServer).filter((p) => p.parent.includes('runc') || p.parent.includes('migbench'))).toEqual([]);
    expect(
      readFileSync('/proc/mounts', 'utf8')
        .split('\n')
        .filter((l) => l.includes(store)),
    ).toEqual([]);
    expect(existsSync('/run/migbench/lock')).toBe(false);

    // The trial finished before the kill is there, whole, in every CSV; nothing torn.
    const trials = csvRows(`${out}/trials.csv`);
    expect(trials.length).toBeGreaterThanOrEqual(1);
    const samples = csvRows(`${out}/samples.csv`);
    const events = csvRows(`${out}/events.csv`);
    for (const t of trials) {
      expect(samples.filter((s) => s.trial === t.trial).length).toBeGreaterThan(100);
      expect(events.some((e) => e.trial === t.trial && e.event === 'trigger')).toBe(true);
    }
  },
);

it('the next run starts normally after a kill and a cleanup', { timeout: 240_000 }, () => {
  const file = scenario('after-kill', 'criu').replace(/$/, '');
  writeFileSync(file, readFileSync(file, 'utf8').replace('repetitions: 2', 'repetitions: 1'));
  const r = spawnSync('sh', [resolve('bin/migbench'), ...argsForAttempt(['run', file, '--out', `${root}/results-after`, '--quiet'])], {
    encoding: 'utf8',
    timeout: 200_000,
  });
  expect({ code: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(migbenchObjects()).toEqual(NOTHING);
});
