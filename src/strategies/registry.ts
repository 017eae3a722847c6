// Maps the scenario's strategy names to implementations; `satisfies` keeps it in step with the schema.
import type { StrategyConfig } from '../scenario/schema.ts';
import { CriuStrategy } from './criu.ts';
import { RedeployStrategy } from './redeploy.ts';
import { DrainStrategy } from './drain.ts';
import type { Strategy } from './strategy.ts';

type Factories = { [N in StrategyConfig['name']]: (config: Extract<StrategyConfig, { name: N }>) => Strategy };

export const strategyFactories = {
  criu: () => new CriuStrategy(),
  redeploy: (config) => new RedeployStrategy(config),
  drain: (config) => new DrainStrategy(config),
} satisfies Factories;

export function createStrategy(config: StrategyConfig): Strategy {
  const factory = strategyFactories[config.name] as (c: StrategyConfig) => Strategy;
  return factory(config);
}
