// Reads a scenario file and turns every problem in it into one message that names the file, the
// path in the document, what was expected and what was found. Nothing is started before this
// succeeds, so a typo never leaves half a run behind.
import { readFile } from 'node:fs/promises';
import { parseDocument, isMap, LineCounter } from 'yaml';
import type { z } from 'zod';
import { strategies, strategyLabel, strategyNames } from '../strategies/registry.ts';
import { scenarioSchema, type Scenario, type WorkloadConfig } from './schema.ts';
import { platformFields } from './platform-fields.ts';
export type { ScenarioProblem } from './problem.ts';
import { describe, type ScenarioProblem } from './problem.ts';
import { sweepConflicts, sweepInstances } from './sweep.ts';
import { evacuationProblems } from './evacuation.ts';

export class ScenarioError extends Error {
  readonly file: string;
  readonly problems: ScenarioProblem[];
  constructor(file: string, problems: ScenarioProblem[]) {
    const lines = problems.map((p) => {
      const at = [p.where, p.path].filter(Boolean).join(': ');
      return `  ${at ? `${at}: ` : ''}expected ${p.expected}, found ${p.found}`;
    });
    const count = problems.length === 1 ? 'a problem' : `${problems.length} problems`;
    super(`migbench: scenario ${file} has ${count}; nothing was started:\n${lines.join('\n')}`);
    this.name = 'ScenarioError';
    this.file = file;
    this.problems = problems;
  }
}

/** Command-line flags that replace scenario fields; applied before validation, so they are checked the same way. */
export interface ScenarioOverrides {
  repetitions?: number;
  strategies?: string[];
  warmup?: number;
  seed?: number;
}

export interface LoadedScenario {
  file: string;
  scenario: Scenario;
  /** The file as read, kept so run.json can record exactly what was run. */
  sourceText: string;
  migration: { from: string; to: string };
}

/** The name a workload goes by in the results: its `name`, else its type. */
export function workloadName(w: WorkloadConfig): string {
  return w.name ?? w.type;
}

export async function loadScenario(file: string, overrides: ScenarioOverrides = {}): Promise<LoadedScenario> {
  let sourceText: string;
  try {
    sourceText = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const found = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : `an unreadable file (${code ?? String(err)})`;
    throw new ScenarioError(file, [{ path: '', expected: 'a readable YAML scenario file (see scenarios/ for examples)', found }]);
  }
  return parseScenario(file, sourceText, overrides);
}

export function parseScenario(file: string, sourceText: string, overrides: ScenarioOverrides = {}): LoadedScenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(sourceText, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      file,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { path: '', where: `line ${pos.line}:${pos.col}`, expected: 'valid YAML', found: `a syntax error (${e.message.split('\n')[0]})` };
      }),
    );
  }
  if (!isMap(doc.contents)) {
    throw new ScenarioError(file, [{ path: '', expected: 'a mapping with at least `workloads` and `strategies`', found: describe(doc.toJS()) }]);
  }
  const raw = toPlainData(file, doc);
  const withOverrides = applyOverrides(raw, overrides);

  // Where a problem sits in the file: the line of the deepest node of its path that exists in the document.
  const locate = (path: PropertyKey[]): string | undefined => {
    for (let depth = path.length; depth > 0; depth--) {
      const node = doc.getIn(path.slice(0, depth) as (string | number)[], true) as { range?: [number, number] } | undefined;
      if (node?.range) {
        const pos = lineCounter.linePos(node.range[0]);
        return `line ${pos.line}`;
      }
    }
    return undefined;
  };

  const parsed = scenarioSchema.safeParse(withOverrides);
  if (!parsed.success) {
    const problems = flattenUnions(parsed.error.issues).map((issue) => problemFromIssue(issue, withOverrides, overrides, locate));
    throw new ScenarioError(file, dedupe(problems));
  }
  const scenario = parsed.data;
  const conflicts = sweepConflicts(withOverrides.workloads).map(({ at, expected, found }) => ({ path: formatPath(at), expected, found, where: locate(at) }));
  const problems = [...crossFieldProblems(scenario), ...platformFields[scenario.platform].problems(scenario, raw, locate), ...conflicts];
  if (problems.length > 0) throw new ScenarioError(file, problems);
  return { file, scenario, sourceText, migration: platformFields[scenario.platform].migration(scenario) };
}

