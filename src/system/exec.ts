// Running host commands (runc, criu, ip, iptables, apt-get). One helper so every call has a
// timeout, captures its output and fails with the command line and stderr in the message.
import { spawn, type SpawnOptions } from 'node:child_process';

export class CommandError extends Error {
  readonly command: string;
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  constructor(command: string, exitCode: number | null, stdout: string, stderr: string, why?: string) {
    const tail = (stderr.trim() || stdout.trim()).split('\n').slice(-6).join('\n');
    super(`${command}: ${why ?? `exit ${exitCode}`}${tail ? `\n${tail}` : ''}`);
    this.name = 'CommandError';
    this.command = command;
    this.exitCode = exitCode;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

export interface ExecOptions {
  /** Kill the command (SIGKILL) after this long. Default 120 s. */
  timeoutMs?: number;
  /** Accept a non-zero exit instead of throwing. */
  allowFailure?: boolean;
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Stream the command's output to our stderr as it comes (long installs and builds). */
  showOutput?: boolean;
}

export interface ExecResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export function exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const command = [file, ...args].join(' ');
  const spawnOptions: SpawnOptions = {
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    cwd: options.cwd,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, spawnOptions);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (options.showOutput) process.stderr.write(d);
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (options.showOutput) process.stderr.write(d);
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new CommandError(command, null, stdout, stderr, err.message));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) return reject(new CommandError(command, code, stdout, stderr, `timed out after ${options.timeoutMs ?? 120_000} ms`));
      if (code !== 0 && !options.allowFailure) return reject(new CommandError(command, code, stdout, stderr));
      resolve({ exitCode: code, stdout, stderr });
    });
  });
}

/** Runs a command and returns its trimmed stdout; throws on failure. */
export async function run(file: string, args: readonly string[], options: ExecOptions = {}): Promise<string> {
  return (await exec(file, args, options)).stdout.trim();
}
