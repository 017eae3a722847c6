// Whether this process runs as root, and what to tell the user when it must and does not.

/** The local platform creates namespaces, runs runc and CRIU and edits iptables: all need root. */
export function rootProblem(commandLine: string): string | undefined {
  if (process.getuid?.() === 0) return undefined;
  return `migbench needs root (it creates network namespaces, runs runc and CRIU, and adds iptables rules). Run: sudo ${commandLine}`;
}
