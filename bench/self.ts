// `npm run bench:self`: benchmarks of the harness itself, in one place.
//   1. tinybench: the open-loop scheduler's work per probe tick, metrics per 100k samples, CSV writing;
//   2. one Redis probe tick's CPU cost, against a loopback redis-server (bench/probe-tick.ts);
//   3. a real run on the local platform (root, ~1 min; bench/self-run.yaml): the probe's send jitter
//      and the harness's overhead in a CRIU migration.
// Flags: --results DIR (take 3. from an existing run of any scenario instead of running one),
// --no-run (skip 3.), --time MS (tinybench time per task, default 1000).
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { percentile } from '../src/metrics/percentile.ts';
import { textTable } from '../src/report/text-table.ts';
import { makeRunId } from '../src/runner/run-id.ts';
import { runMicroBenchmarks, SAMPLES } from './micro.ts';
import { measureProbeTick } from './probe-tick.ts';
import { realRunFigures, runSelfScenario, SELF_RUN_SCENARIO } from './real-run.ts';

const { values: flags } = parseArgs({
  options: { results: { type: 'string' }, 'no-run': { type: 'boolean', default: false }, time: { type: 'string', default: '1000' } },
});
const ms = (v: number) => `${v.toFixed(3)} ms`;
const out = (line = '') => process.stdout.write(`${line}\n`);

out(`migbench bench:self — the harness's own cost (Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} CPUs)`);
out();
const micro = await runMicroBenchmarks(Number(flags.time));
out('tinybench, per task (latency in ms):');
console.table(micro.table);
const tick = await measureProbeTick();
const mb = micro.samplesCsvBytesPer100k / 1e6;
out(
  textTable(
    ['harness cost', 'value', 'how'],
    [
      [
        'probe tick: scheduling',
        `${micro.tickDispatchUs.toFixed(3)} µs/tick`,
        'OpenLoopTicker firing a due tick (no-op handler) and arming the next timer (tinybench)',
      ],
      [
        'probe tick: redis, CPU',
        `${tick.cpuPerTickUs.toFixed(1)} µs/tick`,
        `RedisProbe every ${tick.intervalMs} ms for ${tick.ticks} ticks (${tick.failed} failed) on loopback; event loop ${(tick.eventLoopUtilization * 100).toFixed(1)} % busy`,
      ],
      ['probe tick: redis, round trip', `p50 ${ms(tick.roundTripP50Ms)}, p99 ${ms(tick.roundTripP99Ms)}`, 'HSET + HGET, sent → reply'],
      [`metrics, per ${SAMPLES / 1000}k samples`, ms(micro.metricsPer100kMs), 'computeTrialMetrics (tinybench)'],
      [
        `samples.csv, per ${SAMPLES / 1000}k rows`,
        ms(micro.samplesCsvFormatPer100kMs),
        `formatting; ${(((SAMPLES / micro.samplesCsvFormatPer100kMs) * 1000) / 1e6).toFixed(2)} M rows/s`,
      ],
      [
        `results files, per ${SAMPLES / 1000}k samples`,
        ms(micro.appendTrialPer100kMs),
        `ResultsDir.appendTrial, fsynced: ${(mb / (micro.appendTrialPer100kMs / 1000)).toFixed(1)} MB/s of samples.csv (${mb.toFixed(2)} MB)`,
      ],
    ],
    1,
  ),
);
out();

let dir = flags.results === undefined ? undefined : resolve(flags.results);
if (dir === undefined && !flags['no-run']) {
  if (process.getuid?.() !== 0) {
    out('real run: skipped — it needs root (the local platform runs runc and CRIU): sudo npm run bench:self, or --results <dir> of an earlier run');
  } else {
    dir = resolve('results', makeRunId(new Date(), 'bench-self'));
    out(`real run: migbench run ${SELF_RUN_SCENARIO} → ${dir}`);
    if ((await runSelfScenario(dir)) !== 0) out('real run: some trials failed (see their rows in trials.csv); the figures below use the ok ones');
  }
}
if (dir !== undefined) {
  const figures = realRunFigures(dir);
  out(`real run ${figures.dir} (ok measured trials):`);
  const j = figures.jitter;
  out(
    j
      ? `probe send jitter (sent − scheduled, ${j.samples} samples): p50 ${ms(j.p50Ms)}  p99 ${ms(j.p99Ms)}  max ${ms(j.maxMs)}`
      : 'probe send jitter: no samples',
  );
  if (figures.overhead.length === 0) {
    out('harness overhead in a CRIU migration: no ok criu trial in this run');
  } else {
    out('harness overhead in a CRIU migration = downtime_ms − (criu_frozen_ms + criu_restore_ms):');
    const median = (values: (number | undefined)[]) => {
      const v = percentile(
        values.filter((x): x is number => x !== undefined),
        50,
      );
      return v === undefined ? '—' : v.toFixed(3);
    };
    const cell = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(3));
    const steps = figures.overhead.map((o) => figures.steps.get(o.trial) ?? {});
    out(
      textTable(
        ['trial', 'downtime_ms', 'criu_frozen_ms', 'criu_restore_ms', 'overhead_ms', '│ runc checkpoint_ms', 'between_ms', 'runc restore_ms', 'to service_ms'],
        [
          ...figures.overhead.map((o, i) => [
            o.trial,
            o.downtimeMs.toFixed(3),
            o.frozenMs.toFixed(3),
            o.restoreMs.toFixed(3),
            o.overheadMs.toFixed(3),
            cell(steps[i]!.checkpointMs),
            cell(steps[i]!.betweenMs),
            cell(steps[i]!.restoreMs),
            cell(steps[i]!.switchMs),
          ]),
          [
            'median',
            median(figures.overhead.map((o) => o.downtimeMs)),
            median(figures.overhead.map((o) => o.frozenMs)),
            median(figures.overhead.map((o) => o.restoreMs)),
            median(figures.overhead.map((o) => o.overheadMs)),
            median(steps.map((x) => x.checkpointMs)),
            median(steps.map((x) => x.betweenMs)),
            median(steps.map((x) => x.restoreMs)),
            median(steps.map((x) => x.switchMs)),
          ],
        ],
      ),
    );
    out('(right of │: the platform steps in events.csv — runc checkpoint start → done, → restore start, runc restore start → done, → service switched)');
  }
  if (figures.anatomy.length > 0) {
    out();
    out('where the downtime went (medians of the anat_* columns over ok, measured trials; docs/methodology.md "Where the downtime goes"):');
    out(
      textTable(
        ['workload', 'strategy', 'downtime_ms', 'harness_ms', 'harness share', 'where it went (median ms)'],
        figures.anatomy.map((a) => [
          a.workload,
          a.strategy,
          a.downtimeMs === undefined ? '—' : a.downtimeMs.toFixed(3),
          a.harnessMs.toFixed(3),
          // Text, left-aligned: padded here to the widest, as textTable right-aligns all but the first columns.
          a.downtimeMs ? `${((a.harnessMs / a.downtimeMs) * 100).toFixed(1)} %` : '—',
          a.whereItWent.padEnd(Math.max(...figures.anatomy.map((x) => x.whereItWent.length))),
        ]),
        2,
      ),
    );
    out("(harness_ms = pod_setup + ready + switch + harness: the harness's own work between the runtime's and CRIU's steps; goal ≤ 20 ms)");
  }
}