/**
 * Aliases at most this many times in a scenario (yaml's own default): far more than a hand-written
 * one needs, while a "billion laughs" document — aliases of aliases, each level multiplying the
 * size — is refused before it is expanded.
 */
const MAX_ALIAS_COUNT = 100;

/** The document as plain data; an alias bomb is bad input (exit 2), not the yaml library's stack trace. */
function toPlainData(file: string, doc: ReturnType<typeof parseDocument>): Record<string, unknown> {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as Record<string, unknown>;
  } catch (err) {
    // yaml throws a ReferenceError ("Excessive alias count indicates a resource exhaustion attack").
    if (!(err instanceof ReferenceError) || !/Excessive alias count/.test(err.message)) throw err;
    return throwAliasBomb(file);
  }
}

function throwAliasBomb(file: string): never {
  throw new ScenarioError(file, [
    {
      path: '',
      expected: `a scenario whose aliases (*name) expand to a document of reasonable size (at most ${MAX_ALIAS_COUNT} alias uses; write the values out instead)`,
      found: 'aliases of aliases that would expand exponentially (a "billion laughs" document)',
    },
  ]);
}

function applyOverrides(raw: Record<string, unknown>, o: ScenarioOverrides): Record<string, unknown> {
  const out = { ...raw };
  if (o.repetitions !== undefined) out.repetitions = o.repetitions;
  if (o.warmup !== undefined) out.warmup = o.warmup;
  if (o.seed !== undefined) out.seed = o.seed;
  if (o.strategies !== undefined) {
    // `--strategies criu` keeps the options the file gives criu; a strategy the file does not list gets defaults.
    const existing = Array.isArray(raw.strategies) ? raw.strategies : [];
    out.strategies = o.strategies.map((name) => existing.find((s) => typeof s === 'object' && s !== null && (s as { name?: unknown }).name === name) ?? name);
  }
  return out;
}

const FLAG_FOR: Record<string, string> = { repetitions: '--reps', warmup: '--warmup', seed: '--seed', strategies: '--strategies' };

