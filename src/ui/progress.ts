// Terminal progress for a run. It only listens to the runner's events; the runner never calls it.
// On a terminal: a progress bar redrawn in place, plus one line per finished trial. Elsewhere (CI,
// a pipe): just the per-trial lines, so logs stay readable.
import type { Runner } from '../runner/run.ts';
import type { TrialMetrics } from '../metrics/trial-metrics.ts';
import type { TrialResult } from '../model/trial-result.ts';
import { strategyLabel } from '../scenario/schema.ts';

export interface ProgressOptions {
  quiet: boolean;
  stream?: NodeJS.WriteStream;
}

const ms = (v: number | undefined) => (v === undefined ? '—' : `${v.toFixed(1)} ms`);

export function trialLine(result: TrialResult, metrics: TrialMetrics, index: number, total: number): string {
  const width = String(total).length;
  const head = `[${String(index + 1).padStart(width)}/${total}] ${result.workload.padEnd(10)} ${result.strategy.padEnd(9)} ${result.warmup ? 'warm-up' : 'rep'} ${String(result.repetition).padStart(2)}`;
  if (result.status === 'failed') return `${head}  FAILED in ${result.failedPhase}: ${result.error}`;
  if (result.status === 'unsupported') return `${head}  ${result.error}`;
  return `${head}  ok  downtime ${ms(metrics.downtime_ms)}  migration ${ms(metrics.migration_ms)}`;
}

export function attachProgress(runner: Runner, options: ProgressOptions): void {
  const out = options.stream ?? process.stderr;
  if (options.quiet) return;
  const tty = Boolean(out.isTTY);
  let current = '';
  const bar = (done: number, total: number) => {
    const width = 24;
    const filled = Math.round((done / total) * width);
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
  };
  const redraw = (done: number, total: number) => {
    if (tty) out.write(`\r\x1b[2K${bar(done, total)} ${current}`);
  };
  let doneCount = 0;
  let totalCount = 0;
  runner.on('trial-start', (trial, index, total) => {
    totalCount = total;
    current = `${trial.workloadName} × ${strategyLabel(trial.strategy)}${trial.warmup ? ' (warm-up)' : ''} #${trial.repetition}`;
    redraw(index, total);
  });
  runner.on('trial-phase', (trial, phase) => {
    current = `${trial.workloadName} × ${strategyLabel(trial.strategy)} #${trial.repetition}: ${phase}`;
    redraw(doneCount, totalCount);
  });
  runner.on('trial-end', (result, metrics, index, total) => {
    doneCount = index + 1;
    if (tty) out.write('\r\x1b[2K');
    out.write(`${trialLine(result, metrics, index, total)}\n`);
    if (doneCount < total) redraw(doneCount, total);
  });
}
