// The programs the local platform drives on this host (runc, CRIU, iptables, ip), as a run and a
// cleanup get them. Installing what is missing is the host setup's job (src/setup/), which the
// command that runs the platform hands in (commands/platform-support.ts): the platform itself
// installs nothing.
import type { WorkloadConfig } from '../../../scenario/schema.ts';
import type { LocalTools } from '../local-platform.ts';

export interface HostTools {
  /**
   * Makes every tool the run and its workloads need present (installing what is missing) and returns
   * their paths; fails before anything is created when one cannot be had. `versions`: for run.json.
   */
  ensure(
    workloadTypes: readonly WorkloadConfig['type'][],
    log: (line: string) => void,
    commandLine: string,
  ): Promise<{ tools: LocalTools; versions: () => Promise<Record<string, string>> }>;
  /** The tools as they are on the host now, for cleanup (installs nothing; CRIU only when usable). */
  find(): Promise<Omit<LocalTools, 'criu'> & { criu: string | undefined }>;
}
