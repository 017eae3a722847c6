// The HTML report of one results directory: data in, one self-contained HTML page out. Every chart
// is rendered to SVG here and inlined; the page loads nothing (no scripts, fonts or styles from
// anywhere), so it opens offline, from a mail attachment or a CI artifact alike.
import type { ResultsData, EventRecord, SampleSegment } from './read-results.ts';
import { formatMedian, isWorkloadSpecific, NO_SUMMARY, summaryMetrics, whereItWent, type SummaryRow } from './summary.ts';
import { sweepFits, sweepTables } from './slope.ts';
import { evacuationCells } from './evacuations.ts';
import { downsampleSegments, segmentColor, segmentKey, timelineSvg } from './charts/timeline.ts';
import { distributionSvg, type DistributionPoint } from './charts/distribution.ts';
import { CRIU_PARTS, criuPhasesSvg, type CriuTrial } from './charts/criu-phases.ts';
import { COLORS } from './charts/render.ts';
import { anatomySvg, ANATOMY_ORDER } from './charts/anatomy.ts';
import { historyChartsSvg, type HistoryChartInput } from './charts/history.ts';

export interface HtmlReportOptions {
  /** Segments per probe and trial before short ones are merged (failures are never merged away). */
  maxSegmentsPerTrial?: number;
  /** Shown in the footer; default now. */
  generatedAt?: Date;
  /** A nightly history (`report --history FILE`): adds the history chart, this run marked. */
  history?: Omit<HistoryChartInput, 'currentRunId'>;
}

/** Escapes text for HTML content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const esc = escapeHtml;
const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
const ms1 = (v: string | undefined) => (num(v) === undefined ? '—' : num(v)!.toFixed(1));

export const DISTRIBUTION_METRICS = ['downtime_ms', 'migration_ms'] as const;

type Trial = Record<string, string>;

const trialLabel = (t: Trial) => `#${t.trial} ${t.workload} · ${t.strategy} · ${t.warmup === 'true' ? 'warm-up' : 'rep'} ${t.repetition}`;

/** A column name that may wrap after each underscore (`downtime_` / `upper_ms`), so a narrow column keeps whole words. */
const columnName = (name: string) => esc(name).replace(/_/g, '_<wbr>');

/**
 * `body` cells are HTML (escape text before); header cells are text (column names wrap at their
 * underscores). No header row when `header` is empty. In a box that scrolls sideways on its own, so
 * a table wider than a narrow window never widens the page.
 */
