// The local platform as a driver (runner/platform-driver.ts): a run here needs root and changes
// nothing outside this host (so there is no dry run); cleanup removes everything migbench made on
// the host, found by name, unless a run holds the host's lock.
import type { PlatformDriver } from '../../../runner/platform-driver.ts';
import { rootProblem } from '../../../system/root.ts';
import { cleanupLocalHost, otherLockHolder } from '../cleanup.ts';
import type { HostTools } from './host-tools.ts';
import { prepareLocalRun } from './run.ts';

/** The store a scenario uses unless it names another (local.checkpointDir). */
const DEFAULT_STORE = '/var/lib/migbench/store';

export function localDriver(hostTools: HostTools): PlatformDriver {
  return {
    async validate(request) {
      const problems: string[] = [];
      if (request.dryRun)
        problems.push('--dry-run: only with platform: kubernetes (a local run changes nothing outside this host; `migbench validate` shows its plan)');
      const root = rootProblem(request.commandLine);
      if (root) problems.push(root);
      return problems;
    },
    prepare: (request) => prepareLocalRun(request, hostTools),
    async cleanup(request) {
      if (request.cluster.allNamespaces) return { problems: ['--all-namespaces: only with --platform kubernetes (it says whose leftovers go on the nodes)'] };
      const root = rootProblem(request.commandLine);
      if (root) return { problems: [root] };
      const holder = otherLockHolder();
      if (holder !== undefined) return { problems: [`a migbench run (pid ${holder}) is in progress; stop it first (Ctrl-C lets it clean up itself)`] };
      const tools = await hostTools.find();
      return { removed: await cleanupLocalHost({ ...tools, checkpointDirs: [DEFAULT_STORE, ...request.stores] }) };
    },
  };
}
