// The lab's supervisor: a respawn loop, a shell that starts a program again when it exits — what
// systemd's Restart=always is for a user's containerd, and a Deployment for a user's dynamic
// provisioner. The lab runs each node's containerd (host-state.ts' launchInNode) and its
// shared-dir provisioner (lab-storage.ts) under it. The loop is the shell's $0, so host-state.ts'
// nodeProcesses finds it in /proc without a state file, and `cluster stop` ends the loops before
// what they run (else it would start it again).

export const RESPAWN_LOOP = 'migbench-respawn';

/**
 * A crash loop ends it: three exits in a row, each within 10 s of its start (systemd's start limit,
 * smaller), so a program that cannot start (a missing file, a dead API server) is not started every
 * second forever; the loop then exits with the program's last status and says so in the log. A
 * program that ran 10 s or more starts the count again: one crash now and then is restarted, as
 * often as it comes. One second between a program's exit and its next start.
 */
const RESPAWN_SCRIPT = `quick=0
while :; do
  started=$(date +%s)
  "$@"
  status=$?
  if [ $(( $(date +%s) - started )) -lt 10 ]; then quick=$((quick + 1)); else quick=0; fi
  if [ "$quick" -ge 3 ]; then
    echo "${RESPAWN_LOOP}: $1 exited ($status) 3 times within 10 s of its start: not starting it again" >&2
    exit "$status"
  fi
  echo "${RESPAWN_LOOP}: $1 exited ($status), starting it again" >&2
  sleep 1
done`;

/** The command line (program first) that runs `program args…` under the respawn loop. */
export function respawnCommand(program: string, args: readonly string[]): string[] {
  return ['sh', '-c', RESPAWN_SCRIPT, RESPAWN_LOOP, program, ...args];
}

/** Whether a process's command line is a respawn loop's (respawnCommand's, as /proc shows it). */
export function isRespawnLoop(args: readonly string[]): boolean {
  return args[1] === '-c' && args[3] === RESPAWN_LOOP;
}