function table(header: string[], body: string[][], className = '', id = ''): string {
  const head = header.length > 0 ? `<thead><tr>${header.map((h) => `<th>${columnName(h)}</th>`).join('')}</tr></thead>` : '';
  const rows = body.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<div class="table-box"><table${id ? ` id="${id}"` : ''}${className ? ` class="${className}"` : ''}>${head}<tbody>\n${rows}\n</tbody></table></div>`;
}

const figure = (id: string, svg: string, caption?: string) =>
  `<figure class="chart" id="${esc(id)}">${svg}${caption ? `<figcaption>${caption}</figcaption>` : ''}</figure>`;

const WORKLOAD_OWN = 'the workload’s own';

/**
 * The terminal's summary, shaped for a page: numbers only, one short line a row. The columns one
 * workload fills (redis_*, video_*, training_*) share one column, each row naming its own, instead
 * of six mostly empty ones; where the downtime went is the chart below, not a column of prose.
 */
function summaryTable(rows: SummaryRow[]): string {
  const metrics = summaryMetrics(rows);
  const general = metrics.filter((m) => !isWorkloadSpecific(m));
  const own = metrics.filter(isWorkloadSpecific);
  const header = ['workload', 'strategy', 'ok', 'failed', ...general, ...(own.length > 0 ? [WORKLOAD_OWN] : [])];
  const body = rows.map((r) => {
    const owned = own.filter((m) => r.medians[m] !== undefined).map((m) => `<span class="own">${esc(m)} <b>${formatMedian(m, r.medians[m])}</b></span>`);
    return [
      esc(r.workload),
      esc(r.strategy),
      String(r.ok),
      r.failed > 0 ? `<span class="failed">${r.failed}</span>` : '0',
      ...general.map((m) => formatMedian(m, r.medians[m])),
      ...(own.length > 0 ? [owned.length > 0 ? owned.join('') : '—'] : []),
    ];
  });
  return table(header, body, 'numeric summary', 'summary-table');
}

function summarySection(data: ResultsData): string {
  if (data.summary.length === 0) return `<p>${esc(NO_SUMMARY)}</p>`;
  // A run with a sweep also gets the growth per swept value and the fitted slopes, as in the terminal.
  const sweeps = sweepTables(sweepFits(data.trials)).map(
    (t) =>
      `<p class="sub">${esc(t.title)}</p>${table(
        t.header,
        t.body.map((r) => r.map(esc)),
        'numeric',
      )}`,
  );
  // An evacuation run also gets its evacuations (evacuations.csv) and their growth with the pod count.
  const evacuations = evacuationCells(data.evacuations ?? []);
  const evacuationHtml = evacuations
    ? `<p class="sub">Evacuations (evacuations.csv; medians over repetitions)</p>${table(
        evacuations.header,
        evacuations.body.map((r) => r.map(esc)),
        'numeric',
        'evacuations',
      )}` +
      (evacuations.growth.length > 0
        ? `<p class="sub">${esc(evacuations.growthTitle)}</p><ul>${evacuations.growth.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`
        : '')
    : '';
  return summaryTable(data.summary) + sweeps.join('') + evacuationHtml;
}

function trialsSection(trials: Trial[]): string {
  const header = ['trial', 'workload', 'strategy', 'rep', 'warm-up', 'status', 'failed phase', 'error', 'downtime_ms', 'migration_ms', 'failed_samples'];
  const body = trials.map((t) => [
    `<a href="#trial-${esc(t.trial ?? '')}">${esc(t.trial ?? '')}</a>`,
    esc(t.workload ?? ''),
    esc(t.strategy ?? ''),
    esc(t.repetition ?? ''),
    t.warmup === 'true' ? 'yes' : '',
    t.status === 'ok' ? 'ok' : `<span class="failed">${esc(t.status ?? '')}</span>`,
    esc(t.failed_phase ?? ''),
    esc(t.error ?? ''),
    ms1(t.downtime_ms),
    ms1(t.migration_ms),
    esc(t.failed_samples ?? ''),
  ]);
  return `<details><summary>All ${trials.length} trials (execution order)</summary>${table(header, body, 'numeric')}</details>`;
}

async function distributionsSection(trials: Trial[], summary: SummaryRow[]): Promise<string> {
  const measured = trials.filter((t) => t.warmup !== 'true');
  if (measured.length === 0) return '<p>No measured trials (warm-ups are not shown here).</p>';
  const groupOf = (t: Trial) => `${t.workload} · ${t.strategy}`;
  // In the summary's order (the anatomy chart's too), so a row of the table and its box are found alike.
  const groups = [...new Set([...summary.map((r) => `${r.workload} · ${r.strategy}`), ...measured.map(groupOf)])];
  const parts: string[] = [];
  for (const metric of DISTRIBUTION_METRICS) {
    const points: DistributionPoint[] = [];
    const missing: string[] = [];
    for (const t of measured) {
      const value = num(t[metric]);
      if (value === undefined) missing.push(`#${t.trial}${t.status === 'ok' ? '' : ` (${t.status})`}`);
      else points.push({ group: groupOf(t), value, status: t.status === 'ok' ? 'ok' : 'failed', trial: Number(t.trial), repetition: Number(t.repetition) });
    }
    const caption =
      `<b>${esc(metric)}</b> of ${points.length} measured trial(s): box = ok trials (median, quartiles, min–max); ` +
      `<span class="failed">✚</span> = failed trial, not in the box.` +
      (missing.length > 0 ? ` Without a value (not measured): ${esc(missing.join(', '))}.` : '');
    parts.push(points.length > 0 ? figure(`dist-${metric}`, await distributionSvg(metric, points, groups), caption) : `<p>${caption}</p>`);
  }
  return parts.join('\n');
}

