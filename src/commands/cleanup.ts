// `migbench cleanup`: removes everything migbench created on this host, found by name. Safe to run
// at any time when no run is in progress; does nothing on a clean host.
import { cleanupLocalHost, otherLockHolder } from '../platforms/local/cleanup.ts';
import { findCriu } from '../setup/criu.ts';
import { run } from '../system/exec.ts';
import { CommandFailure, EXIT_USAGE } from './exit-codes.ts';
import { requireRoot } from './root.ts';

const DEFAULT_STORE = '/var/lib/migbench/store';

async function which(tool: string): Promise<string> {
  return (await run('sh', ['-c', `command -v ${tool} || true`])) || tool;
}

export async function cleanupCommand(args: { stores: string[]; commandLine: string }): Promise<number> {
  requireRoot(args.commandLine);
  const holder = otherLockHolder();
  if (holder !== undefined) {
    throw new CommandFailure(`a migbench run (pid ${holder}) is in progress; stop it first (Ctrl-C lets it clean up itself)`, EXIT_USAGE);
  }
  const removed = await cleanupLocalHost({
    runc: await which('runc'),
    iptables: await which('iptables'),
    ip: await which('ip'),
    criu: (await findCriu())?.path,
    checkpointDirs: [DEFAULT_STORE, ...args.stores],
  });
  process.stdout.write(removed.length === 0 ? 'migbench cleanup: nothing to remove\n' : `migbench cleanup: removed\n${removed.map((r) => `  ${r}`).join('\n')}\n`);
  return 0;
}
