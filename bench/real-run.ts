// The figures only a real run gives: `migbench run bench/self-run.yaml` on the local platform (root,
// about a minute), then from its files the probe's send jitter and the harness's share of each CRIU
// downtime (bench/self-figures.ts).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  anatomyMedians,
  criuOverhead,
  criuSteps,
  measuredTrials,
  sendJitter,
  type AnatomyMedians,
  type CriuOverhead,
  type CriuSteps,
  type SendJitter,
} from './self-figures.ts';

const ROOT = resolve(import.meta.dirname, '..');
export const SELF_RUN_SCENARIO = join(ROOT, 'bench', 'self-run.yaml');

export interface RealRunFigures {
  dir: string;
  jitter?: SendJitter;
  overhead: CriuOverhead[];
  /** Per trial: the platform's steps from events.csv, to see where the overhead goes. */
  steps: Map<string, CriuSteps>;
  /** Per workload × strategy: the anat_* medians and the harness's share. */
  anatomy: AnatomyMedians[];
}

/**
 * Runs the scenario into `outDir` (progress on stderr). Resolves with the run's exit code when it ran
 * (0, or 1: some trial failed — the others still count); rejects when it did not run (bad input,
 * environment, interrupted).
 */
export async function runSelfScenario(outDir: string): Promise<number> {
  const child = spawn('sh', [join(ROOT, 'bin', 'migbench'), 'run', SELF_RUN_SCENARIO, '--out', outDir, '--quiet'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise<number | null>((done) => child.once('exit', (c) => done(c)));
  if (code !== 0 && code !== 1) throw new Error(`migbench run ${SELF_RUN_SCENARIO} exited ${code} (results, if any: ${outDir})`);
  return code;
}

/** The figures from a results directory (measured, ok trials only). */
export function realRunFigures(dir: string): RealRunFigures {
  const trialsCsv = readFileSync(join(dir, 'trials.csv'), 'utf8');
  const jitter = sendJitter(readFileSync(join(dir, 'samples.csv'), 'utf8'), measuredTrials(trialsCsv));
  return {
    dir,
    ...(jitter ? { jitter } : {}),
    overhead: criuOverhead(trialsCsv),
    steps: criuSteps(readFileSync(join(dir, 'events.csv'), 'utf8')),
    anatomy: anatomyMedians(trialsCsv),
  };
}
