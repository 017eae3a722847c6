// `migbench validate <scenario>`: checks the scenario and prints the plan; starts nothing.
import { loadScenario, type ScenarioOverrides } from '../scenario/load.ts';
import { planTrials } from '../plan/plan.ts';
import { sweepInstances } from '../scenario/sweep.ts';

export async function validateCommand(args: { scenario: string; overrides: ScenarioOverrides }): Promise<number> {
  const { scenario, migration } = await loadScenario(args.scenario, args.overrides);
  const trials = planTrials(scenario);
  const measured = trials.filter((t) => !t.warmup).length;
  process.stdout.write(
    `${args.scenario}: ok — ${scenario.workloads.flatMap(sweepInstances).length} workload(s) × ${scenario.strategies.length} strategy(ies) × ${scenario.repetitions} repetition(s)` +
      ` = ${measured} trials (+${trials.length - measured} warm-up), ${migration.from} → ${migration.to}, seed ${scenario.seed}\n`,
  );
  return 0;
}
