// The host's processes as /proc shows them. Cleanup and both clusters find what they started this
// way rather than from a state file, which a killed run may have lost or left stale.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

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
