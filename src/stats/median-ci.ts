// A confidence interval for the median from order statistics (distribution-free): the number of
// values below the true median is Binomial(n, ½), so [x₍ⱼ₎, x₍ₖ₎] covers it with probability
// P(j ≤ B < k). No assumption about the shape of the distribution, and the bounds are values that
// were really measured. With too few values no interval reaches the level; then there is none.

export interface MedianInterval {
  lower: number;
  upper: number;
  /** Actual coverage of the chosen order statistics (≥ the requested level). */
  coverage: number;
}

export function medianConfidenceInterval(values: readonly number[], level = 0.95): MedianInterval | undefined {
  const n = values.length;
  if (n === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const pmf = binomialHalfPmf(n);
  // Symmetric interval: ranks j and n + 1 − j (1-based); widen j downwards until coverage ≥ level.
  for (let j = Math.floor((n + 1) / 2); j >= 1; j--) {
    const k = n + 1 - j;
    let coverage = 0;
    for (let b = j; b < k; b++) coverage += pmf[b]!;
    if (coverage >= level) return { lower: sorted[j - 1]!, upper: sorted[k - 1]!, coverage };
  }
  return undefined;
}

/** P(B = b) for B ~ Binomial(n, ½), b = 0..n, computed in log space so large n do not overflow. */
function binomialHalfPmf(n: number): number[] {
  const pmf: number[] = [];
  let logC = 0; // log C(n, 0)
  for (let b = 0; b <= n; b++) {
    if (b > 0) logC += Math.log(n - b + 1) - Math.log(b);
    pmf.push(Math.exp(logC - n * Math.LN2));
  }
  return pmf;
}
