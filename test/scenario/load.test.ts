// The scenario loader is the only thing between a typo and a half-started run, so every problem
// must be reported at once, with where it is, what was expected and what was found.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario, parseScenario, ScenarioError, type ScenarioOverrides } from '../../src/scenario/load.ts';
import { BILLION_LAUGHS } from '../helpers/billion-laughs.ts';

const MINIMAL = 'workloads: [{ type: redis }]\nstrategies: [criu]\n';

/** The ScenarioError parseScenario throws for `text` (fails the test if it does not throw one). */
function errorOf(text: string, overrides: ScenarioOverrides = {}): ScenarioError {
  try {
    parseScenario('test.yaml', text, overrides);
  } catch (err) {
    if (err instanceof ScenarioError) return err;
    throw err;
  }
  throw new Error('expected a ScenarioError, but the scenario loaded');
}

describe('schema problems', () => {
  const text = [
    'workloads:', //                  1
    '  - type: redis', //             2
    '    keys: many', //              3
    '  - type: memcached', //         4
    'strategies:', //                 5
    '  - criu', //                    6
    '  - live', //                    7
    '  - name: redeploy', //          8
    '    grace: 3', //                9
    'repetitions: 0', //              10
    '',
  ].join('\n');
  const err = errorOf(text);
  const byPath = (path: string) => err.problems.find((p) => p.path === path);

  it('reports every problem in one error, not just the first', () => {
    expect(err.problems.map((p) => p.path)).toEqual(['workloads[0].keys', 'workloads[1].type', 'strategies[1]', 'strategies[2]', 'repetitions']);
    expect(err.message).toMatch(/^migbench: scenario test\.yaml has 5 problems; nothing was started:\n/);
    expect(err.file).toBe('test.yaml');
    expect(err.name).toBe('ScenarioError');
  });

  it('names the path, what was expected and what was found', () => {
    expect(byPath('workloads[0].keys')).toMatchObject({ expected: 'a number', found: '"many"' });
    expect(err.message).toContain('workloads[0].keys: expected a number, found "many"');
  });

  it('gives the line of each problem', () => {
    expect(byPath('workloads[0].keys')?.where).toBe('line 3');
    expect(byPath('workloads[1].type')?.where).toBe('line 4');
    expect(byPath('strategies[1]')?.where).toBe('line 7');
    expect(byPath('strategies[2]')?.where).toBe('line 8');
    expect(byPath('repetitions')?.where).toBe('line 10');
    expect(err.message).toContain('  line 3: workloads[0].keys: ');
  });

  it('lists the allowed strategy names for an unknown one, and the value found', () => {
    const p = byPath('strategies[1]')!;
    expect(p.expected).toContain('criu, criu-lazy, criu-pageserver, criu-precopy, redeploy');
    expect(p.found).toBe('"live"');
  });

  it("names a strategy option that does not exist (the mapping branch's error, not the union's)", () => {
    const p = byPath('strategies[2]')!;
    expect(p.expected).toContain('`grace`');
    expect(p.found).toBe('grace: 3');
  });

  it('points an unknown workload type at the `type` field, with the value found', () => {
    expect(byPath('workloads[1].type')).toMatchObject({ expected: 'one of "redis", "video", "ml-training"', found: '"memcached"' });
  });

  it('reports limits with the bound', () => {
    expect(byPath('repetitions')).toMatchObject({ expected: 'a number ≥ 1', found: '0' });
  });

  it('says "a problem" for exactly one', () => {
    expect(errorOf('workloads: [{ type: redis, keys: 1.5 }]\nstrategies: [criu]\n').message).toBe(
      'migbench: scenario test.yaml has a problem; nothing was started:\n  line 1: workloads[0].keys: expected a whole number, found 1.5',
    );
  });

  it('reports required fields that are missing as found nothing', () => {
    const e = errorOf('name: x\n');
    expect(e.problems).toEqual([
      { path: 'workloads', expected: 'a list (this field is required)', found: 'nothing' },
      { path: 'strategies', expected: 'a list (this field is required)', found: 'nothing' },
    ]);
  });

  it("refuses targetPod: before-dump with ip: preserve (the address is the source's until its dump)", () => {
    const e = errorOf('workloads: [{ type: redis }]\nstrategies:\n  - criu\n  - { name: criu, ip: preserve, targetPod: before-dump }\n');
    expect(e.problems).toMatchObject([{ path: 'strategies[1].targetPod', found: '"before-dump"' }]);
  });

  it('refuses serviceSwitch: during-restore with ip: preserve (the address moves; no rule to switch early)', () => {
    const e = errorOf('workloads: [{ type: redis }]\nstrategies:\n  - { name: criu, ip: preserve, serviceSwitch: during-restore }\n');
    expect(e.problems).toMatchObject([{ path: 'strategies[0].serviceSwitch', found: '"during-restore"' }]);
  });

  it('reports an unknown strategy given as a mapping at its `name`', () => {
    expect(errorOf('workloads: [{ type: redis }]\nstrategies:\n  - name: live\n').problems).toEqual([
      {
        path: 'strategies[0].name',
        expected: 'one of "criu", "criu-lazy", "criu-pageserver", "criu-precopy", "redeploy", "drain", "podmigration", "kubelet-checkpoint", "runtime-restore"',
        found: '"live"',
        where: 'line 3',
      },
    ]);
  });

  it('names a misspelled top-level field', () => {
    const [p, ...rest] = errorOf(`${MINIMAL}repetition: 5\n`).problems;
    expect(rest).toEqual([]);
    expect(p!.expected).toContain('`repetition` is not one');
    expect(p!.found).toBe('repetition: 5');
  });
});

