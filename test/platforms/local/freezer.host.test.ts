// The harness's own freeze (`freezer: harness`, src/platforms/local/freezer.ts): a pod whose shell
// forks a child all the time is frozen; while FROZEN no task of its cgroup runs or appears (none
// escapes, also one forked while freezing), and once thawed the loop forks again.
import { expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import type { LocalPlatform } from '../../../src/platforms/local/local-platform.ts';
import type { LocalPod } from '../../../src/platforms/local/pods.ts';
import {
  containerFreezer,
  freezeCgroup,
  freezeScript,
  isFrozen,
  readScriptReport,
  thawCgroup,
  type CgroupFreezer,
} from '../../../src/platforms/local/freezer.ts';
import { useTestPlatform } from '../../helpers/platform.ts';
import { silentEvents } from '../../helpers/host.ts';

let platform: LocalPlatform;
useTestPlatform((p) => (platform = p));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every task of the cgroup with its CPU time so far (utime + stime, clock ticks), sorted by tid. */
function tasks(f: CgroupFreezer): string[] {
  const tids = readFileSync(`${f.dir}/${f.version === 1 ? 'tasks' : 'cgroup.threads'}`, 'utf8')
    .split('\n')
    .filter(Boolean);
  return tids
    .map((tid) => {
      try {
        const fields = readFileSync(`/proc/${tid}/stat`, 'utf8')
          .replace(/^.*\) /, '')
          .split(' ');
        return `${tid}:${fields[11]}+${fields[12]}`;
      } catch {
        return `${tid}:gone`;
      }
    })
    .sort();
}

it('freezes a forking pod within milliseconds; nothing runs or appears while frozen; it runs again once thawed', { timeout: 60_000 }, async () => {
  const pod = (await platform.startPod(
    { app: 'forker', command: ['/bin/sh', '-c', 'while :; do /bin/true & wait; done'], port: 1, volumes: [] },
    'node-a',
    silentEvents,
  )) as LocalPod;
  try {
    const f = containerFreezer(pod.containerId);
    await sleep(300);
    const t0 = performance.now();
    await freezeCgroup(f);
    const freezeMs = performance.now() - t0;
    expect(isFrozen(f)).toBe(true);
    // The goal of the option: well under CRIU's 100 ms polling step (typically ~1 ms here).
    expect(freezeMs).toBeLessThan(50);
    const frozen = tasks(f);
    expect(frozen.length).toBeGreaterThan(0);
    await sleep(300);
    expect(tasks(f), 'no task ran, ended or appeared while frozen').toEqual(frozen);
    thawCgroup(f);
    await sleep(300);
    expect(isFrozen(f)).toBe(false);
    expect(tasks(f), 'the loop forked again once thawed').not.toEqual(frozen);
  } finally {
    await platform.removePod(pod);
  }
});

it('freezes it the same way from CRIU’s pre-dump action script, and reports how long that took; other actions do nothing', { timeout: 60_000 }, async () => {
  const pod = (await platform.startPod(
    { app: 'forker', command: ['/bin/sh', '-c', 'while :; do /bin/true & wait; done'], port: 1, volumes: [] },
    'node-a',
    silentEvents,
  )) as LocalPod;
  const dir = mkdtempSync(`${tmpdir()}/migbench-freeze-script-`);
  try {
    const f = containerFreezer(pod.containerId);
    writeFileSync(`${dir}/freeze.sh`, freezeScript(f, `${dir}/report`), { mode: 0o755 });
    await sleep(300);
    const run = (action: string) => spawnSync(`${dir}/freeze.sh`, { env: { ...process.env, CRTOOLS_SCRIPT_ACTION: action }, encoding: 'utf8' });
    expect(run('post-dump').status).toBe(0);
    expect(isFrozen(f)).toBe(false);
    expect(readScriptReport(`${dir}/report`)).toBeUndefined();
    const done = run('pre-dump');
    expect({ status: done.status, stderr: done.stderr }).toEqual({ status: 0, stderr: '' });
    expect(isFrozen(f)).toBe(true);
    const report = readScriptReport(`${dir}/report`)!;
    expect(report.reads).toBeGreaterThan(0);
    expect(report.freezeUs).toBeGreaterThan(0);
    expect(report.freezeUs).toBeLessThan(50_000);
    const frozen = tasks(f);
    await sleep(300);
    expect(tasks(f), 'no task ran, ended or appeared while frozen').toEqual(frozen);
    thawCgroup(f);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await platform.removePod(pod);
  }
});
