// Scenario → the ordered list of trials. Strategies are interleaved in rounds, each round a seeded
// shuffle of every workload × strategy pair, so slow drift of the host (page cache, thermal, a
// neighbour) spreads over all strategies instead of biasing whichever ran last.
import type { Scenario, StrategyConfig, WorkloadConfig } from '../scenario/schema.ts';
import { workloadName } from '../scenario/load.ts';
import { seededRandom, shuffled } from './random.ts';

export interface PlannedTrial {
  /** 1-based position in the run (warm-ups included); the `trial` column of every CSV. */
  trial: number;
  workload: WorkloadConfig;
  workloadName: string;
  strategy: StrategyConfig;
  /** 1-based within workload × strategy; warm-ups are numbered separately from 1. */
  repetition: number;
  /** Warm-up trials run first and are excluded from summaries (they pay first-use costs). */
  warmup: boolean;
}

export function planTrials(scenario: Scenario): PlannedTrial[] {
  const random = seededRandom(scenario.seed);
  const pairs = scenario.workloads.flatMap((workload) => scenario.strategies.map((strategy) => ({ workload, strategy })));
  const trials: PlannedTrial[] = [];
  const rounds = (count: number, warmup: boolean) => {
    for (let repetition = 1; repetition <= count; repetition++) {
      for (const { workload, strategy } of shuffled(pairs, random)) {
        trials.push({ trial: trials.length + 1, workload, workloadName: workloadName(workload), strategy, repetition, warmup });
      }
    }
  };
  rounds(scenario.warmup, true);
  rounds(scenario.repetitions, false);
  return trials;
}
