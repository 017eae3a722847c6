// Everything that follows from a list of strategy entries: the scenario schema's strategy union, the
// names, each platform's strategies, the trials.csv label, a move made from a configured strategy.
// src/strategies/registry.ts calls it on the real list; a test calls it on the list plus a toy entry,
// so the derivations are checked through the same function.
import { z } from 'zod';
import type { KubernetesStrategy } from './kubernetes-strategy.ts';
import type { Strategy } from './strategy.ts';
import type { StrategyEntry, StrategyPlatform } from './entry.ts';

// `any`: each entry has its own option schema; the union below recovers the precise types.
type AnyEntry = StrategyEntry<any>;

export function strategyRegistry<const E extends readonly [AnyEntry, ...AnyEntry[]]>(entries: E) {
  type Options = E[number]['options'];
  type Config = z.output<Options>;
  type Name = Config['name'];

  const byName = new Map<string, AnyEntry>();
  for (const entry of entries) {
    if (byName.has(entry.name)) throw new Error(`strategy ${entry.name} is listed twice`);
    if (entry.options.shape.name.value !== entry.name)
      throw new Error(`strategy ${entry.name}: its options' name is ${String(entry.options.shape.name.value)}`);
    if (!entry.local && !entry.kubernetes) throw new Error(`strategy ${entry.name} has a move on no platform`);
    byName.set(entry.name, entry);
  }
  const names = entries.map((e) => e.name) as unknown as readonly [Name, ...Name[]];
  /** A strategy given as a mapping: `name` picks the entry's options. */
  const objectSchema = z.discriminatedUnion('name', entries.map((e) => e.options) as unknown as readonly [Options, ...Options[]]);
  /** A strategy is named by a string (defaults for every option) or given as a mapping with options. */
  const schema = z.union([z.enum(names).transform((n): Config => objectSchema.parse({ name: n }) as Config), objectSchema]);

  const entryOf = (name: string): AnyEntry => {
    const entry = byName.get(name);
    if (!entry) throw new Error(`no strategy ${name}`);
    return entry;
  };
  const namesOn = (platform: StrategyPlatform): Name[] => entries.filter((e) => e[platform] !== undefined).map((e) => e.name as Name);

  return {
    entries,
    names,
    objectSchema,
    schema,
    /** The strategy's entry, by name. */
    entryOf,
    /** The strategies that have a move on `platform`, in the list's order. */
    namesOn,
    runsOn: (name: string, platform: StrategyPlatform): boolean => entryOf(name)[platform] !== undefined,
    /** How trials.csv's `strategy` column names a configured strategy: its name and what its options add. */
    label: (config: Config): string => `${config.name}${entryOf(config.name).label?.(config) ?? ''}`,
    /** The local move for a configured strategy. */
    createLocal: (config: Config): Strategy => {
      const create = entryOf(config.name).local;
      if (!create) throw new Error(`strategy ${config.name} does not run on the local platform`);
      return create(config);
    },
    /** The cluster move for a configured strategy. */
    createKubernetes: (config: Config): KubernetesStrategy => {
      const create = entryOf(config.name).kubernetes;
      if (!create) throw new Error(`strategy ${config.name} does not run on the kubernetes platform`);
      return create(config);
    },
  };
}
