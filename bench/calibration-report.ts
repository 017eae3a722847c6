// The calibration bench's report: `node bench/calibration-report.ts DIR` over the runs
// bench/calibrate.ts made in DIR; prints Markdown (the figures docs/nightly.md quotes). Reads files
// only; needs no root and takes no lock.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { judge, rateText, resampledAA, resampledAADefaultFamily, resampledDetection, type Gate, type Row } from './calibration-figures.ts';
import { percentile } from '../src/metrics/percentile.ts';

interface Run {
  name: string;
  kind: string;
  delayMs: number;
  rows: Row[];
  seconds: number;
}

function readRuns(dir: string): { runs: Run[]; gate: Gate } {
  const manifest = parse(readFileSync(join(dir, 'manifest.csv'), 'utf8'), { columns: true }) as Row[];
  const runs: Run[] = [];
  let gate: Gate | undefined;
  for (const m of manifest) {
    if (m.exit_code !== '0' && m.exit_code !== '1') continue;
    const info = JSON.parse(readFileSync(join(dir, m.run!, 'run.json'), 'utf8')) as {
      startedAt: string;
      endedAt: string;
      scenario: { compare: { alpha: number; thresholds: Record<string, string> } };
    };
    gate ??= { alpha: info.scenario.compare.alpha, thresholds: info.scenario.compare.thresholds };
    runs.push({
      name: m.run!,
      kind: m.kind!,
      delayMs: Number(m.delay_ms),
      rows: parse(readFileSync(join(dir, m.run!, 'trials.csv'), 'utf8'), { columns: true }) as Row[],
      seconds: (Date.parse(info.endedAt) - Date.parse(info.startedAt)) / 1000,
    });
  }
  if (!gate) throw new Error(`${dir}: no finished run`);
  return { runs, gate };
}

const median = (rows: Row[], strategy: string, column: string) =>
  percentile(
    rows.filter((r) => r.warmup !== 'true' && r.status === 'ok' && r.strategy === strategy && r[column] !== '').map((r) => Number(r[column])),
    50,
  );

