// What one strategy is, in one place: its name, its options (a zod schema with defaults and a
// description on every option, from which the scenario schema and docs/scenarios.md are derived),
// what its options add to trials.csv's `strategy` label, the checks of its options against the rest
// of the scenario, and its move on each platform that has one. A strategy's folder exports one
// entry (`defineStrategy`); src/strategies/registry.ts lists the entries.
import type { z } from 'zod';
import type { KubernetesStrategy } from './kubernetes-strategy.ts';
import type { Strategy } from './strategy.ts';

/** The platforms a strategy may have a move on (the scenario's `platform`). */
export type StrategyPlatform = 'local' | 'kubernetes';

/** A strategy's options as the scenario gives them: a strict object whose `name` is the strategy's name. */
export type StrategyOptionsSchema = z.ZodObject<{ name: z.ZodLiteral<string> } & z.ZodRawShape>;

/** What of the scenario outside the strategy its option checks may look at. */
interface ScenarioFacts {
  platform: StrategyPlatform;
  /** `kubernetes.namespace`, on the kubernetes platform. */
  kubernetesNamespace?: string;
}

/**
 * An option that does not fit the rest of the scenario. `option` names a field of the strategy
 * (reported at `strategies[i].<option>`), `scenarioField` one outside it (e.g. `kubernetes.namespace`).
 */
export interface OptionProblem {
  option?: string;
  scenarioField?: string;
  expected: string;
  found: string;
}

export interface StrategyEntry<S extends StrategyOptionsSchema = StrategyOptionsSchema> {
  /** The name a scenario uses (`strategies: [criu]`, trials.csv's `strategy`). */
  readonly name: z.output<S>['name'];
  /** Its options, `name` included: `.strict()`, a `.describe()` on the object and on every option, defaults where one fits. */
  readonly options: S;
  /** What the options add to the name in trials.csv's `strategy` column (e.g. `+ip-preserve`), so two variants of one strategy can share a run; '' for none. */
  label?(options: z.output<S>): string;
  /** Option combinations the schema cannot judge alone (two options together, an option and the platform's settings). */
  problems?(options: z.output<S>, scenario: ScenarioFacts): OptionProblem[];
  /** Why it cannot run on a platform it has no move on, and what to use there instead (e.g. "criu runs on the local platform; …"). */
  readonly elsewhere?: string;
  /** The move on the local platform: migbench stops, checkpoints and starts the pods itself. */
  local?(options: z.output<S>): Strategy;
  /** The move on a cluster: migbench asks the cluster and watches what it does. */
  kubernetes?(options: z.output<S>): KubernetesStrategy;
}

/** One strategy's entry, its option types checked against its schema. */
export function defineStrategy<S extends StrategyOptionsSchema>(entry: StrategyEntry<S>): StrategyEntry<S> {
  return entry;
}