describe('documents that are not a scenario', () => {
  it('reports a YAML syntax error with line:column', () => {
    const e = errorOf('workloads:\n  - type: redis\n strategies: [criu\n');
    expect(e.problems.length).toBeGreaterThan(0);
    expect(e.problems[0]).toMatchObject({ path: '', where: 'line 3:1', expected: 'valid YAML' });
    expect(e.problems[0]!.found).toMatch(/^a syntax error \(/);
    expect(e.message).toContain('line 3:1: expected valid YAML, found a syntax error');
  });

  it('rejects a document that is not a mapping, saying what it is', () => {
    expect(errorOf('- a\n- b\n').problems).toEqual([{ path: '', expected: 'a mapping with at least `workloads` and `strategies`', found: 'a list (2 items)' }]);
    expect(errorOf('').problems[0]!.found).toBe('null (an empty value)');
    expect(errorOf('just text\n').problems[0]!.found).toBe('"just text"');
  });

  it('refuses a "billion laughs" alias bomb in one problem, before expanding it, on either platform', () => {
    for (const head of ['', 'platform: kubernetes\nkubernetes: { probes: false }\n']) {
      const started = performance.now();
      const e = errorOf(`${head}${BILLION_LAUGHS}workloads: [{ type: redis }]\nstrategies: [drain]\n`);
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(e.problems).toEqual([
        {
          path: '',
          expected: expect.stringMatching(/aliases .*at most 100 alias uses; write the values out instead/),
          found: expect.stringContaining('billion laughs'),
        },
      ]);
      expect(e.message).not.toMatch(/\n\s+at /);
    }
  });

  it('still takes a few ordinary aliases', () => {
    const { scenario } = parseScenario(
      'test.yaml',
      'probe: &p { intervalMs: 7 }\nworkloads: [{ type: redis, probe: *p }, { type: video, probe: *p }]\nstrategies: [criu]\n',
    );
    expect(scenario.workloads.map((w) => w.probe?.intervalMs)).toEqual([7, 7]);
  });
});

describe('cross-field checks', () => {
  const paths = (text: string) => errorOf(text).problems.map((p) => `${p.path}: ${p.found}`);

  it('rejects duplicate nodes', () => {
    expect(paths(`nodes: [a, b, a]\n${MINIMAL}`)).toEqual(['nodes: "a" twice']);
  });

  it('rejects migration ends that are not nodes', () => {
    expect(paths(`nodes: [a, b]\nmigration: { from: c, to: b }\n${MINIMAL}`)).toEqual(['migration.from: "c"']);
    expect(paths(`nodes: [a, b]\nmigration: { from: a, to: z }\n${MINIMAL}`)).toEqual(['migration.to: "z"']);
  });

  it('rejects migrating a pod to the node it is on', () => {
    expect(errorOf(`nodes: [a, b]\nmigration: { from: a, to: a }\n${MINIMAL}`).problems).toEqual([
      { path: 'migration.to', expected: 'a node other than migration.from', found: '"a"' },
    ]);
  });

  it('rejects a strategy listed twice, even once as a name and once as a mapping', () => {
    expect(paths('workloads: [{ type: redis }]\nstrategies: [redeploy, { name: redeploy, gracePeriodSeconds: 1 }]\n')).toEqual([
      'strategies: "redeploy" twice',
    ]);
  });

  it('rejects two workloads with the same name (two unnamed of one type), accepts them named', () => {
    expect(paths('workloads: [{ type: redis }, { type: redis }]\nstrategies: [criu]\n')).toEqual(['workloads: "redis" twice']);
    const ok = parseScenario('t.yaml', 'workloads: [{ type: redis, name: small }, { type: redis, name: big, keys: 5 }]\nstrategies: [criu]\n');
    expect(ok.scenario.workloads.map((w) => w.name)).toEqual(['small', 'big']);
  });

  it('reports all cross-field problems at once', () => {
    expect(paths('nodes: [a, b, a]\nworkloads: [{ type: redis }, { type: redis }]\nstrategies: [criu, criu]\n')).toEqual([
      'nodes: "a" twice',
      'workloads: "redis" twice',
      'strategies: "criu" twice',
    ]);
  });
});

describe('runtime (who drives CRIU)', () => {
  it('takes runc or criu for the platform, and per CRIU strategy (labelled)', () => {
    const { scenario: s } = parseScenario(
      't.yaml',
      'local: { runtime: criu }\nworkloads: [{ type: redis }]\nstrategies: [criu, { name: criu, runtime: runc }]\n',
    );
    expect(s.local.runtime).toBe('criu');
    expect(s.strategies[1]).toMatchObject({ name: 'criu', runtime: 'runc' });
  });

  it('names the field of a runtime it does not know, and refuses runtime: criu for criu-lazy', () => {
    const bad = errorOf(
      'local: { runtime: crun }\nworkloads: [{ type: redis }]\nstrategies: [{ name: criu, runtime: docker }, { name: criu-lazy, runtime: criu }]\n',
    );
    expect(bad.problems.map((p) => p.path)).toEqual(['local.runtime', 'strategies[0].runtime', 'strategies[1].runtime']);
    expect(bad.message).toContain('strategies[1].runtime: expected "runc", found "criu"');
  });
});

describe('defaults', () => {
  const { scenario, migration, sourceText, file } = parseScenario('min.yaml', MINIMAL);

  it('fills every default into a minimal scenario', () => {
    expect(scenario.repetitions).toBe(3);
    expect(scenario.warmup).toBe(0);
    expect(scenario.seed).toBe(1);
    expect(scenario.probe).toEqual({ intervalMs: 5 });
    expect(scenario.timing).toEqual({ settleMs: 2_000, observeMs: 3_000, readyTimeoutMs: 60_000 });
    expect(scenario.nodes).toEqual(['node-a', 'node-b']);
    expect(scenario.local).toEqual({
      subnet: '198.18.0.0/24',
      checkpointDir: '/var/lib/migbench/store',
      checkpointStore: 'disk',
      runtime: 'runc',
      criuKernelCache: 'auto',
    });
    expect(scenario.output).toEqual({ dir: 'results' });
    expect(scenario.workloads).toEqual([{ type: 'redis', keys: 10_000, valueBytes: 64, appendfsync: 'everysec' }]);
    expect(scenario.strategies).toEqual([{ name: 'criu', ip: 'new', freezer: 'action-script', pagePipes: 'sysctl' }]);
  });

  it('fills the defaults of the video and ml-training workloads and the drain strategy', () => {
    const { scenario: s } = parseScenario('t.yaml', 'workloads: [{ type: video }, { type: ml-training }]\nstrategies: [drain]\n');
    expect(s.workloads).toEqual([
      { type: 'video', fps: 25, bitrateKbps: 2_000, gopFrames: 50, playerBufferMs: 2_000 },
      { type: 'ml-training', datasetImages: 4_096, imageSize: 32, classes: 10, batchSize: 32, modelWidth: 16, saveEverySteps: 100, threads: 1 },
    ]);
    expect(s.strategies).toEqual([{ name: 'drain', gracePeriodSeconds: 30, controller: 'deployment' }]);
  });

  it("keeps a workload's probe override as given, without defaults that would mask the scenario's", () => {
    const { scenario: s } = parseScenario(
      't.yaml',
      'probe: { intervalMs: 5, timeoutMs: 20 }\nworkloads: [{ type: video, probe: { intervalMs: 10 } }, { type: redis }]\nstrategies: [criu]\n',
    );
    expect(s.workloads[0]!.probe).toEqual({ intervalMs: 10 });
    expect(s.workloads[1]!.probe).toBeUndefined();
    expect(s.probe).toEqual({ intervalMs: 5, timeoutMs: 20 });
  });

  it('blames a bad workload probe override on its own path', () => {
    const err = errorOf('workloads: [{ type: video, probe: { intervalMs: 0, retries: 3 } }]\nstrategies: [criu]\n');
    expect(err.problems.map((p) => p.path).sort()).toEqual(['workloads[0].probe', 'workloads[0].probe.intervalMs']);
  });

  it('keeps the file name and the text as read (run.json records them)', () => {
    expect(file).toBe('min.yaml');
    expect(sourceText).toBe(MINIMAL);
  });

  it('expands a strategy given by name into its options with defaults', () => {
    expect(parseScenario('t.yaml', 'workloads: [{ type: redis }]\nstrategies: [redeploy]\n').scenario.strategies).toEqual([
      { name: 'redeploy', gracePeriodSeconds: 30 },
    ]);
  });

  it('migrates from the first node to the second when migration is not given', () => {
    expect(migration).toEqual({ from: 'node-a', to: 'node-b' });
    expect(parseScenario('t.yaml', `nodes: [x, y, z]\n${MINIMAL}`).migration).toEqual({ from: 'x', to: 'y' });
  });

  it('fills the missing end of migration with a node other than the given one', () => {
    expect(parseScenario('t.yaml', `migration: { from: node-b }\n${MINIMAL}`).migration).toEqual({ from: 'node-b', to: 'node-a' });
    // Regression: `from` used to default to the first node even when that is `to`, moving the pod onto itself.
    expect(parseScenario('t.yaml', `migration: { to: node-a }\n${MINIMAL}`).migration).toEqual({ from: 'node-b', to: 'node-a' });
    expect(parseScenario('t.yaml', `migration: { to: node-b }\n${MINIMAL}`).migration).toEqual({ from: 'node-a', to: 'node-b' });
  });
});

describe('command-line overrides', () => {
  const file = 'workloads: [{ type: redis }]\nstrategies: [criu, { name: redeploy, gracePeriodSeconds: 5 }]\nrepetitions: 4\nseed: 9\n';

  it('are validated like the file, and blamed on the flag (no line: it is not in the file)', () => {
    expect(errorOf(file, { repetitions: 0 }).problems).toEqual([{ path: 'repetitions (from --reps)', expected: 'a number ≥ 1', found: '0', where: undefined }]);
    expect(errorOf(file, { seed: -1 }).problems[0]!.path).toBe('seed (from --seed)');
    expect(errorOf(file, { warmup: 1.5 }).problems[0]!.path).toBe('warmup (from --warmup)');
    const unknown = errorOf(file, { strategies: ['bogus'] }).problems;
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toMatchObject({ path: 'strategies[0] (from --strategies)', found: '"bogus"' });
    expect(unknown[0]!.expected).toContain('criu, criu-lazy, criu-pageserver, criu-precopy, redeploy');
  });

  it('a problem in the file is still blamed on the file when the flag is not given', () => {
    expect(errorOf('workloads: [{ type: redis }]\nstrategies: [criu]\nrepetitions: 0\n').problems[0]).toMatchObject({ path: 'repetitions', where: 'line 3' });
  });

  it('replace reps, seed and warm-up', () => {
    const { scenario } = parseScenario('t.yaml', file, { repetitions: 2, seed: 77, warmup: 3 });
    expect(scenario).toMatchObject({ repetitions: 2, seed: 77, warmup: 3 });
    expect(parseScenario('t.yaml', file).scenario).toMatchObject({ repetitions: 4, seed: 9, warmup: 0 });
  });

  it('--strategies keeps the options the file gives a strategy, and its order', () => {
    expect(parseScenario('t.yaml', file, { strategies: ['redeploy'] }).scenario.strategies).toEqual([{ name: 'redeploy', gracePeriodSeconds: 5 }]);
    expect(parseScenario('t.yaml', file, { strategies: ['redeploy', 'criu'] }).scenario.strategies).toEqual([
      { name: 'redeploy', gracePeriodSeconds: 5 },
      { name: 'criu', ip: 'new', freezer: 'action-script', pagePipes: 'sysctl' },
    ]);
  });

  it('--strategies gives defaults to a strategy the file does not list', () => {
    expect(parseScenario('t.yaml', MINIMAL, { strategies: ['redeploy'] }).scenario.strategies).toEqual([{ name: 'redeploy', gracePeriodSeconds: 30 }]);
  });
});

describe('loadScenario', () => {
  const dir = mkdtempSync(join(tmpdir(), 'migbench-scenario-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names a missing file', async () => {
    const missing = join(dir, 'nope.yaml');
    const err = await loadScenario(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScenarioError);
    expect((err as ScenarioError).message).toContain(`scenario ${missing} has a problem`);
    expect((err as ScenarioError).problems[0]!.found).toBe('no such file');
  });

  it('says when the path is a directory', async () => {
    const err = (await loadScenario(dir).catch((e: unknown) => e)) as ScenarioError;
    expect(err.problems[0]!.found).toBe('a directory');
  });

  const scenariosDir = fileURLToPath(new URL('../../scenarios/', import.meta.url));
  const shipped = readdirSync(scenariosDir).filter((f) => f.endsWith('.yaml'));
  it('finds the shipped scenarios', () => {
    expect(shipped).toContain('smoke.yaml');
  });
  it.each(shipped)('loads scenarios/%s', async (name) => {
    const loaded = await loadScenario(join(scenariosDir, name));
    expect(loaded.scenario.workloads.length).toBeGreaterThan(0);
    expect(loaded.scenario.strategies.length).toBeGreaterThan(0);
    expect(loaded.migration.from).not.toBe(loaded.migration.to);
  });
});
