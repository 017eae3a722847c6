// Bad input gets one clear error naming the field, exit code 2, and no side effects.
import { afterEach, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { migbench } from '../helpers/cli.ts';
import { migbenchObjects, NOTHING } from '../helpers/host.ts';
import { BILLION_LAUGHS } from '../helpers/billion-laughs.ts';

const dir = mkdtempSync(`${tmpdir()}/migbench-cli-`);
afterEach(() => {
  for (const f of readdirSync(dir)) rmSync(`${dir}/${f}`, { recursive: true, force: true });
});

it('rejects a malformed scenario with exit 2, naming the field, creating nothing', () => {
  const file = `${dir}/bad.yaml`;
  writeFileSync(file, 'workloads:\n  - type: redis\n    keys: many\nstrategies: [criu, teleport]\noutput: { dir: out }\n');
  for (const command of ['validate', 'run']) {
    const { code, stderr } = migbench([command, file, ...(command === 'run' ? ['--out', `${dir}/results`] : [])]);
    expect(code).toBe(2);
    expect(stderr).toContain('workloads[0].keys');
    expect(stderr).toContain('strategies[1]');
    expect(stderr).toContain('teleport');
    expect(stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  }
  expect(existsSync(`${dir}/results`)).toBe(false);
  expect(existsSync(`${dir}/out`)).toBe(false);
  expect(migbenchObjects()).toEqual(NOTHING);
});

// A "billion laughs" document ends in one message and exit 2 (it was the yaml library's stack trace
// and exit 1), on either platform; so does a local-only field in a kubernetes scenario (it was ignored).
it.each([
  { what: 'an alias bomb (local)', text: `${BILLION_LAUGHS}workloads: [{ type: redis }]\nstrategies: [criu]\n`, says: 'billion laughs' },
  {
    what: 'an alias bomb (kubernetes)',
    text: `platform: kubernetes\nkubernetes: { probes: false }\n${BILLION_LAUGHS}workloads: [{ type: redis }]\nstrategies: [drain]\n`,
    says: 'billion laughs',
  },
  {
    what: 'nodes: in a kubernetes scenario',
    text: 'platform: kubernetes\nkubernetes: { probes: false }\nnodes: [node-a, node-b]\nworkloads: [{ type: redis }]\nstrategies: [drain]\n',
    says: 'line 3: nodes: expected no `nodes` with platform: kubernetes',
  },
])('rejects $what with exit 2 and one message, creating nothing', ({ text, says }) => {
  const file = `${dir}/bad.yaml`;
  writeFileSync(file, text);
  for (const command of ['validate', 'run']) {
    const { code, stderr } = migbench([command, file, ...(command === 'run' ? ['--out', `${dir}/results`] : [])]);
    expect({ command, code }).toEqual({ command, code: 2 });
    expect(stderr).toContain(says);
    expect(stderr).not.toMatch(/\n\s+at /);
  }
  expect(existsSync(`${dir}/results`)).toBe(false);
  expect(migbenchObjects()).toEqual(NOTHING);
});

it('rejects a bad flag override the same way', () => {
  const { code, stderr } = migbench(['validate', 'scenarios/smoke.yaml', '--reps', '0']);
  expect(code).toBe(2);
  expect(stderr).toContain('repetitions');
});

it('rejects a scenario file that does not exist', () => {
  const { code, stderr } = migbench(['validate', `${dir}/missing.yaml`]);
  expect(code).toBe(2);
  expect(stderr).toContain('missing.yaml');
});

it('accepts the shipped scenarios', () => {
  for (const file of readdirSync('scenarios').filter((f) => f.endsWith('.yaml'))) {
    const { code, stdout, stderr } = migbench(['validate', `scenarios/${file}`]);
    expect({ file, code, stderr }).toEqual({ file, code: 0, stderr: '' });
    expect(stdout).toContain('ok');
  }
});