async function criuSection(trials: Trial[]): Promise<string> {
  const columns = ['criu_freezing_ms', 'criu_frozen_ms', 'criu_memdump_ms', 'criu_memwrite_ms', 'criu_restore_ms'];
  const criu = trials.filter((t) => columns.some((c) => num(t[c]) !== undefined));
  if (criu.length === 0) return '<p>No trial has CRIU statistics (no criu trials, or none got as far as a checkpoint).</p>';
  const bars: CriuTrial[] = criu.map((t) => ({
    label: `${trialLabel(t)}${t.status === 'ok' ? '' : ` (${t.status})`}`,
    freezingMs: num(t.criu_freezing_ms),
    frozenMs: num(t.criu_frozen_ms),
    memdumpMs: num(t.criu_memdump_ms),
    memwriteMs: num(t.criu_memwrite_ms),
    restoreMs: num(t.criu_restore_ms),
  }));
  const caption =
    'CRIU’s timers nest — writing pages (memwrite) is part of collecting them (memdump), which is part of the frozen time — ' +
    'so the bar splits them into disjoint parts: its length is criu_freezing_ms + criu_frozen_ms + criu_restore_ms. ' +
    `Stacked in this order: ${CRIU_PARTS.map((p) => `${esc(p.name)} (${esc(p.columns)})`).join(' → ')}.`;
  const body = criu.map((t) => [
    `<a href="#trial-${esc(t.trial ?? '')}">${esc(trialLabel(t))}</a>`,
    ...columns.map((c) => ms1(t[c])),
    esc(t.criu_pages_written ?? ''),
    num(t.checkpoint_bytes) === undefined ? '' : `${(num(t.checkpoint_bytes)! / 1e6).toFixed(1)} MB`,
  ]);
  return (
    figure('criu-phases', await criuPhasesSvg(bars), caption) +
    `<details><summary>CRIU statistics as recorded</summary>${table(['trial', ...columns, 'criu_pages_written', 'checkpoint'], body, 'numeric')}</details>`
  );
}

async function anatomySection(data: ResultsData): Promise<string> {
  const bars = data.summary.filter((r) => Object.keys(r.anatomyMs).length > 0).map((r) => ({ label: `${r.workload} · ${r.strategy}`, medianMs: r.anatomyMs }));
  if (bars.length === 0) return '<p>No trial has anat_* columns (a run from before they existed, or no ok measured trial).</p>';
  const caption =
    'Each trial’s outage (the one downtime_ms measures) split into consecutive parts from the recorded events and CRIU’s timers; ' +
    'the parts of one trial add up to its downtime_ms (docs/methodology.md, “Where the downtime goes”). One bar per workload × strategy: the median of each ' +
    'anat_* column over the ok, measured trials, so a bar’s length is the sum of those medians, not the median downtime. ' +
    `Stacked in this order: ${ANATOMY_ORDER.map((p) => esc(p)).join(' → ')}. The harness’s own share: pod_setup + ready + switch + harness.`;
  // The chart's numbers, one line per bar, as the terminal's summary prints them.
  const numbers = data.summary
    .filter((r) => Object.keys(r.anatomyMs).length > 0)
    .map((r) => [esc(`${r.workload} · ${r.strategy}`), esc(whereItWent(r.anatomyMs))]);
  return (
    figure('anatomy', await anatomySvg(bars), caption) +
    `<details><summary>The same in numbers</summary>${table(['workload · strategy', 'where it went (median ms, largest first)'], numbers)}</details>`
  );
}

function eventsTable(events: EventRecord[]): string {
  return table(
    ['t_ms', 'source', 'event', 'detail'],
    events.map((e) => [e.tMs.toFixed(3), esc(e.source), esc(e.event), esc(e.detail)]),
    'numeric events',
  );
}

const LEGEND_ORDER = ['ok', 'timeout', 'refused', 'reset', 'disconnected', 'unreachable', 'wrong_reply', 'server_error', 'other', 'failed', 'partly failed'];

function legend(drawn: Set<string>): string {
  const swatch = (key: string, text: string) => `<span class="swatch" style="background:${segmentColor(key)}"></span>${esc(text)}`;
  const keys = LEGEND_ORDER.filter((k) => drawn.has(k));
  const text = (k: string) =>
    k === 'ok'
      ? 'ok'
      : k === 'failed'
        ? 'failed (several reasons)'
        : k === 'partly failed'
          ? 'partly failed (short segments merged to keep the page small; a failed sample is never merged away)'
          : `failed: ${k}`;
  return (
    `<p class="legend">${keys.map((k) => swatch(k, text(k))).join(' ')} ` +
    `<span class="swatch" style="background:${COLORS.phase};opacity:.25"></span>trigger → migrated ` +
    `· dashed rules: events (<span style="color:${COLORS.trigger}">trigger</span>, <span style="color:${COLORS.phase}">phase:*</span>, <span style="color:${COLORS.event}">others</span>)</p>`
  );
}

