// How busy the host was over one trial: trials.csv's host_* columns. Measured by
// src/system/host-load.ts from the kernel's counters; compared between runs by src/compare/drift.ts.

export interface HostLoad {
  /** 1-minute load average at the end of the trial (an average over ~1 min, so partly before it). */
  loadavg1: number;
  /** All CPUs' busy time over the trial, % of the host's CPU capacity. */
  cpuBusyPct: number;
  /** The same less migbench's own and its pods' CPU: what the rest of the host used, % of capacity. */
  otherCpuPct: number;
  /** CPU time stolen by the hypervisor, % of all CPU time over the trial. */
  stealPct: number;
  /** Share of the trial in which some task stalled on memory (PSI `some`), %; undefined without PSI. */
  memoryPressurePct?: number;
}
