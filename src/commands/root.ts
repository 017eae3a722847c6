// The root check of the commands that change the host (run on the local platform).
import { CommandFailure, EXIT_USAGE } from './exit-codes.ts';

/** The local platform creates namespaces, runs runc and CRIU and edits iptables: all need root. */
export function requireRoot(commandLine: string): void {
  if (process.getuid?.() !== 0) {
    throw new CommandFailure(
      `migbench needs root (it creates network namespaces, runs runc and CRIU, and adds iptables rules). Run: sudo ${commandLine}`,
      EXIT_USAGE,
    );
  }
}
