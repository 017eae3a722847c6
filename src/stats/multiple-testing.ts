// Adjusted p-values for a family of tests, so that a nightly judging ~10 metric tests at once does
// not fail whenever one of them crosses α by chance (with m independent tests at α = 0.05 and
// nothing changed, P(some p < α) = 1 − 0.95^m: 40 % for m = 10).
//
// The gate uses Holm–Bonferroni (Holm 1979, "A simple sequentially rejective multiple test
// procedure"): it controls the family-wise error rate — the probability that a run with no real
// change fails at all — which is exactly what a pass/fail nightly promises; it holds under any
// dependence between the tests (downtime and migration time of one cell are strongly correlated);
// and it is uniformly more powerful than plain Bonferroni. Benjamini–Hochberg controls the false
// discovery rate instead (the expected share of false alarms among the flagged metrics): the right
// tool for screening many metrics for leads, but with one real regression among the family it lets
// further false alarms through at rate q, and its guarantee needs positive dependence. It is here for
// comparison (bench/calibration-report.ts shows both).
//
// Both return adjusted p-values in the input order (reject where adjusted p < α), the same numbers
// as statsmodels' `multipletests(p, method='holm' | 'fdr_bh')` and SciPy's `false_discovery_control`.

function checkP(pValues: readonly number[]): void {
  for (const p of pValues) if (!(p >= 0 && p <= 1)) throw new RangeError(`p-values must lie in [0, 1], found ${p}`);
}

/** Holm: sort ascending; adjusted p₍ᵢ₎ = max over j ≤ i of min(1, (m − j + 1)·p₍ⱼ₎). */
export function holmAdjust(pValues: readonly number[]): number[] {
  checkP(pValues);
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

/** Benjamini–Hochberg: sort ascending; adjusted p₍ᵢ₎ = min over j ≥ i of min(1, m·p₍ⱼ₎ / j). */
export function benjaminiHochbergAdjust(pValues: readonly number[]): number[] {
  checkP(pValues);
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p);
  const adjusted = new Array<number>(m);
  let running = 1;
  for (let rank = m - 1; rank >= 0; rank--) {
    const { p, i } = order[rank]!;
    running = Math.min(running, Math.min(1, (m * p) / (rank + 1)));
    adjusted[i] = running;
  }
  return adjusted;
}
