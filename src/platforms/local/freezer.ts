// The harness's own freeze of a pod's cgroup before CRIU dumps it (`freezer: harness` on a criu
// strategy). Why: CRIU's freeze_processes() (criu/seize.c) writes FROZEN and then polls the state
// in steps of 100 ms (`step_ms = 100`); on cgroup v1 the state right after the write is FREEZING,
// so a freeze that takes the kernel well under a millisecond costs the pod ~100 ms of downtime
// (criu_freezing_ms ≈ 101 ms in 2 of 3 trials). When the cgroup is already FROZEN as CRIU starts,
// freeze_processes() skips the write-and-poll loop and only seizes the (frozen) tasks with ptrace
// (seize_cgroup_tree with state FROZEN), then thaws the cgroup — safe, since ptrace now holds every
// task; CRIU also remembers the cgroup was frozen (origin_freezer_state), so a failed dump leaves
// the tasks frozen, which is why the caller thaws on failure. Freezing it ourselves and polling
// finely therefore removes the 100 ms step and nothing else: the kernel's freezer is what CRIU
// would have used, and FROZEN means every task of the cgroup, also one forked while freezing, is
// in the refrigerator (the kernel reports FROZEN only then).
//
// Two places to freeze: `harness` freezes before runc starts (exact events on the harness's clock,
// but the pod then stays frozen while runc starts CRIU, tens of ms); `action-script` freezes from
// CRIU's pre-dump action script (cr-dump.c runs it right before its initialisation and
// collect_pstree()), so the pod keeps serving while runc starts, and is frozen only for CRIU's own
// initialisation before it seizes the tasks.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { sleep } from '../../clock.ts';
import { CGROUP_PARENT } from './names.ts';

export interface CgroupFreezer {
  /** The cgroup's directory. */
  dir: string;
  version: 1 | 2;
}

/** The freezer cgroup runc put a container in (cgroupsPath /migbench/<id>), v1 or v2. */
export function containerFreezer(containerId: string, cgroupRoot = '/sys/fs/cgroup'): CgroupFreezer {
  const v1 = `${cgroupRoot}/freezer/${CGROUP_PARENT}/${containerId}`;
  if (existsSync(`${v1}/freezer.state`)) return { dir: v1, version: 1 };
  const v2 = `${cgroupRoot}/${CGROUP_PARENT}/${containerId}`;
  if (existsSync(`${v2}/cgroup.freeze`)) return { dir: v2, version: 2 };
  throw new Error(`no freezer cgroup for container ${containerId} (neither ${v1}/freezer.state nor ${v2}/cgroup.freeze)`);
}

/** True when every task of the cgroup is frozen. */
export function isFrozen(f: CgroupFreezer): boolean {
  if (f.version === 1) return readFileSync(`${f.dir}/freezer.state`, 'utf8').trim() === 'FROZEN';
  return /^frozen 1$/m.test(readFileSync(`${f.dir}/cgroup.events`, 'utf8'));
}

function requestFreeze(f: CgroupFreezer): void {
  if (f.version === 1) writeFileSync(`${f.dir}/freezer.state`, 'FROZEN');
  else writeFileSync(`${f.dir}/cgroup.freeze`, '1');
}

export interface FreezeResult {
  /** Times the state was read until it said FROZEN. */
  polls: number;
}

/**
 * Freezes the cgroup and waits until the kernel reports it frozen: first by reading the state in a
 * tight loop (a freeze usually completes within a millisecond; a timer would round that up to the
 * event loop's 1 ms at best), then, if it takes longer than `spinMs`, every millisecond — asking
 * again now and then, as CRIU does on cgroup v1, whose freezer can stall in FREEZING.
 */
export async function freezeCgroup(f: CgroupFreezer, options: { spinMs?: number; timeoutMs?: number } = {}): Promise<FreezeResult> {
  const spinMs = options.spinMs ?? 5;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const start = performance.now();
  requestFreeze(f);
  let polls = 0;
  while (performance.now() - start < spinMs) {
    polls++;
    if (isFrozen(f)) return { polls };
  }
  while (performance.now() - start < timeoutMs) {
    await sleep(1);
    polls++;
    if (isFrozen(f)) return { polls };
    if (polls % 20 === 0) requestFreeze(f);
  }
  throwAfterThaw(f, `cgroup ${f.dir} not frozen ${timeoutMs} ms after asking (${polls} polls)`);
}

/**
 * The pre-dump action script (bash, for its clock builtin $EPOCHREALTIME: no process is forked
 * while the pod is frozen): freezes the cgroup, reads its state in a loop until FROZEN (asking again
 * every 10,000 reads, as CRIU does on v1; giving up, thawed, after 2,000,000), and writes
 * "<start> <end> <reads>" (CLOCK_REALTIME seconds, µs resolution) to `reportPath`. Other actions
 * (post-dump, network-lock, …) exit at once.
 */
export function freezeScript(f: CgroupFreezer, reportPath: string): string {
  const state = f.version === 1 ? `${f.dir}/freezer.state` : `${f.dir}/cgroup.events`;
  const [freeze, thaw, frozen] = f.version === 1 ? ['echo FROZEN >', 'echo THAWED >', '"$s" = FROZEN'] : ['echo 1 >', 'echo 0 >', '"$s" = "frozen 1"'];
  const control = f.version === 1 ? `${f.dir}/freezer.state` : `${f.dir}/cgroup.freeze`;
  return `#!/bin/bash
# migbench: the pod's freeze at CRIU's pre-dump, polled finely (src/platforms/local/freezer.ts).
[ "$CRTOOLS_SCRIPT_ACTION" = pre-dump ] || exit 0
LC_ALL=C
start=$EPOCHREALTIME
${freeze} '${control}'
reads=0
while :; do
  if [ ${f.version} = 1 ]; then read -r s < '${state}'; else s=$(grep '^frozen ' '${state}'); fi
  reads=$((reads + 1))
  [ ${frozen} ] && break
  if [ $reads -ge 2000000 ]; then ${thaw} '${control}'; echo "not frozen after $reads reads" >&2; exit 1; fi
  [ $((reads % 10000)) = 0 ] && ${freeze} '${control}'
done
echo "$start $EPOCHREALTIME $reads" > '${reportPath}'
`;
}

/** What the action script reported: how long its freeze took (µs) and how many reads it made; undefined when it did not run. */
export function readScriptReport(reportPath: string): { freezeUs: number; reads: number } | undefined {
  if (!existsSync(reportPath)) return undefined;
  const [start, end, reads] = readFileSync(reportPath, 'utf8').trim().split(/\s+/).map(Number);
  if (start === undefined || end === undefined || reads === undefined || [start, end, reads].some((v) => !Number.isFinite(v))) {
    throw new Error(`freeze script report ${reportPath} is not "<start> <end> <reads>": ${JSON.stringify(readFileSync(reportPath, 'utf8'))}`);
  }
  return { freezeUs: Math.round((end - start) * 1e6), reads };
}

export function thawCgroup(f: CgroupFreezer): void {
  if (f.version === 1) writeFileSync(`${f.dir}/freezer.state`, 'THAWED');
  else writeFileSync(`${f.dir}/cgroup.freeze`, '0');
}

function throwAfterThaw(f: CgroupFreezer, message: string): never {
  try {
    thawCgroup(f);
  } catch {
    // The error below says what went wrong; a failed thaw is the caller's to see (the pod stays frozen).
  }
  throw new Error(message);
}
