// A run's id: when it started and which scenario it ran (`20261125T070138Z-default`), the name of
// its results directory unless --out says otherwise.
import type { Scenario } from '../scenario/schema.ts';

export function makeRunId(now: Date, scenarioName: string): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${scenarioName}`;
}

/** The scenario's `name`, else its file name without .yaml. */
export function scenarioRunName(scenario: Scenario, scenarioFile: string): string {
  return scenario.name ?? scenarioFile.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
}
