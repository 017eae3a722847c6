// How busy the host was while a trial ran, from the kernel's own counters (no sampling thread, no
// extra process): /proc/stat (all CPUs' time by kind, steal included), /proc/loadavg, /proc/self/stat
// (migbench's own CPU, and its children's once reaped: iptables, criu, runc, ip), the pods' cgroup
// (their CPU, also after a pod is gone: cgroup v1 cpuacct and v2 cpu.stat keep the parent's total),
// and /proc/pressure/memory (PSI, where the kernel has it). Two snapshots, one before the trial and
// one after it; hostLoadBetween turns them into the trial's host-load columns. The point is drift
// (`migbench compare` warns when two runs' hosts were differently busy), so what counts is what the
// rest of the host did: "other" CPU = all busy CPU time − migbench's − its pods'.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, freemem, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { HostLoad } from '../model/host-load.ts';

/**
 * The cgroup under which the local platform puts every pod (src/platforms/local/names.ts's
 * CGROUP_PARENT; a test keeps the two equal). The system layer cannot import the platform.
 */
export const POD_CGROUP_PARENT = 'migbench';

export interface HostLoadSnapshot {
  /** Monotonic ms. */
  at: number;
  /** /proc/stat's aggregate `cpu` line, in clock ticks: busy (user, nice, system, irq, softirq), steal, and the total of all kinds. */
  busyTicks: number;
  stealTicks: number;
  totalTicks: number;
  /** migbench's own CPU (utime + stime + reaped children's), clock ticks. */
  ownTicks: number;
  /** CPU of the pods' cgroup, ns; undefined when there is none (no local pods yet). */
  podCpuNs?: number;
  /** PSI memory `some` total, µs; undefined without /proc/pressure/memory. */
  memorySomeUs?: number;
  loadavg1: number;
}

export type { HostLoad };

let clockTicksPerSecond: number | undefined;
/** USER_HZ: the unit of /proc/stat and /proc/<pid>/stat (100 on every mainstream Linux). */
function ticksPerSecond(): number {
  if (clockTicksPerSecond === undefined) {
    try {
      clockTicksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicksPerSecond = 100;
    }
  }
  return clockTicksPerSecond;
}

const readOr = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** The aggregate `cpu` line of /proc/stat. */
export function parseProcStat(text: string): { busyTicks: number; stealTicks: number; totalTicks: number } {
  const fields = /^cpu\s+(.*)$/m.exec(text)?.[1]?.trim().split(/\s+/).map(Number) ?? [];
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  // guest and guest_nice are already counted in user and nice: not added again.
  return { busyTicks: user + nice + system + irq + softirq, stealTicks: steal, totalTicks: user + nice + system + idle + iowait + irq + softirq + steal };
}

/** utime + stime + cutime + cstime of /proc/<pid>/stat (fields 14–17; the command name may hold spaces). */
export function parsePidStatCpuTicks(text: string): number {
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): fields 14..17 are rest[11..14].
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(rest[i] ?? 0), 0);
}

/** PSI's `some ... total=<µs>`. */
export function parsePressureSomeUs(text: string): number | undefined {
  const m = /^some .*total=(\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

function podCgroupCpuNs(): number | undefined {
  // cgroup v1: cpuacct (alone or co-mounted with cpu); v2: the unified tree's cpu.stat.
  for (const dir of ['cpuacct', 'cpu,cpuacct', 'cpuacct,cpu']) {
    const usage = readOr(`/sys/fs/cgroup/${dir}/${POD_CGROUP_PARENT}/cpuacct.usage`);
    if (usage !== undefined) return Number(usage.trim());
  }
  const stat = readOr(`/sys/fs/cgroup/${POD_CGROUP_PARENT}/cpu.stat`);
  const usec = stat ? /^usage_usec (\d+)/m.exec(stat)?.[1] : undefined;
  return usec !== undefined ? Number(usec) * 1000 : undefined;
}

export function sampleHostLoad(): HostLoadSnapshot {
  const podCpuNs = podCgroupCpuNs();
  const pressure = readOr('/proc/pressure/memory');
  const memorySomeUs = pressure !== undefined ? parsePressureSomeUs(pressure) : undefined;
  return {
    at: performance.now(),
    ...parseProcStat(readFileSync('/proc/stat', 'utf8')),
    ownTicks: parsePidStatCpuTicks(readFileSync('/proc/self/stat', 'utf8')),
    ...(podCpuNs !== undefined ? { podCpuNs } : {}),
    ...(memorySomeUs !== undefined ? { memorySomeUs } : {}),
    loadavg1: loadavg()[0] ?? 0,
  };
}

/** The load between two snapshots (pure). `cpuCount`: the host's CPUs; `hz`: clock ticks per second. */
export function hostLoadBetween(before: HostLoadSnapshot, after: HostLoadSnapshot, cpuCount = cpus().length, hz = ticksPerSecond()): HostLoad {
  const seconds = Math.max(1e-9, (after.at - before.at) / 1000);
  const capacityTicks = seconds * hz * cpuCount;
  const busy = after.busyTicks - before.busyTicks;
  const own = after.ownTicks - before.ownTicks;
  // A pod cgroup that appeared during the trial counted from 0; one that vanished cannot be read.
  const podNs = after.podCpuNs !== undefined ? after.podCpuNs - (before.podCpuNs ?? 0) : 0;
  const other = Math.max(0, busy - own - (podNs / 1e9) * hz);
  const total = after.totalTicks - before.totalTicks;
  const pct = (x: number) => Math.round(x * 1000) / 10; // one decimal: the counters' own resolution is 1 tick
  return {
    loadavg1: after.loadavg1,
    cpuBusyPct: pct(Math.min(1, busy / capacityTicks)),
    otherCpuPct: pct(Math.min(1, other / capacityTicks)),
    stealPct: pct(total > 0 ? (after.stealTicks - before.stealTicks) / total : 0),
    ...(before.memorySomeUs !== undefined && after.memorySomeUs !== undefined
      ? { memoryPressurePct: pct(Math.min(1, (after.memorySomeUs - before.memorySomeUs) / (seconds * 1e6))) }
      : {}),
  };
}

/** run.json's `environment`: the host's state as the run starts. */
export interface RunEnvironment {
  loadavg: number[];
  memoryAvailableBytes: number;
  /** Whether the kernel reports memory pressure (PSI): host_memory_pressure_pct is empty without it. */
  memoryPressureAvailable: boolean;
  /** Processes runnable at the start (/proc/loadavg's 4th field, before the slash). */
  runnableProcesses?: number;
}

export function runEnvironment(): RunEnvironment {
  const available = readOr('/proc/meminfo')?.match(/^MemAvailable:\s+(\d+) kB/m)?.[1];
  const runnable = readOr('/proc/loadavg')?.split(' ')[3]?.split('/')[0];
  return {
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
    memoryAvailableBytes: available !== undefined ? Number(available) * 1024 : freemem(),
    memoryPressureAvailable: existsSync('/proc/pressure/memory'),
    ...(runnable !== undefined ? { runnableProcesses: Number(runnable) } : {}),
  };
}
