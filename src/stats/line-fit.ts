// A least-squares line through points, with how well it fits: the slope of a sweep (report/slope.ts)
// and of an evacuation's growth (stats/evacuation-growth.ts).
import { linearRegression, rSquared, linearRegressionLine } from 'simple-statistics';

export interface LineFit {
  /** y per unit of x. */
  slope: number;
  /** y at x = 0. */
  intercept: number;
  /** Share of y's variance the line explains, 0 … 1 (1 when every point lies on it). */
  rSquared: number;
  /** Points fitted. */
  n: number;
}

/** Ordinary least squares of y on x; undefined with fewer than two distinct x (no line is determined). */
export function fitLine(points: readonly (readonly [number, number])[]): LineFit | undefined {
  if (new Set(points.map(([x]) => x)).size < 2) return undefined;
  const data = points.map(([x, y]) => [x, y]);
  const { m, b } = linearRegression(data);
  // With every y equal there is no variance to explain (simple-statistics would divide 0 by 0): the flat line fits exactly.
  const r2 = new Set(points.map(([, y]) => y)).size === 1 ? 1 : rSquared(data, linearRegressionLine({ m, b }));
  return { slope: m, intercept: b, rSquared: r2, n: points.length };
}
