// The calibration bench's figures (bench/calibrate.ts made the runs): pure functions over trials.csv
// rows, so each can be checked on hand-made rows (test/bench/calibration-figures.test.ts).
//
// - realPairs: the gate on real pairs of runs — consecutive plain runs (A/A: any failure is a false
//   alarm) and each injected run against the plain run before it (a detection needs the gate to fail
//   on the injected cell's downtime_ms).
// - resampled: the gate on pairs drawn from the pooled trials of all plain runs (and of the injected
//   runs' criu cell). Pooling removes the run-to-run drift, so this estimates what the gate does when
//   both arms share one sitting (compare --rerun), not what it does across nights; it is labelled so.
// - power: detection of a synthetic shift (criu downtime_ms × (1 + effect)) at n repetitions per arm,
//   drawn from the pooled plain trials: the repetitions a user needs for a given effect.
import { compareRuns } from '../src/compare/compare.ts';
import { resolveGate } from '../src/compare/thresholds.ts';
import { benjaminiHochbergAdjust } from '../src/stats/multiple-testing.ts';
import { judgeChange } from '../src/compare/thresholds.ts';
import { seededRandom } from '../src/plan/random.ts';
import type { MetricColumn } from '../src/metrics/trial-metrics.ts';

export type Row = Record<string, string>;

export interface GateOutcome {
  /** Holm gate (migbench compare): failed? */
  holm: boolean;
  /** The same family with Benjamini–Hochberg instead: failed? */
  bh: boolean;
  /** The old gate (every metric at raw p < α, no correction): failed? */
  uncorrected: boolean;
  /** More failed trials than the baseline (part of every gate above). */
  failedTrials: boolean;
  /** Holm: which cell × metric failed. */
  flagged: string[];
  /** The hosts differed beyond the drift bounds. */
  unreliable: boolean;
}

export interface Gate {
  thresholds: Record<string, string>;
  alpha: number;
}

/** Runs the gate of `compare` on two sets of rows; also what BH and the uncorrected gate would say. */
export function judge(baseline: Row[], current: Row[], gate: Gate, onlyGated = false): GateOutcome {
  const { thresholds, gated } = resolveGate(gate.thresholds, {});
  const c = compareRuns(baseline, current, { alpha: gate.alpha, thresholds, gated, ...(onlyGated ? { only: [...gated] as MetricColumn[] } : {}) });
  const family = c.metrics.filter((m) => m.gated && m.p !== undefined);
  const bhAdjusted = benjaminiHochbergAdjust(family.map((m) => m.p!));
  const worse = (m: (typeof family)[number]) => judgeChange(m.baseline.median!, m.current.median!, m.threshold) === 'worse';
  const failedTrials = c.trials.some((t) => t.regression);
  return {
    holm: c.regression,
    bh: failedTrials || family.some((m, i) => bhAdjusted[i]! < gate.alpha && worse(m)),
    uncorrected:
      failedTrials || c.metrics.some((m) => m.p !== undefined && m.p < gate.alpha && m.baseline.median !== undefined && worse(m as (typeof family)[number])),
    failedTrials,
    flagged: c.metrics.filter((m) => m.verdict === 'regression').map((m) => `${m.strategy} ${m.metric}`),
    unreliable: c.unreliable.length > 0,
  };
}

const measured = (rows: Row[]) => rows.filter((r) => r.warmup !== 'true');

/** n rows drawn without replacement from each cell's pool (or with, when the pool is smaller than n). */
function draw(pools: Map<string, Row[]>, n: number, random: () => number): Row[] {
  const out: Row[] = [];
  for (const pool of pools.values()) {
    if (pool.length >= n) {
      const copy = [...pool];
      for (let i = 0; i < n; i++) out.push(copy.splice(Math.floor(random() * copy.length), 1)[0]!);
    } else for (let i = 0; i < n; i++) out.push(pool[Math.floor(random() * pool.length)]!);
  }
  return out;
}

/**
 * A bigger family of gated tests, as a scenario with more workloads has: `extra` more null cells,
 * each drawn independently from one of the real non-target cells' pools (renamed workload copy-k).
 */
