// Scenario → the ordered list of trials. Strategies are interleaved in rounds, each round a seeded
// shuffle of every workload × strategy pair, so slow drift of the host (page cache, thermal, a
// neighbour) spreads over all strategies instead of biasing whichever ran last. A swept workload
// (`sweep: { datasetMiB: [...] }`) stands for one instance per value, each a pair with every
// strategy, so the sweep's points are interleaved like everything else.
import type { Scenario, StrategyConfig, WorkloadConfig } from '../scenario/schema.ts';
import { sweepInstances } from '../scenario/sweep.ts';
import { seededRandom, shuffled } from './random.ts';

export interface PlannedTrial {
  /** 1-based position in the run (warm-ups included); the `trial` column of every CSV. */
  trial: number;
  /** The workload as this trial runs it: a swept field set to the trial's value, no `sweep`. */
  workload: WorkloadConfig;
  /** Its name in the results: `<name>-<value>` for a sweep point. */
  workloadName: string;
  /** The swept parameter and this trial's value of it; undefined when the workload is not swept. */
  sweep?: { parameter: string; value: number };
  strategy: StrategyConfig;
  /** 1-based within workload × strategy; warm-ups are numbered separately from 1. */
  repetition: number;
  /** Warm-up trials run first and are excluded from summaries (they pay first-use costs). */
  warmup: boolean;
}

export function planTrials(scenario: Scenario): PlannedTrial[] {
  const random = seededRandom(scenario.seed);
  const instances = scenario.workloads.flatMap((workload) => sweepInstances(workload));
  const pairs = instances.flatMap((instance) => scenario.strategies.map((strategy) => ({ instance, strategy })));
  const trials: PlannedTrial[] = [];
  const rounds = (count: number, warmup: boolean) => {
    for (let repetition = 1; repetition <= count; repetition++) {
      for (const { instance, strategy } of shuffled(pairs, random)) {
        const { workload, name, sweep } = instance;
        trials.push({ trial: trials.length + 1, workload, workloadName: name, ...(sweep ? { sweep } : {}), strategy, repetition, warmup });
      }
    }
  };
  rounds(scenario.warmup, true);
  rounds(scenario.repetitions, false);
  return trials;
}
