// `migbench validate` of an evacuation scenario describes evacuations — each sweep point's pods and
// concurrency, the source, how many evacuations and pod trials — not workloads × strategies.
import { afterEach, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { validateCommand } from '../../src/commands/validate.ts';

const dir = mkdtempSync(`${tmpdir()}/migbench-validate-evac-`);
afterEach(() => vi.restoreAllMocks());

it('describes the evacuations, their pods and concurrency, and counts evacuations and pod trials', async () => {
  const file = `${dir}/e.yaml`;
  writeFileSync(
    file,
    'nodes: [node-a, node-b, node-c]\nworkloads: [{ type: redis }, { type: video }]\nevacuate: { pods: [{ workload: redis, count: 2 }, { workload: video }], targets: [node-b, node-c], sweep: { concurrency: [1, all] } }\nstrategies: [criu, drain]\nrepetitions: 2\nwarmup: 1\n',
  );
  let printed = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((printed += String(chunk)), true));
  expect(await validateCommand({ scenario: file, overrides: {} })).toBe(0);
  rmSync(dir, { recursive: true, force: true });
  expect(printed).toBe(
    `${file}: ok — 2 evacuation(s) (2 redis + 1 video pod(s), 1 at once; 2 redis + 1 video pod(s), 3 at once) to node-b, node-c × 2 strategy(ies) × 2 repetition(s) = 8 evacuations of node-a (+4 warm-up), 24 pod trials (+12 warm-up), seed 1\n`,
  );
});