function withExtraCells(pools: Map<string, Row[]>, target: string, extra: number): Map<string, Row[]> {
  const sources = [...pools].filter(([k]) => k !== target);
  const out = new Map(pools);
  for (let k = 0; k < extra && sources.length > 0; k++) {
    const [, rows] = sources[k % sources.length]!;
    const workload = `copy-${k + 1}`;
    out.set(
      `${workload} ${rows[0]!.strategy}`,
      rows.map((r) => ({ ...r, workload })),
    );
  }
  return out;
}

function poolsByCell(rows: Row[]): Map<string, Row[]> {
  const pools = new Map<string, Row[]>();
  for (const r of measured(rows)) pools.set(`${r.workload} ${r.strategy}`, [...(pools.get(`${r.workload} ${r.strategy}`) ?? []), r]);
  return pools;
}

export interface Rate {
  hits: number;
  of: number;
}

/**
 * Resampled A/A: `draws` pairs of n-vs-n per cell from the pooled plain trials (disjoint within a
 * pair where the pool allows): how often each gate fails.
 */
export function resampledAA(plain: Row[], gate: Gate, n: number, draws: number, seed = 1, extraCells = 0): { holm: Rate; bh: Rate; uncorrected: Rate } {
  const random = seededRandom(seed);
  const pools = withExtraCells(poolsByCell(plain), '', extraCells);
  const out = { holm: { hits: 0, of: draws }, bh: { hits: 0, of: draws }, uncorrected: { hits: 0, of: draws } };
  for (let i = 0; i < draws; i++) {
    const both = draw(pools, 2 * n, random);
    // Split each cell's 2n rows into the two arms.
    const a: Row[] = [];
    const b: Row[] = [];
    both.forEach((r, j) => (Math.floor(j / n) % 2 === 0 ? a : b).push(r));
    const o = judge(a, b, gate, true);
    out.holm.hits += +o.holm;
    out.bh.hits += +o.bh;
    out.uncorrected.hits += +o.uncorrected;
  }
  return out;
}

/** Resampled A/A, Holm only, with `extra` more null cells (the default scenario's family size). */
export function resampledAADefaultFamily(plain: Row[], gate: Gate, extra: number, draws: number): Rate {
  return resampledAA(plain, gate, 6, draws, 7, extra).holm;
}

/**
 * Resampled detection: baseline n per cell from the plain pool; current n per cell from the plain
 * pool except `cell`, whose rows come from `injected` (real trials with the injected delay) or, when
 * `effect` is given instead, are plain rows with downtime_ms × (1 + effect) (a synthetic shift).
 * Counted as detected when the Holm gate fails on that cell's downtime_ms.
 */
export function resampledDetection(
  plain: Row[],
  gate: Gate,
  cell: string,
  n: number,
  draws: number,
  shift: { injected: Row[] } | { effect: number },
  seed = 2,
  extraCells = 0,
): Rate {
  const random = seededRandom(seed);
  const pools = withExtraCells(poolsByCell(plain), cell, extraCells);
  const injectedPool = 'injected' in shift ? measured(shift.injected).filter((r) => `${r.workload} ${r.strategy}` === cell) : undefined;
  let hits = 0;
  for (let i = 0; i < draws; i++) {
    const baseline = draw(pools, n, random);
    const others = new Map([...pools].filter(([k]) => k !== cell));
    let shifted: Row[];
    if (injectedPool) shifted = draw(new Map([[cell, injectedPool]]), n, random);
    else
      shifted = draw(new Map([[cell, pools.get(cell)!]]), n, random).map((r) => ({
        ...r,
        downtime_ms: String(Number(r.downtime_ms) * (1 + (shift as { effect: number }).effect)),
      }));
    const o = judge(baseline, [...draw(others, n, random), ...shifted], gate, true);
    if (o.flagged.includes(`${cell.split(' ')[1]} downtime_ms`)) hits++;
  }
  return { hits, of: draws };
}

export const rateText = (r: Rate) => `${r.hits}/${r.of} (${((100 * r.hits) / Math.max(1, r.of)).toFixed(r.of >= 100 ? 1 : 0)} %)`;
