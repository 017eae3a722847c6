// Mann–Whitney U test (Wilcoxon rank-sum), two-sided: does one side tend to have larger values?
// Chosen for benchmark figures because it assumes no distribution (downtimes are skewed, often
// bimodal) and only ranks matter, so one outlier cannot dominate.
// Exact p-value from the permutation distribution of U when there are no ties and the samples are
// small (the normal approximation is poor there); otherwise the normal approximation with tie and
// continuity correction — the same choices as SciPy's `mannwhitneyu(method='auto')`.
import { errorFunction } from 'simple-statistics';

export interface MannWhitneyResult {
  /** U of the first sample: pairs (x, y) with x > y, ties counting one half. */
  u: number;
  /** Two-sided p-value. */
  p: number;
  method: 'exact' | 'normal';
}

const EXACT_LIMIT = 8;

export function mannWhitneyU(x: readonly number[], y: readonly number[]): MannWhitneyResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('mannWhitneyU: both samples need at least one value');
  const { ranks, tieGroups } = rank([...x, ...y]);
  const r1 = ranks.slice(0, n1).reduce((a, b) => a + b, 0);
  const u = r1 - (n1 * (n1 + 1)) / 2;
  const hasTies = tieGroups.some((t) => t > 1);
  if (!hasTies && n1 <= EXACT_LIMIT && n2 <= EXACT_LIMIT) {
    return { u, p: exactTwoSidedP(u, n1, n2), method: 'exact' };
  }
  const n = n1 + n2;
  const mean = (n1 * n2) / 2;
  const tieTerm = tieGroups.reduce((acc, t) => acc + (t * t * t - t), 0);
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return { u, p: 1, method: 'normal' }; // every value equal: no evidence of any difference
  const z = (Math.abs(u - mean) - 0.5) / Math.sqrt(variance);
  return { u, p: Math.min(1, 2 * (1 - standardNormalCdf(Math.max(0, z)))), method: 'normal' };
}

/** The smallest two-sided p-value the exact test can give for these sample sizes (no ties). */
export function minimumAttainableP(n1: number, n2: number): number {
  return Math.min(1, 2 / binomial(n1 + n2, n1));
}

export function standardNormalCdf(z: number): number {
  return 0.5 * (1 + errorFunction(z / Math.SQRT2));
}

/** Mid-ranks (ties share the mean of their ranks) and the size of each group of equal values. */
function rank(values: readonly number[]): { ranks: number[]; tieGroups: number[] } {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const ranks = new Array<number>(values.length);
  const tieGroups: number[] = [];
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]!.v === order[start]!.v) end++;
    const midRank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k]!.i] = midRank;
    tieGroups.push(end - start + 1);
    start = end + 1;
  }
  return { ranks, tieGroups };
}

/** P(U ≤ u) under H0 by counting arrangements: f(i, j, u) = f(i−1, j, u−j) + f(i, j−1, u). */
function exactTwoSidedP(u: number, n1: number, n2: number): number {
  const maxU = n1 * n2;
  // counts[j][k]: arrangements of i x's and j y's with U = k, built up over i.
  let prev: number[][] = Array.from({ length: n2 + 1 }, () => [1]); // i = 0: U = 0 only
  for (let i = 1; i <= n1; i++) {
    const next: number[][] = [];
    for (let j = 0; j <= n2; j++) {
      const row = new Array<number>(i * j + 1).fill(0);
      // Largest element is an x (it beats all j y's: U += j) or a y.
      const fromX = prev[j]!;
      for (let k = 0; k < fromX.length; k++) row[k + j]! += fromX[k]!;
      if (j > 0) {
        const fromY = next[j - 1]!;
        for (let k = 0; k < fromY.length; k++) row[k]! += fromY[k]!;
      }
      next.push(row);
    }
    prev = next;
  }
  const dist = prev[n2]!;
  const total = dist.reduce((a, b) => a + b, 0);
  const tail = Math.min(u, maxU - u); // the distribution is symmetric around n1·n2/2
  let cumulative = 0;
  for (let k = 0; k <= Math.floor(tail); k++) cumulative += dist[k]!;
  return Math.min(1, (2 * cumulative) / total);
}

function binomial(n: number, k: number): number {
  let result = 1;
  for (let i = 1; i <= k; i++) result = (result * (n - k + i)) / i;
  return result;
}
