// The host's processes as /proc shows them: whether one is alive, waiting until one has exited, and
// finding them. Cleanup and both clusters find what they started this way rather than from a state
// file, which a killed run may have lost or left stale.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { sleep } from '../clock.ts';

export interface HostProcess {
  pid: number;
  /** The executable's path; " (deleted)" dropped: the binary may have been rebuilt while it ran. */
  binary: string;
  /** The command line, one element per argument. */
  args: string[];
}

/** Every process whose executable passes `wanted` (command lines are read only for those). */
export function findProcesses(wanted: (binary: string) => boolean): HostProcess[] {
  const found: HostProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const binary = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
      if (!wanted(binary)) continue;
      found.push({ pid, binary, args: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0') });
    } catch {
      /* gone meanwhile, a kernel thread, or not ours to read */
    }
  }
  return found;
}

/** True while the process exists and is not a zombie. */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3 (state) follows the command name in parentheses, which may itself contain spaces.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Waits until the process is gone; polls /proc every millisecond-ish so a stop time is measured, not guessed. */
export async function waitForExit(pid: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (processAlive(pid)) {
    if (performance.now() >= deadline) return false;
    await sleep(2, signal);
  }
  return true;
}
