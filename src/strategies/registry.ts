// Maps the scenario's strategy names to implementations; `satisfies` keeps it in step with the schema.
import type { StrategyConfig, kubernetesStrategyNames } from '../scenario/schema.ts';
import { CriuStrategy } from './criu.ts';
import { CriuLazyStrategy } from './criu-lazy.ts';
import { CriuPageserverStrategy } from './criu-pageserver.ts';
import { CriuPrecopyStrategy } from './criu-precopy.ts';
import { RedeployStrategy } from './redeploy.ts';
import { DrainStrategy } from './drain.ts';
import type { Strategy } from './strategy.ts';
import { KubernetesDrainStrategy } from './kubernetes-drain.ts';
import { KubernetesRedeployStrategy } from './kubernetes-redeploy.ts';
import { PodmigrationStrategy } from './podmigration.ts';
import { KubeletCheckpointStrategy } from './kubelet-checkpoint.ts';
import type { KubernetesStrategy } from './kubernetes-strategy.ts';

// One map per platform: a strategy is the platform's own way of moving a pod (on the local
// platform migbench itself stops and starts pods; on a cluster it asks the cluster and watches), so
// `drain` and `redeploy` have an implementation on each, `criu` only locally, `podmigration` and
// `kubelet-checkpoint` only on a cluster. The scenario loader rejects a strategy its platform does not have.
type LocalStrategyName = 'criu' | 'criu-lazy' | 'criu-pageserver' | 'criu-precopy' | 'redeploy' | 'drain';
type KubernetesStrategyName = (typeof kubernetesStrategyNames)[number];
type Factories<N extends StrategyConfig['name'], S> = { [K in N]: (config: Extract<StrategyConfig, { name: K }>) => S };

export const strategyFactories = {
  criu: (config) => new CriuStrategy(config),
  'criu-lazy': (config) => new CriuLazyStrategy(config),
  'criu-pageserver': (config) => new CriuPageserverStrategy(config),
  'criu-precopy': (config) => new CriuPrecopyStrategy(config),
  redeploy: (config) => new RedeployStrategy(config),
  drain: (config) => new DrainStrategy(config),
} satisfies Factories<LocalStrategyName, Strategy>;

export const kubernetesStrategyFactories = {
  podmigration: (config) => new PodmigrationStrategy(config),
  redeploy: (config) => new KubernetesRedeployStrategy(config),
  drain: (config) => new KubernetesDrainStrategy(config),
  'kubelet-checkpoint': (config) => new KubeletCheckpointStrategy(config),
} satisfies Factories<KubernetesStrategyName, KubernetesStrategy>;

// Every name the schema accepts has an implementation on some platform (a type error otherwise).
const everyStrategyImplemented: Record<StrategyConfig['name'], true> = {
  criu: true, 'criu-lazy': true, 'criu-pageserver': true, 'criu-precopy': true, redeploy: true, drain: true, podmigration: true, 'kubelet-checkpoint': true,
} satisfies Record<LocalStrategyName | KubernetesStrategyName, true>;
void everyStrategyImplemented;

export function createStrategy(config: StrategyConfig): Strategy {
  if (!(config.name in strategyFactories)) throw new Error(`strategy ${config.name} does not run on the local platform`);
  const factory = strategyFactories[config.name as LocalStrategyName] as (c: StrategyConfig) => Strategy;
  return factory(config);
}

export function createKubernetesStrategy(config: StrategyConfig): KubernetesStrategy {
  if (!(config.name in kubernetesStrategyFactories)) throw new Error(`strategy ${config.name} does not run on the kubernetes platform`);
  const factory = kubernetesStrategyFactories[config.name as KubernetesStrategyName] as (c: StrategyConfig) => KubernetesStrategy;
  return factory(config);
}
