// The harness's own CPU use over a stretch of time (a run, an evacuation): migbench's process —
// its probes, timers, the platform calls — measured by process.cpuUsage, so a reader can tell
// whether the harness competed with what it measured. Child processes (runc, CRIU, the nodes'
// components, the pods) are not in it.

export interface HarnessCpu {
  /** User-mode CPU time of migbench's process, ms. */
  userMs: number;
  /** Kernel-mode CPU time of migbench's process, ms. */
  systemMs: number;
  /** Wall-clock time the figures cover, ms. */
  wallMs: number;
  /** (user + system) / wall: the share of one core the harness used, %. */
  percentOfCore: number;
}

/** Starts measuring; the returned function gives the CPU used since (callable many times). */
export function startHarnessCpu(): () => HarnessCpu {
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  return () => {
    const { user, system } = process.cpuUsage(cpuStart);
    const wallMs = performance.now() - wallStart;
    const userMs = user / 1000;
    const systemMs = system / 1000;
    return {
      userMs: Math.round(userMs),
      systemMs: Math.round(systemMs),
      wallMs: Math.round(wallMs),
      percentOfCore: wallMs > 0 ? Math.round(((userMs + systemMs) / wallMs) * 1000) / 10 : 0,
    };
  };
}