function main(): void {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: node bench/calibration-report.ts DIR (the --out of bench/calibrate.ts)');
  const { runs, gate } = readRuns(dir);
  const out: string[] = [];
  const hostSeconds = runs.reduce((a, r) => a + r.seconds, 0);
  out.push(
    `# Calibration (${dir})`,
    '',
    `${runs.length} runs of bench/calibration.yaml, ${(hostSeconds / 60).toFixed(1)} min of host time under the lock. Gate: ${JSON.stringify(gate.thresholds)}, α = ${gate.alpha} family-wise (Holm).`,
    '',
  );
  out.push(
    '| run | kind | injected delay | criu downtime median | drain | redeploy | other CPU median | failed trials |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const r of runs) {
    out.push(
      `| ${r.name} | ${r.kind} | ${r.delayMs} ms | ${median(r.rows, 'criu', 'downtime_ms')} | ${median(r.rows, 'drain', 'downtime_ms')} | ${median(r.rows, 'redeploy', 'downtime_ms')} | ${percentile(
        r.rows.filter((x) => x.warmup !== 'true').map((x) => Number(x.host_other_cpu_pct)),
        50,
      )} % | ${r.rows.filter((x) => x.warmup !== 'true' && x.status !== 'ok').length} |`,
    );
  }

  const plain = runs.filter((r) => r.kind === 'plain');
  out.push(
    '',
    '## Real A/A pairs (consecutive plain runs)',
    '',
    '| pair | Holm gate | BH | uncorrected (old gate) | Holm flagged | drift flag |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  const aa = { holm: 0, bh: 0, uncorrected: 0, unreliable: 0, holmReliable: 0, n: 0 };
  for (let i = 1; i < plain.length; i++) {
    const o = judge(plain[i - 1]!.rows, plain[i]!.rows, gate);
    aa.n++;
    aa.holm += +o.holm;
    aa.bh += +o.bh;
    aa.uncorrected += +o.uncorrected;
    aa.unreliable += +o.unreliable;
    aa.holmReliable += +(o.holm && !o.unreliable);
    out.push(
      `| ${plain[i - 1]!.name} → ${plain[i]!.name} | ${o.holm ? 'FAIL' : 'pass'} | ${o.bh ? 'FAIL' : 'pass'} | ${o.uncorrected ? 'FAIL' : 'pass'} | ${o.flagged.join(', ') || '—'}${o.failedTrials ? ' (+ failed trials)' : ''} | ${o.unreliable ? 'unreliable' : ''} |`,
    );
  }
  out.push(
    '',
    `False alarms in ${aa.n} real A/A pairs: Holm gate ${aa.holm}/${aa.n}, Benjamini–Hochberg ${aa.bh}/${aa.n}, uncorrected every-metric gate (before this change) ${aa.uncorrected}/${aa.n}; ${aa.unreliable}/${aa.n} pairs flagged unreliable by the drift check; Holm failures not flagged unreliable: ${aa.holmReliable}/${aa.n}.`,
  );

  out.push(
    '',
    '## Real injected regressions (each against the plain run before it)',
    '',
    '| run | delay | criu downtime: plain → injected | Holm gate | criu downtime_ms flagged | drift flag |',
    '| --- | ---: | --- | --- | --- | --- |',
  );
  const detected: Record<string, { hit: number; n: number }> = {};
  for (const [i, r] of runs.entries()) {
    if (r.kind === 'plain') continue;
    const before = runs
      .slice(0, i)
      .reverse()
      .find((x) => x.kind === 'plain');
    if (!before) continue;
    const o = judge(before.rows, r.rows, gate);
    const hit = o.flagged.includes('criu downtime_ms');
    const d = (detected[r.kind] ??= { hit: 0, n: 0 });
    d.n++;
    d.hit += +hit;
    out.push(
      `| ${r.name} | ${r.delayMs} ms | ${median(before.rows, 'criu', 'downtime_ms')} → ${median(r.rows, 'criu', 'downtime_ms')} | ${o.holm ? 'FAIL' : 'pass'} | ${hit ? 'yes' : 'no'} (${o.flagged.join(', ') || '—'}) | ${o.unreliable ? 'unreliable' : ''} |`,
    );
  }
  out.push('', ...Object.entries(detected).map(([k, d]) => `Detected (${k}): ${d.hit}/${d.n} real runs.`));

  const pooled = plain.flatMap((r) => r.rows);
  const draws = Number(process.env.CALIBRATION_DRAWS ?? 1000);
  out.push(
    '',
    `## Resampled from the pooled trials (${plain.length} plain runs pooled per cell; ${draws} draws; run-to-run drift removed: the figures for both arms measured in one sitting)`,
    '',
  );
  const downtimeOnly: Gate = { alpha: gate.alpha, thresholds: { downtime_ms: gate.thresholds.downtime_ms ?? '+10%' } };
  for (const [label, g] of [
    ['the gate as declared', gate],
    ['downtime_ms alone gated', downtimeOnly],
  ] as const) {
    const r6 = resampledAA(pooled, g, 6, draws);
    out.push(`- A/A at 6 vs 6, ${label}: Holm ${rateText(r6.holm)}, BH ${rateText(r6.bh)}, uncorrected ${rateText(r6.uncorrected)}`);
  }
  const powerDraws = Math.max(100, Math.round(draws / 4));
  const sizes = [6, 10, 15, 20];
  out.push(
    '',
    `### Detection of a criu downtime regression by repetitions per arm (${powerDraws} draws each)`,
    '',
    "Real: the injected runs' criu trials pooled (the other cells from the plain pool). Synthetic: plain criu trials × (1 + effect).",
    '',
    `| regression | gate | ${sizes.map((n) => `n = ${n}`).join(' | ')} |`,
    `| --- | --- | ${sizes.map(() => '---:').join(' | ')} |`,
  );
  const sources: [string, { injected: Row[] } | { effect: number }][] = [];
  for (const kind of ['inject25', 'inject10']) {
    const injected = runs.filter((r) => r.kind === kind).flatMap((r) => r.rows);
    if (injected.length > 0) sources.push([`real ${kind === 'inject25' ? '+25 %' : '+10 %'} (${runs.find((r) => r.kind === kind)!.delayMs} ms)`, { injected }]);
  }
  for (const effect of [0.1, 0.25, 0.5]) sources.push([`synthetic +${effect * 100} %`, { effect }]);
  for (const [label, shift] of sources) {
    for (const [gateLabel, g] of [
      ['declared', gate],
      ['downtime only', downtimeOnly],
    ] as const) {
      out.push(
        `| ${label} | ${gateLabel} | ${sizes.map((n) => rateText(resampledDetection(pooled, g, 'redis criu', n, powerDraws, shift, 3 + n))).join(' | ')} |`,
      );
    }
  }
  // scenarios/default.yaml gates ~21 tests (3 workloads × 3 strategies × downtime, migration and the
  // non-constant losses): 8 more null cells of 2 tests each bring this family from 6 to 22.
  const extra = Number(process.env.CALIBRATION_EXTRA_CELLS ?? 8);
  out.push(
    '',
    `With the family of the default scenario's nightly (${extra} more null cells drawn from the drain and redeploy pools: ${6 + 2 * extra} gated tests, as \`compare\` counts ~21 for scenarios/default.yaml):`,
    '',
    `| regression | ${sizes.map((n) => `n = ${n}`).join(' | ')} |`,
    `| --- | ${sizes.map(() => '---:').join(' | ')} |`,
  );
  for (const [label, shift] of sources.filter(([l]) => l.startsWith('real'))) {
    out.push(`| ${label} | ${sizes.map((n) => rateText(resampledDetection(pooled, gate, 'redis criu', n, powerDraws, shift, 5 + n, extra))).join(' | ')} |`);
  }
  const aaBig = resampledAADefaultFamily(pooled, gate, extra, draws);
  out.push('', `A/A at 6 vs 6 with that family: Holm ${rateText(aaBig)}.`);
  process.stdout.write(`${out.join('\n')}\n`);
}

if (import.meta.main) main();
