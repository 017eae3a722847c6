// The product end to end: `migbench run scenarios/smoke.yaml` migrates Redis with both strategies,
// writes the CSVs and run.json, exits 0, and leaves nothing on the host.
import { afterAll, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parse } from 'csv-parse/sync';
import { migbench } from '../helpers/cli.ts';
import { migbenchObjects, NOTHING } from '../helpers/host.ts';

const out = `${mkdtempSync(`${tmpdir()}/migbench-run-`)}/results`;
afterAll(() => rmSync(out, { recursive: true, force: true }));

const csv = (file: string) => parse(readFileSync(`${out}/${file}`, 'utf8'), { columns: true }) as Record<string, string>[];

it('runs the smoke scenario and writes every result file', { timeout: 300_000 }, () => {
  const { code, stdout, stderr } = migbench(['run', 'scenarios/smoke.yaml', '--out', out]);
  expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
  expect(stdout).toContain('median downtime_ms');

  const trials = csv('trials.csv');
  expect(trials.map((t) => t.strategy).sort()).toEqual(['criu', 'redeploy']);
  for (const t of trials) {
    expect(t.status).toBe('ok');
    expect(Number(t.downtime_ms)).toBeGreaterThan(0);
    expect(t.started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(t.redis_acked_writes_lost).toBe('0');
  }
  const criu = trials.find((t) => t.strategy === 'criu')!;
  for (const column of [
    'criu_freezing_ms',
    'criu_frozen_ms',
    'criu_memdump_ms',
    'criu_memwrite_ms',
    'criu_restore_ms',
    'criu_pages_written',
    'checkpoint_bytes',
  ]) {
    expect(Number(criu[column]), column).toBeGreaterThan(0);
  }
  const redeploy = trials.find((t) => t.strategy === 'redeploy')!;
  expect(redeploy.criu_frozen_ms).toBe('');

  const samples = csv('samples.csv');
  expect(samples.length).toBeGreaterThan(200);
  expect(samples.some((s) => s.ok === 'false')).toBe(true);
  expect(samples.some((s) => Number(s.t_ms) < 0)).toBe(true);
  const events = csv('events.csv');
  expect(events.some((e) => e.event === 'trigger' && Number(e.t_ms) === 0)).toBe(true);
  const run = JSON.parse(readFileSync(`${out}/run.json`, 'utf8'));
  expect(run.endedAt).toMatch(/Z$/);
  expect(run.versions.criu).toMatch(/^4\./);
  expect(existsSync(`${out}/pods`)).toBe(true);
  expect(migbenchObjects()).toEqual(NOTHING);
});
