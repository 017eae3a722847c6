// What a run writes as it goes: run.json (rewritten at the start, when the platform is known, after
// every trial with the counts and the harness's CPU so far, and at the end) and each trial's rows, appended as the trial ends.
import { ResultsDir } from '../results/results-dir.ts';
import type { RunInfo } from '../results/run-json.ts';
import { recordsOf, type TrialResult } from '../model/trial-result.ts';
import type { TrialMetrics } from '../metrics/trial-metrics.ts';
import { startHarnessCpu } from '../system/harness-cpu.ts';

export class RunRecord {
  private readonly results: ResultsDir;
  private readonly info: RunInfo;
  private readonly harnessCpu = startHarnessCpu();

  /** Opens the results directory and writes the starting run.json. */
  constructor(outDir: string, info: RunInfo) {
    this.results = new ResultsDir(outDir);
    this.results.open();
    this.info = info;
    this.results.writeRunJson(info);
  }

  platform(platform: NonNullable<RunInfo['platform']>): void {
    this.info.platform = platform;
    this.results.writeRunJson(this.info);
  }

  trial(result: TrialResult, metrics: TrialMetrics): void {
    this.results.appendTrial(result, metrics);
    if (result.status === 'unsupported') this.info.trials.unsupported = (this.info.trials.unsupported ?? 0) + 1;
    else this.info.trials[result.status]++;
    const operator = recordsOf(result)?.operator;
    if (operator) {
      const counts = (this.info.podmigrationOperator ??= {});
      counts[operator] = (counts[operator] ?? 0) + 1;
    }
    this.info.harnessCpu = this.harnessCpu();
    this.results.writeRunJson(this.info);
  }

  end(): void {
    this.info.endedAt = new Date().toISOString();
    this.info.harnessCpu = this.harnessCpu();
    this.results.writeRunJson(this.info);
  }
}
