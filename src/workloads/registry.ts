// Maps the scenario's workload `type` to its implementation. The schema's discriminated union and
// this map share the same names; `satisfies` makes a missing entry a type error.
import type { WorkloadConfig } from '../scenario/schema.ts';
import { MlTrainingWorkload } from './ml-training.ts';
import { RedisWorkload } from './redis.ts';
import { VideoWorkload } from './video.ts';
import type { Workload } from './workload.ts';

type Factories = { [T in WorkloadConfig['type']]: (config: Extract<WorkloadConfig, { type: T }>) => Workload };

const workloadFactories = {
  redis: (config) => new RedisWorkload(config),
  video: (config) => new VideoWorkload(config),
  'ml-training': (config) => new MlTrainingWorkload(config),
} satisfies Factories;

export function createWorkload(config: WorkloadConfig): Workload {
  const factory = workloadFactories[config.type] as (c: WorkloadConfig) => Workload;
  return factory(config);
}
