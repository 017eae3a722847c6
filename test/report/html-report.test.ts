// The HTML report: a chart (inline SVG) in every section, nothing loaded from anywhere, text from the
// results escaped, and no failed probe sample lost to the timeline's downsampling.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readResults, SegmentBuilder, type ResultsData, type SampleSegment } from '../../src/report/read-results.ts';
import { escapeHtml, renderHtmlReport } from '../../src/report/html-report.ts';
import { downsampleSegments } from '../../src/report/charts/timeline.ts';
import { criuParts } from '../../src/report/charts/criu-phases.ts';
import { summarizeTrials } from '../../src/report/summary.ts';
import { reportCommand } from '../../src/commands/report.ts';
import { CommandFailure, EXIT_USAGE } from '../../src/commands/exit-codes.ts';
import { criuEvents, HOSTILE, reportFixtureTrials, samples, trial, TRIGGER, writeResultsDir } from './fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'migbench-report-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The markup of one <figure class="chart" id="…">. */
function figure(html: string, id: string): string | undefined {
  return new RegExp(`<figure class="chart" id="${id}">([\\s\\S]*?)</figure>`).exec(html)?.[1];
}

describe('the report of a results directory', () => {
  const dir = join(root, 'run');
  let data: ResultsData;
  let html: string;

  beforeAll(async () => {
    writeResultsDir(dir, reportFixtureTrials());
    data = await readResults(dir);
    html = await renderHtmlReport(data, { generatedAt: new Date(0) });
  });

  it('reads trials.csv as the summary does, and every sample into segments', () => {
    expect(data.summary).toEqual(summarizeTrials(readFileSync(join(dir, 'trials.csv'), 'utf8')));
    expect(data.sampleCount).toBe(readFileSync(join(dir, 'samples.csv'), 'utf8').trim().split('\n').length - 1);
    expect(data.segments.reduce((n, s) => n + s.count, 0)).toBe(data.sampleCount);
    expect(data.run?.runId).toBe('test-run');
    expect(data.problems).toEqual([]);
  });

  it('has an SVG chart in every chart section: distributions, downtime anatomy, CRIU phases and a timeline per trial', () => {
    const ids = ['dist-downtime_ms', 'dist-migration_ms', 'anatomy', 'criu-phases', ...[1, 2, 3, 4, 5].map((n) => `timeline-${n}`)];
    for (const id of ids) {
      const svg = figure(html, id);
      expect(svg, id).toBeDefined();
      expect(svg!.trimStart().startsWith('<svg'), id).toBe(true);
      expect(svg!, id).toMatch(/class="mark-(rect|symbol|rule|text)[^"]*role-mark/);
    }
    const sections = html.split(/<h2 id="/).slice(1);
    expect(sections.map((s) => s.slice(0, s.indexOf('"')))).toEqual(['summary', 'anatomy', 'distributions', 'criu', 'timelines', 'environment']);
    for (const s of sections.filter((s) => /^(distributions|anatomy|criu|timelines)"/.test(s))) expect(s).toContain('<svg');
  });

  it('shows the summary table, the environment and the CRIU breakdown of criu trials only', () => {
    // Medians (the line above the table says so), one number a cell; a column name wraps only at its underscores.
    expect(html).toMatch(
      /<table id="summary-table" class="numeric summary"><thead><tr><th>workload<\/th><th>strategy<\/th><th>ok<\/th><th>failed<\/th><th>downtime_<wbr>ms<\/th>/,
    );
    expect(html).toContain('<td>redis</td><td>criu</td><td>2</td><td>0</td>');
    // No trial measured a workload's own figure (redis_*, video_*, training_*): no column for them.
    expect(html).not.toContain('the workload’s own');
    expect(html).toContain('0123456789abcdef0123456789abcdef01234567');
    expect(html).toContain('<td>version: criu</td><td>4.2.1</td>');
    const criu = figure(html, 'criu-phases')!;
    expect(criu).toContain('#1 redis · criu · warm-up 1');
    expect(criu).toContain('#4 redis · criu · rep 2');
    expect(criu).not.toContain('redeploy');
  });

  it('draws one anatomy bar per workload × strategy from the medians of the anat_* columns', () => {
    const anatomy = figure(html, 'anatomy')!;
    // The redeploy trial's outage (20–180 ms): its strategy's step at 50 and the trial's `migrated`
    // at 160 end harness steps (30 + 110 ms); 160–180 no event explains.
    expect(anatomy).toContain('redis · redeploy: harness 140.0 ms (median)');
    expect(anatomy).toContain('redis · redeploy: unattributed 20.0 ms (median)');
    // The two ok criu trials: one outage of 330 ms split by CRIU's stats, one of a single tick after
    // the switch (client only); the nearest-rank median of two is the lower value: 0 in every part.
    expect(anatomy).not.toContain('redis · criu:');
  });

  it('leaves warm-ups out of the distributions and marks failed trials', () => {
    const downtime = figure(html, 'dist-downtime_ms')!;
    expect(downtime).not.toMatch(/trial 1 \(/);
    expect(downtime).toMatch(/trial 2 \(rep 1\), ok: downtime_ms/);
    // The failed trial never recovered: no downtime_ms, so it is listed instead of plotted.
    expect(html).toMatch(/Without a value \(not measured\): #5 \(failed\)/);
    expect(figure(html, 'dist-migration_ms')).toMatch(/trial 3 \(rep 1\), ok: migration_ms 160\.0/);
  });

  it('is self-contained: no script at all, no style, font or image from anywhere, no URL at all', () => {
    expect(html).not.toMatch(/\b(src|href|xlink:href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<link\b|@import|url\(/i);
    expect(html).not.toMatch(/<script\b/i);
  });

  it('escapes text from the results: an error or event name with HTML stays text', () => {
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<b>bold</b>');
    expect(html).not.toContain('<script>x()');
    expect(html).toContain(escapeHtml(HOSTILE));
    // In the timeline (Vega's SVG) the event name is text too.
    expect(figure(html, 'timeline-5')).toContain('&lt;b&gt;bold&lt;/b&gt;&lt;script&gt;x()&lt;/script&gt;');
  });

  it('keeps a single failed sample among 50,000 ok ones as a failed segment of its own', () => {
    const segments = data.segments.filter((s) => s.trial === 4);
    expect(segments.map((s) => [s.ok, s.count])).toEqual([
      [true, 40_000],
      [false, 1],
      [true, 9_999],
    ]);
    expect(segments[1]).toMatchObject({ error: 'timeout', startMs: 198_000, endMs: 198_005 });
    const timeline = figure(html, 'timeline-4')!;
    const at = timeline.indexOf('aria-label="redis failed (timeout): 1 samples, 1 failed, t_ms 198000.0 to 198005.0"');
    expect(at).toBeGreaterThan(0);
    // 5 ms of 250 s is 0.02 px wide: it is drawn as a 2 px rule, not as a rect nobody would see.
    const markGroup = timeline
      .slice(0, at)
      .match(/<g class="mark-(\w+) role-mark/g)
      ?.at(-1);
    expect(markGroup).toBe('<g class="mark-rule role-mark');
  });

  it('stays small', () => {
    expect(Buffer.byteLength(html)).toBeLessThan(1_000_000);
  });
});

describe('downsampleSegments', () => {
  /** A probe that flaps every sample for 100 s, then one isolated failed sample in 100 s of ok ones. */
  function flapping(): SampleSegment[] {
    const b = new SegmentBuilder();
    for (let i = 0; i < 20_000; i++) b.add(1, 'redis', i * 5, i % 2 === 0, i % 2 === 0 ? '' : 'timeout');
    for (let i = 20_000; i < 40_000; i++) b.add(1, 'redis', i * 5, i !== 30_000, i === 30_000 ? 'reset' : '');
    return b.finish(() => 5);
  }

  it('keeps every segment when there are few', () => {
    const segs = new SegmentBuilder();
    for (const [t, ok] of [
      [0, true],
      [5, false],
      [10, true],
    ] as const)
      segs.add(1, 'redis', t, ok, ok ? '' : 'timeout');
    expect(downsampleSegments(segs.finish(() => 5)).map((d) => [d.state, d.startMs, d.endMs])).toEqual([
      ['ok', 0, 5],
      ['failed', 5, 10],
      ['ok', 10, 15],
    ]);
  });

  it('merges many short segments without losing a failed sample', () => {
    const input = flapping();
    expect(input.length).toBeGreaterThan(20_000);
    const out = downsampleSegments(input, 500);
    expect(out.length).toBeLessThanOrEqual(1000);
    // Every failed sample is counted in a segment drawn as failed or partly failed.
    const failedIn = input.filter((s) => !s.ok).reduce((n, s) => n + s.count, 0);
    expect(out.reduce((n, d) => n + d.failed, 0)).toBe(failedIn);
    expect(out.filter((d) => d.failed > 0).every((d) => d.state !== 'ok')).toBe(true);
    expect(out.reduce((n, d) => n + d.samples, 0)).toBe(40_000);
    // The flapping stretch is partly failed; the lone reset at t = 150 s still shows, with its error.
    expect(out[0]).toMatchObject({ state: 'partly failed', errors: 'timeout' });
    const lone = out.find((d) => d.startMs <= 150_000 && d.endMs > 150_000)!;
    expect(lone.state).not.toBe('ok');
    expect(lone.errors).toBe('reset');
    // Time is covered without gaps.
    for (let i = 1; i < out.length; i++) expect(out[i]!.startMs).toBe(out[i - 1]!.endMs);
  });

  it('keeps a 12-trial run under 5 MB of HTML even when no segment can be merged', async () => {
    // The worst case for the merging: one failed sample after every 400 ms (= 1/500 of the trial) of ok ones.
    const b = new SegmentBuilder();
    for (let i = 0; i < 40_000; i++) b.add(1, 'redis', i * 5, i % 81 !== 0, i % 81 !== 0 ? '' : 'timeout');
    const worst = b.finish(() => 5);
    expect(downsampleSegments(worst).length).toBeGreaterThan(900);
    const data: ResultsData = {
      dir: '/nowhere',
      trials: [],
      summary: [],
      segments: Array.from({ length: 12 }, (_, k) => worst.map((s) => ({ ...s, trial: k + 1 }))).flat(),
      events: [],
      sampleCount: 12 * 40_000,
      problems: [],
    };
    const html = await renderHtmlReport(data);
    expect(Buffer.byteLength(html)).toBeLessThan(5_000_000);
    expect(html.match(/<figure class="chart" id="timeline-/g)).toHaveLength(12);
  });
});

describe('criuParts', () => {
  it('splits CRIU’s nested timers into disjoint parts adding up to freezing + frozen + restore', () => {
    const parts = criuParts({ label: 'x', freezingMs: 100, frozenMs: 624, memdumpMs: 543, memwriteMs: 512, restoreMs: 220 });
    expect(parts).toEqual([100, 31, 512, 81, 220]);
    expect(parts.reduce((a, b) => a + b)).toBe(100 + 624 + 220);
  });
});

describe('migbench report', () => {
  it('writes <dir>/report.html, or the --out file', async () => {
    const dir = join(root, 'cmd');
    writeResultsDir(dir, [trial({ trial: 1 })], null);
    expect(await reportCommand({ dir, quiet: true })).toBe(0);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toMatch(/^<!DOCTYPE html>/);
    // No run.json: the report says so instead of failing.
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('run.json is missing');
    const out = join(root, 'elsewhere.html');
    expect(await reportCommand({ dir, out, quiet: true })).toBe(0);
    expect(statSync(out).size).toBeGreaterThan(10_000);
  });

  it('fails with exit code 2 naming the path when the directory or its trials.csv is missing', async () => {
    const missing = join(root, 'no-such-dir');
    await expect(reportCommand({ dir: missing })).rejects.toThrow(CommandFailure);
    await expect(reportCommand({ dir: missing })).rejects.toMatchObject({ exitCode: EXIT_USAGE, message: expect.stringContaining(missing) });
    const empty = join(root, 'empty');
    mkdirSync(empty);
    await expect(reportCommand({ dir: empty })).rejects.toMatchObject({
      exitCode: EXIT_USAGE,
      message: expect.stringMatching(new RegExp(`${join(empty, 'trials.csv')} is missing; give a results directory written by \`migbench run\``)),
    });
    expect(existsSync(join(empty, 'report.html'))).toBe(false);
  });
});

it('samples() of the fixture is evenly spaced (sanity of the fixture itself)', () => {
  const s = samples(0, 20);
  expect(s.map((x) => x.scheduledAt - s[0]!.scheduledAt)).toEqual([0, 5, 10, 15]);
});

describe('the report of a run with a sweep', () => {
  it('shows the medians per swept value and the fitted slope, as the terminal does', async () => {
    const dir = join(root, 'sweep');
    // Downtime 100 ms + 1 ms per MiB: at 64 and 128 MiB, two trials each.
    const trials = [64, 64, 128, 128].map((mib, i) =>
      trial({
        trial: i + 1,
        workload: `redis-${mib}`,
        repetition: (i % 2) + 1,
        sweep: { parameter: 'datasetMiB', value: mib },
        timeline: { triggerAt: TRIGGER, samples: samples(-2000, 3000, (t) => (t >= 0 && t < 100 + mib ? 'timeout' : '')), events: criuEvents() },
      }),
    );
    writeResultsDir(dir, trials);
    const html = await renderHtmlReport(await readResults(dir), { generatedAt: new Date(0) });
    expect(html).toContain('sweep of redis (sweep_dataset_mib)');
    const sweepTable = /sweep of redis[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
    expect(sweepTable).toContain('<th>sweep_<wbr>dataset_<wbr>mib=64</th>');
    expect(sweepTable).toMatch(/<td>criu<\/td><td>165\.0<\/td><td>230\.0<\/td><td>1\.0<\/td>/);
  });
});
