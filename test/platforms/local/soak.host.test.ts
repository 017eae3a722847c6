// The short soak CI runs (bench/soak.ts runs 50): trials in a row on one platform, every kind of
// host object counted after each trial, each back at its count before the first trial.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { expect, it } from 'vitest';
import { LEAK_KINDS, runSoak } from '../../../bench/soak.ts';
import { migbenchObjects, NOTHING } from '../../helpers/host.ts';

it('leaves no fd, mount, rule, conntrack entry, cgroup, netns, process or store byte behind a trial', { timeout: 240_000 }, async () => {
  const out = `${mkdtempSync(`${tmpdir()}/migbench-soak-test-`)}/results`;
  try {
    const result = await runSoak({ trials: 4, out, workloads: ['redis'] });
    expect(result.rows.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    // The four strategies each ran once: CRIU through the store and a page server, redeploy, drain.
    expect(new Set(result.rows.map((r) => r.strategy)).size).toBe(4);
    expect(result.leaks).toEqual(Object.fromEntries(LEAK_KINDS.map((k) => [k, 0])));
    expect(migbenchObjects()).toEqual(NOTHING);
  } finally {
    rmSync(out.replace(/\/results$/, ''), { recursive: true, force: true });
  }
});