async function timelinesSection(data: ResultsData, maxSegments: number | undefined): Promise<string> {
  const segmentsByTrial = new Map<number, SampleSegment[]>();
  for (const s of data.segments) {
    const list = segmentsByTrial.get(s.trial);
    if (list) list.push(s);
    else segmentsByTrial.set(s.trial, [s]);
  }
  const eventsByTrial = new Map<number, EventRecord[]>();
  for (const e of data.events) {
    const list = eventsByTrial.get(e.trial);
    if (list) list.push(e);
    else eventsByTrial.set(e.trial, [e]);
  }
  const trialNumbers = [...new Set([...data.trials.map((t) => Number(t.trial)), ...segmentsByTrial.keys()])].sort((a, b) => a - b);
  const parts: string[] = [];
  const drawn = new Set<string>();
  for (const n of trialNumbers) {
    const t = data.trials.find((r) => Number(r.trial) === n);
    const events = (eventsByTrial.get(n) ?? []).sort((a, b) => a.tMs - b.tMs);
    const display = downsampleSegments(segmentsByTrial.get(n) ?? [], maxSegments);
    for (const d of display) drawn.add(segmentKey(d));
    const svg = await timelineSvg({ segments: display, events });
    const title = t ? trialLabel(t) : `#${n} (no trials.csv row)`;
    const status =
      t?.status === 'ok' ? 'ok' : `<span class="failed">${esc(t?.status ?? 'unknown')}${t?.failed_phase ? ` in ${esc(t.failed_phase)}` : ''}</span>`;
    const facts = t
      ? ` · downtime ${ms1(t.downtime_ms)} ms · migration ${ms1(t.migration_ms)} ms · ${esc(t.failed_samples ?? '')} failed samples after the trigger (of ${esc(t.samples ?? '')})`
      : '';
    const samples = segmentsByTrial.get(n) ?? [];
    const start = samples.reduce<number | undefined>((min, s) => (min === undefined || s.startMs < min ? s.startMs : min), undefined);
    const hidden = start === undefined ? [] : events.filter((e) => e.tMs < start);
    const note =
      hidden.length > 0 ? `${hidden.length} event(s) before the first probe sample (${esc(hidden.map((e) => e.event).join(', '))}) are in the table only.` : '';
    parts.push(
      `<section class="trial" id="trial-${n}"><h3>${esc(title)} · ${status}${facts}</h3>` +
        (t?.error ? `<p class="error">error: ${esc(t.error)}</p>` : '') +
        (svg ? figure(`timeline-${n}`, svg) : '<p>No samples or events recorded for this trial.</p>') +
        (events.length > 0 ? `<details><summary>${events.length} events${note ? ` — ${note}` : ''}</summary>${eventsTable(events)}</details>` : ''),
    );
    parts.push('</section>');
  }
  return legend(drawn) + parts.join('\n');
}

function environmentSection(data: ResultsData): string {
  const run = data.run;
  if (!run) return '<p>No run.json: the environment of this run is unknown.</p>';
  const rows: [string, string][] = [];
  const add = (k: string, v: unknown) => {
    if (v !== undefined && v !== null && v !== '') rows.push([k, String(v)]);
  };
  add('run id', run.runId);
  add('scenario', [run.scenario?.name, (run.scenario as { description?: string } | undefined)?.description].filter(Boolean).join(' — '));
  add('scenario file', run.scenarioFile);
  add('started', run.startedAt);
  add('ended', run.endedAt ?? 'not recorded (the run crashed or is still going on)');
  if (run.startedAt && run.endedAt) add('duration', `${((Date.parse(run.endedAt) - Date.parse(run.startedAt)) / 1000).toFixed(1)} s`);
  add('trials', run.trials ? `${run.trials.planned} planned, ${run.trials.ok} ok, ${run.trials.failed} failed` : undefined);
  add('git commit', run.gitCommit ?? 'not in a git checkout');
  add('command', run.argv ? `migbench ${run.argv.join(' ')}` : undefined);
  for (const [k, v] of Object.entries(run.versions ?? {})) add(`version: ${k}`, v);
  const h = run.host;
  if (h) {
    add('host', h.hostname);
    add('os', h.os);
    if (run.versions?.kernel !== h.kernel) add('kernel', h.kernel);
    add('cpu', `${h.cpus} × ${h.cpuModel}`);
    add('memory', h.memoryBytes ? `${(h.memoryBytes / 2 ** 30).toFixed(1)} GiB` : undefined);
  }
  const p = run.platform;
  if (p) {
    add('platform', p.name);
    add(
      'nodes (cpus)',
      Object.entries(p.nodes ?? {})
        .map(([n, c]) => `${n}: ${c}`)
        .join(', '),
    );
    add('pod subnet', p.subnet);
    add('checkpoint store', p.checkpointDir);
  }
  const env = table(
    [],
    rows.map(([k, v]) => [esc(k), esc(v)]),
    'env',
  );
  const scenario = run.scenarioSource
    ? `<details><summary>scenario file as read</summary><pre>${esc(run.scenarioSource)}</pre></details>`
    : `<details><summary>scenario as run</summary><pre>${esc(JSON.stringify(run.scenario, null, 2))}</pre></details>`;
  return env + scenario;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:0 auto;padding:16px 24px 48px;max-width:1180px}
