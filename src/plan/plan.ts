// Scenario → the ordered list of trials. Strategies are interleaved in rounds, each round a seeded
// shuffle of every workload × strategy pair, so slow drift of the host (page cache, thermal, a
// neighbour) spreads over all strategies instead of biasing whichever ran last. A swept workload
// (`sweep: { datasetMiB: [...] }`) stands for one instance per value, each a pair with every
// strategy, so the sweep's points are interleaved like everything else.
import type { Scenario, StrategyConfig, WorkloadConfig } from '../scenario/schema.ts';
import { sweepInstances } from '../scenario/sweep.ts';
import { evacuationPodName, evacuationShapes, type EvacuationShape } from '../scenario/evacuation.ts';
import type { EvacuationMembership } from '../model/evacuation.ts';
import { platformFields } from '../scenario/platform-fields.ts';
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
  /** One pod of an evacuation: the run moves the evacuation's consecutive trials together. */
  evacuation?: EvacuationMembership & { targets: string[] };
}

export function planTrials(scenario: Scenario): PlannedTrial[] {
  if (scenario.evacuate) return planEvacuations(scenario);
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

/** The results' `workload` of an evacuation's pods: the workloads, their counts and the concurrency (`redis-n4-c2`), so summaries group by shape. */
export function evacuationLabel(shape: EvacuationShape): string {
  return `${shape.pods.map((p) => `${p.workload}-n${p.count}`).join('-')}-c${shape.concurrency}`;
}

/**
 * An `evacuate:` scenario: rounds of every evacuation shape (its sweep's points) × strategy, shuffled
 * like single-pod trials; each evacuation is as many consecutive trials as it has pods, pod i moving
 * to targets[i mod n].
 */
function planEvacuations(scenario: Scenario): PlannedTrial[] {
  const random = seededRandom(scenario.seed);
  const shapes = evacuationShapes(scenario.evacuate!, platformFields[scenario.platform].migration(scenario).to);
  const pairs = shapes.flatMap((shape) => scenario.strategies.map((strategy) => ({ shape, strategy })));
  const trials: PlannedTrial[] = [];
  let evacuations = 0;
  const rounds = (count: number, warmup: boolean) => {
    for (let repetition = 1; repetition <= count; repetition++) {
      for (const { shape, strategy } of shuffled(pairs, random)) {
        const id = ++evacuations;
        const total = shape.pods.reduce((sum, p) => sum + p.count, 0);
        let index = 0;
        for (const { workload: name, count } of shape.pods) {
          const template = scenario.workloads.find((w) => (w.name ?? w.type) === name)!;
          for (let i = 1; i <= count; i++) {
            const pod = evacuationPodName(name, i);
            const target = shape.targets[index % shape.targets.length]!;
            index++;
            trials.push({
              trial: trials.length + 1,
              workload: { ...template, name: pod } as WorkloadConfig,
              workloadName: evacuationLabel(shape),
              strategy,
              repetition,
              warmup,
              evacuation: { id, pods: total, concurrency: shape.concurrency, pod, target, targets: shape.targets },
            });
          }
        }
      }
    }
  };
  rounds(scenario.warmup, true);
  rounds(scenario.repetitions, false);
  return trials;
}
