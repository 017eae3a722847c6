// A CRIU that dies in the middle of `runc restore`, after it has forked the pod's tasks, leaves runc
// waiting for ever: those half-restored tasks are runc's children (CRIU restores them as its
// siblings) and still hold CRIU's end of runc's RPC socket, so runc never reads the end of it and
// never reports the failure — the restore, and with it the fallback to the source, hangs (seen with
// CRIU SIGKILLed ≈ 20 ms into a restore: test/strategies/criu/faults.host.test.ts). Killed earlier,
// before the fork, CRIU leaves nothing behind and runc fails at once.
//
// The watchdog looks at the launcher's process tree while runc restores: a CRIU that is a zombie
// child of a runc still running is one that died without runc noticing (runc reaps the CRIU it asks
// for its version at once); once that has lasted two looks in a row, the rest of runc's children —
// the half-restored pod, nothing else — are killed, runc reads the end of its socket and fails the
// restore with CRIU's error, and the platform's failure path goes on.
import { readdirSync, readFileSync } from 'node:fs';

/** How often the tree is looked at, and so about how long a dead CRIU goes unnoticed (twice this). */
const LOOK_EVERY_MS = 50;

interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name sits in parentheses and may itself hold spaces or parentheses.
    const close = stat.lastIndexOf(')');
    const [state, ppid] = stat.slice(close + 2).split(' ');
    return { pid, comm: stat.slice(stat.indexOf('(') + 1, close), state: state ?? '', ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

/** Every process below `root` (not `root` itself). */
function descendants(root: number): ProcStat[] {
  const all = readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map((e) => readStat(Number(e)))
    .filter((p): p is ProcStat => p !== undefined);
  const below: ProcStat[] = [];
  let frontier = new Set([root]);
  while (frontier.size > 0) {
    const next = all.filter((p) => frontier.has(p.ppid));
    below.push(...next);
    frontier = new Set(next.map((p) => p.pid));
  }
  return below;
}

/**
 * Watches the restore launched under `launcherPid`; returns the function that stops watching.
 * `onKilled` is told what was killed, for the restore's error.
 */
export function watchRestore(launcherPid: number, onKilled: (what: string) => void): () => void {
  let deadSeen = 0;
  const timer = setInterval(() => {
    const tree = descendants(launcherPid);
    const runc = tree.find((p) => p.comm === 'runc' && p.state !== 'Z');
    const deadCriu = runc && tree.find((p) => p.ppid === runc.pid && p.comm === 'criu' && p.state === 'Z');
    deadSeen = deadCriu ? deadSeen + 1 : 0;
    if (!runc || deadSeen < 2) return;
    const halfRestored = tree.filter((p) => p.ppid === runc.pid && p.state !== 'Z');
    for (const p of halfRestored) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
    }
    onKilled(`CRIU (pid ${deadCriu!.pid}) died during the restore; its ${halfRestored.length} half-restored task(s) killed so that runc could fail`);
    clearInterval(timer);
  }, LOOK_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
