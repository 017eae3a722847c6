// The lab's respawn loop (src/lab/nodes/respawn.ts), which runs each node's containerd and the
// lab's provisioner: it starts a program again when it exits, gives up on a crash loop (three quick
// exits) with the program's status, and dies of SIGTERM at once while its program lives on — what
// `cluster stop` relies on when it ends the loops before what they run.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { processAlive } from '../../../src/system/processes.ts';
import { isRespawnLoop, RESPAWN_LOOP, respawnCommand } from '../../../src/lab/nodes/respawn.ts';

const dir = mkdtempSync(join(tmpdir(), 'migbench-respawn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The loop's log is a file, not a pipe: a program that outlives the loop would hold a pipe open. */
function runLoop(program: string, args: string[], log: string) {
  const [sh, ...rest] = respawnCommand(program, args);
  const fd = openSync(log, 'w');
  const child = spawn(sh!, rest, { stdio: ['ignore', 'ignore', fd] });
  closeSync(fd);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { pid: child.pid!, exited };
}

it('starts a program again when it exits, and gives up after three exits within 10 s of their start, with its status', async () => {
  const runs = join(dir, 'runs');
  const t0 = performance.now();
  const { code } = await runLoop('sh', ['-c', 'echo run >> "$0"; exit 3', runs], join(dir, 'crash.log')).exited;
  const ms = performance.now() - t0;
  expect(readFileSync(runs, 'utf8')).toBe('run\nrun\nrun\n');
  expect(code).toBe(3);
  expect(readFileSync(join(dir, 'crash.log'), 'utf8')).toMatch(
    new RegExp(`${RESPAWN_LOOP}: sh exited \\(3\\), starting it again\\n.*\\n${RESPAWN_LOOP}: sh exited \\(3\\) 3 times within 10 s`),
  );
  // One second between an exit and the next start: two waits, then the end.
  expect(ms).toBeGreaterThanOrEqual(2000);
  expect(ms).toBeLessThan(8000);
}, 15_000);

it('dies of SIGTERM at once while its program runs, and the program lives on', async () => {
  const pidFile = join(dir, 'pid');
  const loop = runLoop('sh', ['-c', 'echo $$ > "$0"; exec sleep 60', pidFile], join(dir, 'term.log'));
  let program = 0;
  for (const deadline = Date.now() + 5000; !program && Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
    try {
      program = Number(readFileSync(pidFile, 'utf8').trim());
    } catch {
      /* not written yet */
    }
  }
  expect(program).toBeGreaterThan(0);
  process.kill(loop.pid, 'SIGTERM');
  expect((await loop.exited).signal).toBe('SIGTERM');
  expect(processAlive(program)).toBe(true);
  process.kill(program, 'SIGKILL');
});

it('is known by its command line as /proc shows it', () => {
  const args = respawnCommand('/usr/bin/node', ['/x/src/lab/nodes/shared-dir-provisioner.ts', '--ready', '/run/migbench-cluster/ready']);
  expect(isRespawnLoop(args)).toBe(true);
  expect(args.slice(4)).toEqual(['/usr/bin/node', '/x/src/lab/nodes/shared-dir-provisioner.ts', '--ready', '/run/migbench-cluster/ready']);
  expect(isRespawnLoop(['sh', '-c', 'echo', 'other'])).toBe(false);
  expect(isRespawnLoop(['/usr/bin/node', '/x/src/lab/nodes/shared-dir-provisioner.ts'])).toBe(false);
});