function problemFromIssue(
  issue: z.core.$ZodIssue,
  doc: unknown,
  overrides: ScenarioOverrides,
  locate: (path: PropertyKey[]) => string | undefined,
): ScenarioProblem {
  let path = issue.path;
  let expected: string;
  let found = describe(valueAt(doc, path));
  switch (issue.code) {
    case 'invalid_type':
      expected = found === 'nothing' ? `${article(issue.expected)} (this field is required)` : article(issue.expected);
      break;
    case 'invalid_value':
      expected = issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    case 'invalid_union': {
      const value = valueAt(doc, path);
      if (issue.discriminator !== undefined && 'options' in issue && issue.options) {
        // A discriminated union whose tag is missing or unknown: point at the tag itself.
        if (path[path.length - 1] !== issue.discriminator) path = [...path, issue.discriminator];
        found = describe(valueAt(doc, path));
        expected = `one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}`;
      } else if (path[0] === 'strategies' && (typeof value === 'string' || value === null || typeof value !== 'object')) {
        expected = `a strategy: one of ${strategyNames.join(', ')} (or a mapping with \`name\` and its options)`;
      } else {
        expected = 'a strategy name or a mapping with `name` and its options';
      }
      break;
    }
    case 'too_small':
      expected =
        issue.origin === 'array'
          ? `a list of at least ${issue.minimum} item${Number(issue.minimum) === 1 ? '' : 's'}`
          : issue.origin === 'string'
            ? `a string of at least ${issue.minimum} character(s)`
            : `a number ${issue.inclusive ? '≥' : '>'} ${issue.minimum}`;
      break;
    case 'too_big':
      expected = issue.origin === 'array' ? `at most ${issue.maximum} items` : `a number ${issue.inclusive ? '≤' : '<'} ${issue.maximum}`;
      break;
    case 'unrecognized_keys':
      expected = `only known fields (${issue.keys.map((k) => `\`${k}\``).join(', ')} ${issue.keys.length === 1 ? 'is' : 'are'} not one; check the spelling against docs/scenarios.md)`;
      found = issue.keys.map((k) => `${k}: ${describe((valueAt(doc, path) as Record<string, unknown>)?.[k])}`).join(', ');
      break;
    case 'invalid_format':
      expected = issue.message ?? `a ${issue.format}`;
      break;
    case 'not_multiple_of':
      expected = `a multiple of ${issue.divisor}`;
      break;
    default:
      expected = issue.message;
  }
  if (issue.code === 'invalid_type' && issue.expected === 'number' && found !== 'nothing') expected = 'a number';
  if (issue.code === 'invalid_type' && issue.expected === 'int') expected = 'a whole number';
  if (issue.code === 'invalid_format' || (issue.code === 'custom' && issue.message)) expected = issue.message;
  const top = String(path[0] ?? '');
  const flag = FLAG_FOR[top];
  const fromFlag = flag !== undefined && overrides[top as keyof ScenarioOverrides] !== undefined;
  return {
    path: formatPath(path) + (fromFlag ? ` (from ${flag})` : ''),
    expected,
    found,
    where: fromFlag ? undefined : locate(path),
  };
}

/**
 * A union of "a name" or "a mapping with options" fails as a whole; when the document holds a
 * mapping, the useful errors are the mapping branch's (e.g. a misspelled option), so report those.
 */
function flattenUnions(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue];
    const branch = issue.errors.find(
      (errors) => errors.length > 0 && !errors.every((e) => e.path.length === 0 && (e.code === 'invalid_type' || e.code === 'invalid_value')),
    );
    if (!branch) return [issue];
    return flattenUnions(branch.map((e) => ({ ...e, path: [...issue.path, ...e.path] }) as z.core.$ZodIssue));
  });
}

function crossFieldProblems(s: Scenario): ScenarioProblem[] {
  const problems: ScenarioProblem[] = [];
  const duplicates = (values: string[]) => values.filter((v, i) => values.indexOf(v) !== i);
  for (const d of new Set(duplicates(s.nodes))) problems.push({ path: 'nodes', expected: 'distinct node names', found: `${JSON.stringify(d)} twice` });
  // A swept workload stands for one instance per value (`redis-64`, `redis-128`): those names count too.
  for (const d of new Set(duplicates(s.workloads.flatMap((w) => sweepInstances(w).map((i) => i.name))))) {
    problems.push({
      path: 'workloads',
      expected: 'distinct workload names (give repeated types a `name`; a swept one is named `<name>-<value>`)',
      found: `${JSON.stringify(d)} twice`,
    });
  }
  for (const d of new Set(duplicates(s.strategies.map(strategyLabel)))) {
    problems.push({
      path: 'strategies',
      expected: 'each strategy once (a CRIU strategy may also appear once more with ip: preserve)',
      found: `${JSON.stringify(d)} twice`,
    });
  }
  problems.push(...strategyProblems(s));
  if (s.evacuate) {
    const fields = platformFields[s.platform];
    const workloadNames = s.workloads.map(workloadName);
    const sweptWorkloads = s.workloads.filter((w) => w.sweep !== undefined).map(workloadName);
    problems.push(...evacuationProblems(s.evacuate, { nodes: fields.knownNodes(s), from: fields.migration(s).from, workloadNames, sweptWorkloads }));
  }
  return problems;
}

/**
 * Each strategy runs on the scenario's platform (a strategy written for one cannot run on the other),
 * and its options fit the rest of the scenario (its entry's checks).
 */
function strategyProblems(s: Scenario): ScenarioProblem[] {
  const problems: ScenarioProblem[] = [];
  const facts = { platform: s.platform, ...(s.kubernetes ? { kubernetesNamespace: s.kubernetes.namespace } : {}) };
  s.strategies.forEach((st, i) => {
    const entry = strategies.entryOf(st.name);
    if (!strategies.runsOn(st.name, s.platform)) {
      const why = entry.elsewhere ?? `${st.name} has no ${s.platform} move`;
      problems.push({
        path: `strategies[${i}]`,
        expected: `a ${s.platform} strategy (${strategies.namesOn(s.platform).join(', ')}): ${why}`,
        found: JSON.stringify(st.name),
      });
      return;
    }
    for (const p of entry.problems?.(st, facts) ?? []) {
      problems.push({ path: p.scenarioField ?? `strategies[${i}]${p.option ? `.${p.option}` : ''}`, expected: p.expected, found: p.found });
    }
  });
  return problems;
}

function dedupe(problems: ScenarioProblem[]): ScenarioProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.expected}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function valueAt(doc: unknown, path: PropertyKey[]): unknown {
  let v = doc;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

export function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}

function article(type: string): string {
  const named: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'a string', number: 'a number', boolean: 'true or false' };
  return named[type] ?? `a ${type}`;
}
