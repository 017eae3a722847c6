// The calibration bench: how often does the nightly gate (`migbench compare`) cry wolf, and how often
// does it catch a regression of a known size? `node bench/calibrate.ts --out DIR [--plain 11]
// [--inject25 6] [--inject10 4]` (root; each run takes the shared host lock on its own, so other
// users of the host get their turn between runs; resumable: a finished run is not run again).
//
// Real runs of bench/calibration.yaml (the default scenario's Redis cells, the nightly's 6
// repetitions), in this order: two plain runs; then, alternating, an injected run and a plain run, so
// that whatever drifts on the host drifts under both kinds. An injected run sets the test-only knob
// MIGBENCH_TEST_SWITCH_DELAY_MS=criu=D (src/platforms/local/test-switch-delay.ts): each criu move
// waits D ms before the switch-in, D being 25 % (or 10 %) of the median criu downtime of the first
// two plain runs. The other two cells of an injected run are unchanged.
//
// Then `node bench/calibration-report.ts DIR` judges the pairs with the gate (bench/calibration-figures.ts).
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { percentile } from '../src/metrics/percentile.ts';

const ROOT = resolve(import.meta.dirname, '..');
export const CALIBRATION_SCENARIO = join(ROOT, 'bench', 'calibration.yaml');
const HOST_LOCK = '/tmp/migbench-host.lock';

export interface PlannedRun {
  name: string;
  kind: 'plain' | 'inject25' | 'inject10';
}

/** plain, plain, then injected runs alternating with plain ones (25 % first), the rest plain. */
export function calibrationOrder(plain: number, inject25: number, inject10: number): PlannedRun[] {
  const runs: PlannedRun[] = [];
  let p = 0;
  let i25 = 0;
  let i10 = 0;
  const add = (kind: PlannedRun['kind']) => runs.push({ name: `${String(runs.length + 1).padStart(2, '0')}-${kind}`, kind });
  while (p < Math.min(2, plain)) p++, add('plain');
  while (p < plain || i25 < inject25 || i10 < inject10) {
    if (i25 < inject25 && (i25 <= i10 || i10 >= inject10)) i25++, add('inject25');
    else if (i10 < inject10) i10++, add('inject10');
    if (p < plain) p++, add('plain');
  }
  return runs;
}

function finished(dir: string): boolean {
  try {
    return JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).endedAt !== null;
  } catch {
    return false;
  }
}

export function medianDowntime(dir: string, strategy: string): number | undefined {
  const rows = parse(readFileSync(join(dir, 'trials.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
  return percentile(
    rows.filter((r) => r.strategy === strategy && r.status === 'ok' && r.warmup !== 'true' && r.downtime_ms !== '').map((r) => Number(r.downtime_ms)),
    50,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      plain: { type: 'string', default: '11' },
      inject25: { type: 'string', default: '6' },
      inject10: { type: 'string', default: '4' },
    },
  });
  if (!values.out) throw new Error('--out DIR: where the runs go');
  const out = resolve(values.out);
  mkdirSync(out, { recursive: true });
  const order = calibrationOrder(Number(values.plain), Number(values.inject25), Number(values.inject10));
  const manifest = join(out, 'manifest.csv');
  if (!existsSync(manifest)) appendFileSync(manifest, 'run,kind,delay_ms,started_at,ended_at,exit_code\n');
  let baseMedian: number | undefined;
  for (const run of order) {
    const dir = join(out, run.name);
    if (run.kind !== 'plain' && baseMedian === undefined) {
      const medians = order
        .filter((r) => r.kind === 'plain')
        .slice(0, 2)
        .map((r) => medianDowntime(join(out, r.name), 'criu'))
        .filter((m): m is number => m !== undefined);
      baseMedian = percentile(medians, 50);
      if (baseMedian === undefined) throw new Error('no criu downtime in the first plain runs: cannot size the injected delay');
    }
    if (finished(dir)) continue;
    const delay = run.kind === 'plain' ? 0 : Math.round((run.kind === 'inject25' ? 0.25 : 0.1) * baseMedian!);
    const env = { ...process.env };
    delete env.MIGBENCH_TEST_SWITCH_DELAY_MS; // a plain run is a real measurement
    if (delay > 0) env.MIGBENCH_TEST_SWITCH_DELAY_MS = `criu=${delay}`;
    const started = new Date().toISOString();
    process.stderr.write(`calibrate: ${run.name} (delay ${delay} ms) waiting for the host lock ...\n`);
    // Node from node_modules directly (not bin/migbench, whose npm-ci step must not run here).
    const result = spawnSync(
      'flock',
      [HOST_LOCK, join(ROOT, 'node_modules', '.bin', 'node'), join(ROOT, 'src', 'cli.ts'), 'run', CALIBRATION_SCENARIO, '--out', dir, '--quiet'],
      { env, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    appendFileSync(manifest, `${run.name},${run.kind},${delay},${started},${new Date().toISOString()},${result.status}\n`);
    process.stderr.write(`calibrate: ${run.name} exit ${result.status}\n`);
    if (result.status !== 0 && result.status !== 1) throw new Error(`${run.name}: migbench run exited ${result.status}`);
  }
}

if (import.meta.main) await main();
