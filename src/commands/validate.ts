// `migbench validate <scenario>`: checks the scenario and prints the plan; starts nothing.
import { loadScenario, type ScenarioOverrides } from '../scenario/load.ts';
import { planTrials } from '../plan/plan.ts';
import { sweepInstances } from '../scenario/sweep.ts';
import { evacuationShapes } from '../scenario/evacuation.ts';
import type { Scenario } from '../scenario/schema.ts';

export async function validateCommand(args: { scenario: string; overrides: ScenarioOverrides }): Promise<number> {
  const { scenario, migration } = await loadScenario(args.scenario, args.overrides);
  const trials = planTrials(scenario);
  const measured = trials.filter((t) => !t.warmup).length;
  if (scenario.evacuate) {
    const evacuations = new Set(trials.filter((t) => !t.warmup).map((t) => t.evacuation!.id)).size;
    const warmups = new Set(trials.filter((t) => t.warmup).map((t) => t.evacuation!.id)).size;
    process.stdout.write(
      `${args.scenario}: ok — ${describeEvacuations(scenario, migration.to)} × ${scenario.strategies.length} strategy(ies) × ${scenario.repetitions} repetition(s)` +
        ` = ${evacuations} evacuations of ${migration.from} (+${warmups} warm-up), ${measured} pod trials (+${trials.length - measured} warm-up), seed ${scenario.seed}\n`,
    );
    return 0;
  }
  process.stdout.write(
    `${args.scenario}: ok — ${scenario.workloads.flatMap(sweepInstances).length} workload(s) × ${scenario.strategies.length} strategy(ies) × ${scenario.repetitions} repetition(s)` +
      ` = ${measured} trials (+${trials.length - measured} warm-up), ${migration.from} → ${migration.to}, seed ${scenario.seed}\n`,
  );
  return 0;
}

/** An `evacuate:` section's evacuations: each sweep point's pods and concurrency, and where the pods go. */
function describeEvacuations(scenario: Scenario, defaultTarget: string): string {
  const shapes = evacuationShapes(scenario.evacuate!, defaultTarget);
  const points = shapes.map((s) => `${s.pods.map((p) => `${p.count} ${p.workload}`).join(' + ')} pod(s), ${s.concurrency} at once`);
  return `${shapes.length} evacuation(s) (${points.join('; ')}) to ${shapes[0]!.targets.join(', ')}`;
}