h1{font-size:22px;margin:8px 0 2px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:14px;font-weight:600;margin:18px 0 4px}nav a{margin-right:14px}.sub{color:#555;margin:0 0 8px}
.table-box{overflow-x:auto;margin:6px 0}table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f5;font-weight:600}table.numeric td{font-variant-numeric:tabular-nums}table.env td:first-child{color:#555;white-space:nowrap}
table.events{font-size:12px}table.summary td{text-align:right}table.summary td:nth-child(-n+2){white-space:nowrap;text-align:left}.own{display:block;white-space:nowrap;text-align:left}figure{margin:6px 0 10px}figure svg{max-width:100%;height:auto}figcaption{color:#555;font-size:12.5px;max-width:900px}
.failed{color:${COLORS.failed};font-weight:600}.error{color:${COLORS.failed};margin:2px 0;white-space:pre-wrap}
.problems{background:#fff4e5;border:1px solid #f0c36d;padding:6px 12px}.legend{font-size:12.5px;color:#444}
.swatch{display:inline-block;width:12px;height:12px;margin:0 4px 0 10px;vertical-align:-2px}details{margin:4px 0}summary{cursor:pointer;color:#345}
pre{background:#f7f7f7;padding:8px;overflow:auto;font-size:12px}footer{margin-top:32px;color:#777;font-size:12px}
`;

export async function renderHtmlReport(data: ResultsData, options: HtmlReportOptions = {}): Promise<string> {
  const runId = data.run?.runId ?? data.trials[0]?.run_id ?? data.dir;
  const generatedAt = (options.generatedAt ?? new Date()).toISOString();
  const problems = data.problems.length > 0 ? `<ul class="problems">${data.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>` : '';
  const description = (data.run?.scenario as { description?: string } | undefined)?.description;
  const sections = [
    `<h2 id="summary">Summary</h2><p class="sub">Every number is a median of the ok, measured trials of its workload × strategy (warm-ups left out; failed trials counted, not in the medians).</p>${summarySection(data)}${trialsSection(data.trials)}`,
    `<h2 id="anatomy">Where the downtime goes</h2>${await anatomySection(data)}`,
    `<h2 id="distributions">Downtime and migration time</h2>${await distributionsSection(data.trials, data.summary)}`,
    `<h2 id="criu">CRIU phases</h2>${await criuSection(data.trials)}`,
    `<h2 id="timelines">Availability timelines</h2><p class="sub">Every probe sample of every trial (warm-ups included) over t_ms, relative to the trigger; consecutive samples with the same outcome form one segment.</p>${await timelinesSection(data, options.maxSegmentsPerTrial)}`,
    `<h2 id="environment">Environment</h2>${environmentSection(data)}`,
  ];
  if (options.history) {
    const charts = await historyChartsSvg({ ...options.history, currentRunId: runId });
    const body =
      charts.length > 0
        ? charts.map((c) => figure(`history-${c.metric}`, c.svg)).join('')
        : `<p>The history has no runs of scenario ${esc(options.history.scenario)}.</p>`;
    sections.push(
      `<h2 id="history">History</h2><p class="sub">Each nightly run's median per workload × strategy; the dashed rule and the ring mark this run.</p>${body}`,
    );
  }
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>migbench report: ${esc(runId)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>migbench report: ${esc(runId)}</h1>
<p class="sub">${description ? `${esc(description)} · ` : ''}${data.trials.length} trials, ${data.sampleCount} probe samples · ${esc(data.dir)}</p>
<nav><a href="#summary">Summary</a><a href="#anatomy">Downtime anatomy</a><a href="#distributions">Distributions</a><a href="#criu">CRIU phases</a><a href="#timelines">Timelines</a><a href="#environment">Environment</a></nav>
${problems}
</header>
<main>
${sections.join('\n')}
</main>
<footer>Generated by migbench report at ${esc(generatedAt)} from trials.csv, samples.csv, events.csv and run.json. Charts: Vega-Lite, rendered to SVG when the report was made.</footer>
</body>
</html>
`;
}
