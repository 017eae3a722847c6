// Runs the migbench CLI in a test as a user would: to its end, or started detached to be interrupted.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { argsForAttempt } from './attempt.ts';

const root = resolve(import.meta.dirname, '..', '..');

/** Runs the migbench CLI as a user would (through bin/migbench), returning its exit code and output. */
export function migbench(args: string[], options: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {}) {
  const result = spawnSync('sh', [`${root}/bin/migbench`, ...argsForAttempt(args)], {
    cwd: options.cwd ?? root,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 300_000,
    env: { ...process.env, FORCE_COLOR: '0', ...options.env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** migbench started as a terminal starts a job (its own process group), its output collected: for tests that interrupt it. */
export interface DetachedMigbench {
  readonly child: ChildProcess;
  /** Resolves when it exited, with its code or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Its stdout and stderr so far, to append to an assertion's message. */
  diagnose(): string;
  /** Sends `signal` to its whole process group, as Ctrl-C (SIGINT) does in a terminal. */
  signalGroup(signal: NodeJS.Signals): void;
  /** Until `probe` gives a value (every 50 ms); fails at once, saying so, if migbench exited meanwhile. */
  until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T>;
  /** SIGKILL to its process group if it still runs (an afterEach's clean-up after a failed test). */
  kill(): void;
}

export function migbenchDetached(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): DetachedMigbench {
  const child = spawn('sh', [`${root}/bin/migbench`, ...argsForAttempt(args)], {
    cwd: options.cwd ?? root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0', ...options.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    exited,
    diagnose: () => `\n--- migbench stdout ---\n${stdout}\n--- migbench stderr ---\n${stderr}`,
    signalGroup: (signal) => process.kill(-child.pid!, signal),
    async until(what, timeoutMs, probe) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (!running()) throw new Error(`migbench exited (${child.exitCode ?? child.signalCode}) while waiting for ${what}`);
        const value = await probe();
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    kill() {
      if (!child.pid || !running()) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    },
  };
}

/**
 * What a run that should have passed says about itself, for an assertion's message: its output
 * (empty under --quiet) and each trial that is not ok, from the trials.csv in `out`.
 */
export function runDiagnosis(out: string, result: { stdout: string; stderr: string }): string {
  const trials = join(out, 'trials.csv');
  const failed = existsSync(trials)
    ? (parse(readFileSync(trials, 'utf8'), { columns: true }) as Record<string, string>[])
        .filter((t) => t.status !== 'ok')
        .map(
          (t) => `trial ${t.trial} ${t.workload} ${t.strategy}${t.evacuation_pod ? ` ${t.evacuation_pod}` : ''}: ${t.status} in ${t.failed_phase}: ${t.error}`,
        )
    : ['(no trials.csv)'];
  return [result.stdout, result.stderr, ...failed].filter((s) => s !== '').join('\n');
}
