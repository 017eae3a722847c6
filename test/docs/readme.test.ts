// The README and docs/scenarios.md show what users copy and compare against: the samples they show
// must be what the code produces and accepts today — trials.csv's header exactly, the progress lines
// in the format the terminal prints, and the scenarios loading as written. (Every column's meaning
// is in docs/results.md, generated from the code: test/docs/reference-docs.test.ts.)
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.ts';
import { csvHeader } from '../../src/results/csv-writer.ts';
import { trialsColumns, trialsCsv } from '../../src/results/trials-csv.ts';
import { trialLine } from '../../src/ui/progress.ts';
import type { TrialResult } from '../../src/model/trial-result.ts';

const root = resolve(import.meta.dirname, '..', '..');
const readme = readFileSync(resolve(root, 'README.md'), 'utf8');
const scenariosPage = readFileSync(resolve(root, 'docs', 'scenarios.md'), 'utf8');

/** The fenced blocks of `lang` in the text after `heading` (up to the next `## ` heading). */
function blocks(page: string, heading: string, lang: string): string[] {
  const text = `\n${page}`;
  const start = text.indexOf(`\n${heading}\n`);
  expect(start, `section "${heading}"`).toBeGreaterThanOrEqual(0);
  const next = text.indexOf('\n## ', start + heading.length + 2);
  const section = text.slice(start, next < 0 ? undefined : next);
  return [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

describe('README', () => {
  it('stays within two screens (≤ 250 lines)', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
  });

  it("shows trials.csv's current header, and sample rows with one cell per column", () => {
    const sample = blocks(readme, '## What a run gives you', 'text').find((b) => b.startsWith('run_id,'));
    expect(sample).toBeDefined();
    const [header, ...rows] = sample!.trimEnd().split('\n');
    expect(`${header}\n`).toBe(csvHeader(trialsCsv));
    expect(rows.length).toBeGreaterThan(0);
    for (const row of parse(rows.join('\n')) as string[][]) expect(row).toHaveLength(trialsColumns.length);
  });

  it('shows per-trial progress lines in the format the terminal prints', () => {
    const output = blocks(readme, '## What a run gives you', 'text')[0]!;
    const lines = output.split('\n').filter((l) => l.startsWith('['));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      const m = /^\[\s*(\d+)\/(\d+)\] (\S+)\s+(\S+)\s+(warm-up|rep)\s+(\d+)\s+ok\s+downtime ([\d.]+) ms\s+migration ([\d.]+) ms$/.exec(line);
      expect(m, line).not.toBeNull();
      const [, index, total, workload, strategy, kind, repetition, downtime, migration] = m!;
      const result: TrialResult = {
        runId: 'r',
        trial: Number(index),
        workload: workload!,
        strategy: strategy!,
        repetition: Number(repetition),
        warmup: kind === 'warm-up',
        status: 'ok',
        startedAt: new Date(0),
        timeline: { triggerAt: 0, samples: [], events: [] },
        probeIntervalMs: 5,
        probeRecords: [],
      };
      expect(trialLine(result, { downtime_ms: Number(downtime), migration_ms: Number(migration) }, Number(index) - 1, Number(total))).toBe(line);
    }
  });

  it('has a minimal scenario that loads as written', () => {
    const [example] = blocks(readme, '## A minimal scenario', 'yaml');
    const { scenario } = parseScenario('README.md', example!, {});
    expect(scenario.workloads.map((w) => w.type)).toEqual(['redis']);
    expect(scenario.strategies.map((s) => s.name)).toEqual(['criu', 'redeploy']);
    // What the README says the defaults are.
    expect(scenario.platform).toBe('local');
    expect(scenario.nodes).toEqual(['node-a', 'node-b']);
    expect(scenario.probe.intervalMs).toBe(5);
    expect(scenario.timing).toMatchObject({ settleMs: 2000, observeMs: 3000 });
  });

  it('keeps the commands CI runs (.ci/run) verbatim', () => {
    const [quickStart] = blocks(readme, '## Quick start', 'sh');
    expect(quickStart).toContain('npm run bench -- scenarios/default.yaml');
    expect(quickStart).toContain('npm test');
  });
});

describe('docs/scenarios.md', () => {
  it('has an annotated scenario that loads, with every field it shows accepted as written', () => {
    const [example] = blocks(scenariosPage, '# Scenario files', 'yaml');
    const { scenario } = parseScenario('docs/scenarios.md', example!, {});
    expect(scenario.strategies.map((s) => s.name)).toContain('criu-lazy');
    expect(scenario.local.nodeLink).toEqual({ bandwidthMbit: 1000 });
  });
});
