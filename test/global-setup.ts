// Runs once before the suite. Integration tests drive real runc, CRIU, iptables and redis-server,
// so they need root and the prerequisites installed; `npm test` installs what is missing (the same
// code path as `npm run bench`) instead of asking for a manual step.
export default async function setup(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error('migbench tests drive runc, CRIU and iptables and must run as root: sudo npm test');
  }
}
