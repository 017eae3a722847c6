// `migbench cleanup`: removes everything migbench created on the platform, found by name or label
// (local: this host's containers, namespaces, rules and stores; kubernetes: the namespace's objects,
// the cordons, and through the node agent what kubelet-checkpoint left on the nodes). Safe to run at any time when no run
// is in progress; does nothing on a clean platform.
import type { PlatformName } from '../platforms/registry.ts';
import type { CleanupRequest } from '../runner/platform-driver.ts';
import { CommandFailure, EXIT_USAGE } from './exit-codes.ts';
import { hostPlatformDrivers } from './platform-support.ts';

export async function cleanupCommand(platform: PlatformName, request: CleanupRequest): Promise<number> {
  const outcome = await hostPlatformDrivers()[platform].cleanup(request);
  if ('problems' in outcome) throw new CommandFailure(outcome.problems.join('\n'), EXIT_USAGE);
  const { removed } = outcome;
  process.stdout.write(
    removed.length === 0 ? 'migbench cleanup: nothing to remove\n' : `migbench cleanup: removed\n${removed.map((r) => `  ${r}`).join('\n')}\n`,
  );
  return 0;
}
