// Sweeps: one workload field measured at several values (`sweep: { datasetMiB: [64, 128, 256] }`),
// to see how a migration's cost grows with it. Each value becomes its own workload instance, named
// `<name>-<value>`, so everything downstream (plan, trials.csv's `workload` column, the summary,
// `compare`) treats a sweep point as one more workload, and trials.csv records the value in the
// parameter's own `sweep_*` column.
import { z } from 'zod';

/**
 * The fields a scenario may sweep, per workload type: the sizes a migration's cost grows with (the
 * memory CRIU copies, the state a fresh pod reloads, the stream it must catch up with). trials.csv
 * has one `sweep_*` column per parameter here, so a parameter is added here and in trials-csv.ts.
 */
export const SWEEPABLE = {
  redis: ['datasetMiB', 'keys', 'valueBytes'],
  video: ['bitrateKbps'],
  'ml-training': ['modelWidth'],
} as const;

export type SweepableType = keyof typeof SWEEPABLE;

/** Most values one sweep may list (each is a full set of trials). */
const MAX_SWEEP_VALUES = 100;

/**
 * The `sweep:` field of a workload of `type`: exactly one of its sweepable fields, with a list of
 * values each checked by the field's own schema (so `datasetMiB: [0]` fails as `datasetMiB: 0` would,
 * at `workloads[i].sweep.datasetMiB[j]`); an unknown parameter fails naming those the type can sweep.
 */
export function sweepSchema<T extends SweepableType>(type: T, fields: Record<(typeof SWEEPABLE)[T][number], z.ZodNumber>) {
  const lists = Object.fromEntries(
    SWEEPABLE[type].map((p) => [
      p,
      z
        .array((fields as Record<string, z.ZodNumber>)[p]!)
        .min(1)
        .max(MAX_SWEEP_VALUES),
    ]),
  );
  const known: readonly string[] = SWEEPABLE[type];
  return (
    z
      .object(lists)
      .partial()
      // Unknown keys are kept so the check below can name the parameters this type can sweep.
      .loose()
      .superRefine((sweep, ctx) => {
        const unknown = Object.keys(sweep).filter((p) => !known.includes(p));
        for (const p of unknown) ctx.addIssue({ code: 'custom', path: [p], message: `a parameter a ${type} workload can sweep: one of ${known.join(', ')}` });
        if (unknown.length > 0) return;
        const swept = Object.entries(sweep).filter(([, values]) => values !== undefined) as [string, number[]][];
        if (swept.length !== 1) {
          ctx.addIssue({
            code: 'custom',
            message: `exactly one parameter to sweep, one of ${SWEEPABLE[type].join(', ')} (e.g. \`sweep: { ${SWEEPABLE[type][0]}: [64, 128] }\`; a grid of several is not supported)`,
          });
          return;
        }
        const [parameter, values] = swept[0]!;
        values.forEach((v, i) => {
          if (values.indexOf(v) !== i) ctx.addIssue({ code: 'custom', path: [parameter, i], message: `distinct values (${v} is listed twice)` });
        });
      })
      .describe(
        `One of ${SWEEPABLE[type].join(', ')} with a list of distinct values (at most ${MAX_SWEEP_VALUES}), each checked like the field itself: ` +
          "every value becomes its own workload instance `<name>-<value>`, and trials.csv has the value in the parameter's `sweep_*` column. One parameter per workload (no grids).",
      )
      .optional()
  );
}

/** The one parameter a (validated) sweep varies, with its values in the order written. */
function sweptParameter(sweep: Partial<Record<string, number[]>> | undefined): { parameter: string; values: number[] } | undefined {
  const entry = Object.entries(sweep ?? {}).find(([, values]) => values !== undefined);
  return entry ? { parameter: entry[0], values: entry[1]! } : undefined;
}

/** A workload config as the scenario holds it: any type, with an optional `sweep`. */
interface SweepableConfig {
  type: string;
  name?: string;
  sweep?: Partial<Record<string, number[]>>;
}

export interface SweepInstance<W> {
  /** The config one trial group runs: the swept field set to this value, `name` set, no `sweep`. */
  workload: W;
  /** Its name in the results: `<name>-<value>` when swept, else the workload's own name. */
  name: string;
  /** The swept parameter and its value; undefined for a workload without a sweep. */
  sweep?: { parameter: string; value: number };
}

/** The value as it appears in an instance name: names allow lower-case letters, digits and dashes. */
function nameSuffix(value: number): string {
  return String(value).replace('.', 'p');
}

/**
 * The workload instances a scenario's workload stands for: itself when it has no sweep, else one
 * per swept value (same order as written).
 */
export function sweepInstances<W extends SweepableConfig>(workload: W): SweepInstance<W>[] {
  const base = workload.name ?? workload.type;
  const swept = sweptParameter(workload.sweep);
  if (!swept) return [{ workload, name: base }];
  const { sweep: _sweep, ...rest } = workload;
  return swept.values.map((value) => {
    const name = `${base}-${nameSuffix(value)}`;
    return { workload: { ...rest, [swept.parameter]: value, name } as unknown as W, name, sweep: { parameter: swept.parameter, value } };
  });
}

/**
 * Problems only the document as written shows (defaults hide them once parsed): a field both set and
 * swept, and Redis' `keys` next to `datasetMiB` (the data set is given one way or the other).
 */
export function sweepConflicts(rawWorkloads: unknown): { at: (string | number)[]; expected: string; found: string }[] {
  if (!Array.isArray(rawWorkloads)) return [];
  const problems: { at: (string | number)[]; expected: string; found: string }[] = [];
  rawWorkloads.forEach((raw, i) => {
    if (raw === null || typeof raw !== 'object') return;
    const w = raw as Record<string, unknown>;
    const sweep = w.sweep !== null && typeof w.sweep === 'object' ? (w.sweep as Record<string, unknown>) : {};
    for (const parameter of Object.keys(sweep)) {
      if (parameter in w) {
        problems.push({
          at: ['workloads', i, parameter],
          expected: `no \`${parameter}\` beside \`sweep: { ${parameter}: [...] }\` (the sweep sets it)`,
          found: JSON.stringify(w[parameter]),
        });
      }
    }
    if (w.type === 'redis') {
      const given = (field: string) => field in w || field in sweep;
      if (given('keys') && given('datasetMiB')) {
        problems.push({
          at: 'keys' in w ? ['workloads', i, 'keys'] : ['workloads', i, 'sweep', 'keys'],
          expected: 'either `keys` or `datasetMiB` (datasetMiB derives the key count from valueBytes)',
          found: 'both',
        });
      }
    }
  });
  return problems;
}
