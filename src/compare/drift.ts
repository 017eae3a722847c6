// Was the host equally busy in both runs? Each trial records its host load (trials.csv host_*,
// src/system/host-load.ts); here the two arms' medians over their measured trials are set side by
// side, and a difference beyond a stated bound makes the comparison's verdict unreliable: a change in
// the figures may be the host's, not the code's (as hyperfine warns of a noisy system). The bounds
// are absolute, in percentage points of the host's CPU capacity / of the trial's time, so they mean
// the same on any number of cores:
//   host_other_cpu_pct        10 points: on a 2-core host a fifth of a core running something else
//   host_steal_pct             5 points: a hypervisor taking CPU from the VM
//   host_memory_pressure_pct   5 points: tasks stalled on memory
// They were chosen from the calibration bench (docs/nightly.md): between back-to-back runs of a quiet
// host the medians of host_other_cpu_pct moved by a few points; a single busy process moved them by
// tens.
import { percentile } from '../metrics/percentile.ts';

type Row = Record<string, string>;

export interface DriftBound {
  column: string;
  /** The largest difference of the arms' medians that still counts as the same environment. */
  maxDifference: number;
  label: string;
}

export const DRIFT_BOUNDS: readonly DriftBound[] = [
  { column: 'host_other_cpu_pct', maxDifference: 10, label: "other processes' CPU" },
  { column: 'host_steal_pct', maxDifference: 5, label: 'CPU steal' },
  { column: 'host_memory_pressure_pct', maxDifference: 5, label: 'memory pressure' },
];

export interface ArmLoad {
  column: string;
  baseline?: number;
  current?: number;
}

export interface DriftCheck {
  /** Per bounded column, each arm's median (undefined where the arm has no values). */
  arms: ArmLoad[];
  /** Why the verdict is unreliable: one line per bound exceeded; empty when the environments agree. */
  unreliable: string[];
  /** What could not be checked (a run written before the host_* columns existed). */
  unchecked: string[];
}

const measured = (rows: Row[]) => rows.filter((r) => r.warmup !== 'true' && r.status !== 'unsupported');

function medianOf(rows: Row[], column: string): number | undefined {
  const values = rows
    .map((r) => r[column])
    .filter((v): v is string => v !== undefined && v !== '')
    .map(Number)
    .filter(Number.isFinite);
  return percentile(values, 50);
}

export function checkDrift(baselineRows: Row[], currentRows: Row[], bounds: readonly DriftBound[] = DRIFT_BOUNDS): DriftCheck {
  const base = measured(baselineRows);
  const cur = measured(currentRows);
  const arms: ArmLoad[] = [];
  const unreliable: string[] = [];
  const unchecked: string[] = [];
  for (const bound of bounds) {
    const b = medianOf(base, bound.column);
    const c = medianOf(cur, bound.column);
    arms.push({ column: bound.column, ...(b !== undefined ? { baseline: b } : {}), ...(c !== undefined ? { current: c } : {}) });
    if (b === undefined || c === undefined) {
      // PSI missing on both hosts is no drift; a column missing on one side is a run from before it existed.
      if (b !== undefined || c !== undefined || bound.column === 'host_other_cpu_pct')
        unchecked.push(`${bound.column} (${b === undefined ? 'baseline' : 'current'} run has none)`);
      continue;
    }
    const difference = c - b;
    if (Math.abs(difference) > bound.maxDifference) {
      unreliable.push(
        `${bound.label} differed: median ${bound.column} ${b.toFixed(1)} % in the baseline vs ${c.toFixed(1)} % in the current run (bound ±${bound.maxDifference} points)`,
      );
    }
  }
  return { arms, unreliable, unchecked };
}
