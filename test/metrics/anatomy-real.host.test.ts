// The downtime anatomy on real trials: `migbench run scenarios/anatomy.yaml` moves Redis by CRIU
// (through runc, with CRIU's freeze and with the harness's; and driven directly, runtime: criu), redeploy and drain; in every trial the anat_* columns are non-negative, add up to
// downtime_ms (to the CSV's µs rounding), and the recorded events explain the outage to within one
// probe interval (anat_unattributed_ms). Needs root, runc and CRIU, as every host test.
import { afterAll, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parse } from 'csv-parse/sync';
import { anatomyColumns } from '../../src/metrics/anatomy.ts';
import { findOutages, outageDuration } from '../../src/metrics/downtime.ts';
import type { Sample } from '../../src/model/timeline.ts';
import { migbench } from '../helpers/cli.ts';
import { migbenchObjects, NOTHING } from '../helpers/host.ts';

const out = `${mkdtempSync(`${tmpdir()}/migbench-anatomy-`)}/results`;
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('splits every real trial’s downtime into parts that add up to it', { timeout: 300_000 }, () => {
  const pipeMaxSize = readFileSync('/proc/sys/fs/pipe-max-size', 'utf8');
  const { code, stderr } = migbench(['run', 'scenarios/anatomy.yaml', '--out', out]);
  // pagePipes: large raises the sysctl for its dump only and puts it back.
  expect(readFileSync('/proc/sys/fs/pipe-max-size', 'utf8')).toBe(pipeMaxSize);
  expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
  const trials = parse(readFileSync(`${out}/trials.csv`, 'utf8'), { columns: true }) as Record<string, string>[];
  const samples = parse(readFileSync(`${out}/samples.csv`, 'utf8'), { columns: true }) as Record<string, string>[];
  /** How much of the trial's measured outage lay before its trigger (a host too busy for the baseline): no migration event can explain that part. */
  const beforeTriggerMs = (trial: string, downtimeMs: number) => {
    const own: Sample[] = samples
      .filter((x) => x.trial === trial)
      .map((x) => ({ probe: x.probe!, scheduledAt: Number(x.t_ms), sentAt: 0, doneAt: 0, ok: x.ok === 'true', error: '' }));
    const outage = findOutages(own).find((o) => outageDuration(o) === downtimeMs && (o.firstOkAfterAt ?? 0) > 0);
    return outage ? Math.max(0, -outage.firstFailedAt) : 0;
  };
  const strategies = trials.map((t) => t.strategy);
  expect(strategies).toEqual(
    expect.arrayContaining([
      // criu's defaults before issue 20, named; criu's own defaults are the action-script freeze and the target pod before the dump.
      'criu+freezer-criu+target-after-dump',
      'criu+freezer-harness+target-after-dump',
      'criu+large-pipes',
      'criu+runtime-criu',
      'redeploy',
      'drain',
    ]),
  );
  for (const t of trials) {
    const label = `trial ${t.trial} (${t.strategy})`;
    expect(t.status, label).toBe('ok');
    // The new CRIU paths lose nothing (drain with a Deployment can: its replacement reads the AOF while the old pod still writes).
    if (t.strategy!.startsWith('criu')) expect(t.redis_acked_writes_lost, label).toBe('0');
    const downtimeMs = Number(t.downtime_ms);
    const parts = Object.fromEntries(anatomyColumns.map((c) => [c, Number(t[c])])) as Record<(typeof anatomyColumns)[number], number>;
    if (downtimeMs === 0) {
      // A drain whose replacement served before the source stopped had no outage: nothing to split.
      expect(t.strategy, label).toBe('drain');
      for (const [column, ms] of Object.entries(parts)) expect(ms, `${label} ${column}`).toBe(0);
      continue;
    }
    for (const [column, ms] of Object.entries(parts)) expect(ms, `${label} ${column}`).toBeGreaterThanOrEqual(0);
    const sum = Object.values(parts).reduce((a, b) => a + b, 0);
    // Each column is written with 3 decimals: the sum may differ from downtime_ms by their rounding.
    expect(Math.abs(sum - downtimeMs), `${label}: ${JSON.stringify(parts)} vs downtime ${downtimeMs}`).toBeLessThanOrEqual(
      0.0005 * (anatomyColumns.length + 1),
    );
    expect(parts.anat_unattributed_ms, `${label}: ${JSON.stringify(parts)}`).toBeLessThanOrEqual(
      Number(t.probe_interval_ms) + beforeTriggerMs(t.trial!, downtimeMs) + 0.001,
    );
    // Each path's own parts are there: CRIU's for criu, the stop/start/app load for the others.
    if (t.strategy!.startsWith('criu')) {
      expect(parts.anat_dump_ms, label).toBeGreaterThan(0);
      expect(parts.anat_restore_ms, label).toBeGreaterThan(0);
      expect(parts.anat_stop_ms + parts.anat_app_load_ms, label).toBe(0);
    } else {
      // A drain's replacement (a Deployment's) may be loaded before the source stops: its short
      // outage then falls in the stop or the switch, not in the app's load (seen once in a run).
      if (t.strategy === 'redeploy') expect(parts.anat_app_load_ms, label).toBeGreaterThan(0);
      else
        expect(
          parts.anat_stop_ms + parts.anat_start_ms + parts.anat_app_load_ms + parts.anat_switch_ms + parts.anat_pod_setup_ms + parts.anat_client_ms,
          label,
        ).toBeGreaterThan(0);
      expect(parts.anat_dump_ms + parts.anat_restore_ms, label).toBe(0);
    }
  }
  expect(migbenchObjects()).toEqual(NOTHING);
});
