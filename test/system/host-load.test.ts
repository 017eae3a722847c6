// The host-load columns from hand-made kernel counters: /proc/stat, /proc/<pid>/stat and PSI lines
// as the kernel writes them, and the arithmetic between two snapshots with exact values.
import { describe, expect, it } from 'vitest';
import {
  hostLoadBetween,
  parsePidStatCpuTicks,
  parsePressureSomeUs,
  parseProcStat,
  POD_CGROUP_PARENT,
  sampleHostLoad,
  type HostLoadSnapshot,
} from '../../src/system/host-load.ts';
import { CGROUP_PARENT } from '../../src/platforms/local/names.ts';
import { trialsCsv } from '../../src/results/trials-csv.ts';
import { csvHeader } from '../../src/results/csv-writer.ts';
import { parse } from 'csv-parse/sync';
import { sampleTrial } from '../results/fixtures.ts';

describe('kernel counters', () => {
  it('/proc/stat: busy = user + nice + system + irq + softirq; steal apart; guest not counted twice', () => {
    const text = 'cpu  9247 22941 11338 14643 320 7 111 49 30 5\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 1\n';
    expect(parseProcStat(text)).toEqual({
      busyTicks: 9247 + 22941 + 11338 + 7 + 111,
      stealTicks: 49,
      totalTicks: 9247 + 22941 + 11338 + 14643 + 320 + 7 + 111 + 49,
    });
  });
  it('/proc/<pid>/stat: utime + stime + cutime + cstime, also with spaces and parentheses in the name', () => {
    const text = '4242 (node (main) x) S 1 4242 4242 0 -1 4194560 24049 512 0 0 120 35 7 3 20 0 11 0 5106 1234 5678';
    expect(parsePidStatCpuTicks(text)).toBe(120 + 35 + 7 + 3);
  });
  it('PSI memory: the `some` total in µs', () => {
    expect(parsePressureSomeUs('some avg10=0.00 avg60=0.00 avg300=0.00 total=123456\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=99\n')).toBe(123456);
    expect(parsePressureSomeUs('')).toBeUndefined();
  });
  it("the pods' cgroup parent is the local platform's", () => {
    expect(POD_CGROUP_PARENT).toBe(CGROUP_PARENT);
  });
  it('a real snapshot of this host has plausible counters', () => {
    const s = sampleHostLoad();
    expect(s.totalTicks).toBeGreaterThan(s.busyTicks);
    expect(s.ownTicks).toBeGreaterThanOrEqual(0);
  });
});

describe('hostLoadBetween', () => {
  const before: HostLoadSnapshot = {
    at: 1000,
    busyTicks: 10_000,
    stealTicks: 50,
    totalTicks: 40_000,
    ownTicks: 300,
    podCpuNs: 2e9,
    memorySomeUs: 1_000_000,
    loadavg1: 0.5,
  };
  it('2 CPUs, 4 s (800 ticks of capacity at 100 Hz): busy 400, own 100, pods 1 s → other 200 ticks', () => {
    const after: HostLoadSnapshot = {
      at: 5000,
      busyTicks: 10_400,
      stealTicks: 58,
      totalTicks: 40_800,
      ownTicks: 400,
      podCpuNs: 3e9,
      memorySomeUs: 1_200_000,
      loadavg1: 1.75,
    };
    expect(hostLoadBetween(before, after, 2, 100)).toEqual({ loadavg1: 1.75, cpuBusyPct: 50, otherCpuPct: 25, stealPct: 1, memoryPressurePct: 5 });
  });
  it('other CPU is never negative (own CPU of a child reaped during the trial can exceed the host busy delta), and PSI absent stays absent', () => {
    const { memorySomeUs: _, ...noPsi } = before;
    const after = { ...noPsi, at: 2000, busyTicks: 10_050, ownTicks: 400, totalTicks: 40_200 };
    const load = hostLoadBetween(noPsi, after, 2, 100);
    expect(load.otherCpuPct).toBe(0);
    expect(load.memoryPressurePct).toBeUndefined();
  });
  it('a pod cgroup that appears during the trial counts from zero', () => {
    const { podCpuNs: _, ...noPods } = before;
    const after = { ...before, at: 5000, busyTicks: 10_400, ownTicks: 300, totalTicks: 40_800, podCpuNs: 1e9 };
    expect(hostLoadBetween(noPods, after, 2, 100).otherCpuPct).toBe(37.5);
  });
  it('goes to the host_* columns of trials.csv', () => {
    const [row] = parse(
      csvHeader(trialsCsv) + trialsCsv.rows(sampleTrial({ hostLoad: { loadavg1: 1.75, cpuBusyPct: 50, otherCpuPct: 25, stealPct: 1 } }), {}),
      { columns: true },
    ) as Record<string, string>[];
    expect(row).toMatchObject({ host_load1: '1.75', host_cpu_busy_pct: '50', host_other_cpu_pct: '25', host_steal_pct: '1', host_memory_pressure_pct: '' });
  });
});
