// A scenario's `sweep:` stands for one workload instance per value; every mistake in it is reported
// before anything starts, at the path of the value or the parameter that is wrong.
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError } from '../../src/scenario/load.ts';
import { SWEEPABLE, sweepInstances } from '../../src/scenario/sweep.ts';
import { sweepColumn, sweepColumnDocs } from '../../src/results/trials-csv.ts';

const scenario = (workloads: string) => parseScenario('t.yaml', `workloads: ${workloads}\nstrategies: [criu]\n`).scenario;

function problemsOf(workloads: string): { path: string; expected: string; found: string }[] {
  try {
    scenario(workloads);
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioError);
    return (err as ScenarioError).problems.map(({ path, expected, found }) => ({ path, expected, found }));
  }
  throw new Error('the scenario was accepted');
}

describe('sweepInstances', () => {
  it('makes one instance per value, in the order written, named <name>-<value>, with the value set and no sweep', () => {
    const [redis] = scenario('[{ type: redis, valueBytes: 1000, sweep: { datasetMiB: [256, 64, 2048] } }]').workloads;
    const instances = sweepInstances(redis!);
    expect(instances.map((i) => i.name)).toEqual(['redis-256', 'redis-64', 'redis-2048']);
    expect(instances.map((i) => i.sweep)).toEqual([64 * 4, 64, 2048].map((value) => ({ parameter: 'datasetMiB', value })));
    expect(instances[1]!.workload).toEqual({ type: 'redis', name: 'redis-64', keys: 10_000, valueBytes: 1000, datasetMiB: 64, appendfsync: 'everysec' });
  });

  it('uses the workload name as the base, for every sweepable type', () => {
    const [video, training] = scenario(
      '[{ type: video, name: cam, sweep: { bitrateKbps: [500, 8000] } }, { type: ml-training, sweep: { modelWidth: [8, 64] } }]',
    ).workloads;
    expect(sweepInstances(video!).map((i) => [i.name, (i.workload as { bitrateKbps: number }).bitrateKbps])).toEqual([
      ['cam-500', 500],
      ['cam-8000', 8000],
    ]);
    expect(sweepInstances(training!).map((i) => [i.name, (i.workload as { modelWidth: number }).modelWidth])).toEqual([
      ['ml-training-8', 8],
      ['ml-training-64', 64],
    ]);
  });

  it('leaves a workload without sweep as it is', () => {
    const [redis] = scenario('[{ type: redis, keys: 5 }]').workloads;
    expect(sweepInstances(redis!)).toEqual([{ workload: redis, name: 'redis' }]);
  });
});

describe('sweep validation (exit 2, nothing started)', () => {
  it.each([
    [
      'an unknown parameter, naming those that can be swept',
      '[{ type: redis, sweep: { datasetMB: [64] } }]',
      [
        {
          path: 'workloads[0].sweep.datasetMB',
          expected: 'a parameter a redis workload can sweep: one of datasetMiB, keys, valueBytes',
          found: 'a list (1 item)',
        },
      ],
    ],
    [
      'a field that exists but is not sweepable',
      '[{ type: video, sweep: { fps: [25, 50] } }]',
      [{ path: 'workloads[0].sweep.fps', expected: 'a parameter a video workload can sweep: one of bitrateKbps', found: 'a list (2 items)' }],
    ],
    [
      'values the field itself rejects, each at its index',
      '[{ type: redis, sweep: { datasetMiB: [64, 0, 100000, 1.5] } }]',
      [
        { path: 'workloads[0].sweep.datasetMiB[1]', expected: 'a number ≥ 1', found: '0' },
        { path: 'workloads[0].sweep.datasetMiB[2]', expected: 'a number ≤ 65536', found: '100000' },
        { path: 'workloads[0].sweep.datasetMiB[3]', expected: 'a whole number', found: '1.5' },
      ],
    ],
    [
      'a value listed twice',
      '[{ type: redis, sweep: { datasetMiB: [64, 128, 64] } }]',
      [{ path: 'workloads[0].sweep.datasetMiB[2]', expected: 'distinct values (64 is listed twice)', found: '64' }],
    ],
    [
      'no values',
      '[{ type: redis, sweep: { datasetMiB: [] } }]',
      [{ path: 'workloads[0].sweep.datasetMiB', expected: 'a list of at least 1 item', found: 'a list (0 items)' }],
    ],
    [
      'a single value instead of a list',
      '[{ type: redis, sweep: { datasetMiB: 64 } }]',
      [{ path: 'workloads[0].sweep.datasetMiB', expected: 'a list', found: '64' }],
    ],
    [
      'two parameters (no grids)',
      '[{ type: redis, sweep: { datasetMiB: [64], valueBytes: [100] } }]',
      [{ path: 'workloads[0].sweep', expected: expect.stringContaining('exactly one parameter to sweep'), found: 'a mapping' }],
    ],
    [
      'an empty sweep',
      '[{ type: redis, sweep: {} }]',
      [
        {
          path: 'workloads[0].sweep',
          expected: expect.stringContaining('exactly one parameter to sweep, one of datasetMiB, keys, valueBytes'),
          found: 'a mapping',
        },
      ],
    ],
    [
      'the swept field also set',
      '[{ type: redis, datasetMiB: 8, sweep: { datasetMiB: [64] } }]',
      [{ path: 'workloads[0].datasetMiB', expected: 'no `datasetMiB` beside `sweep: { datasetMiB: [...] }` (the sweep sets it)', found: '8' }],
    ],
    [
      'keys beside a datasetMiB sweep',
      '[{ type: redis, keys: 5, sweep: { datasetMiB: [64] } }]',
      [{ path: 'workloads[0].keys', expected: expect.stringContaining('either `keys` or `datasetMiB`'), found: 'both' }],
    ],
    [
      'a keys sweep beside datasetMiB',
      '[{ type: redis, datasetMiB: 64, sweep: { keys: [5] } }]',
      [{ path: 'workloads[0].sweep.keys', expected: expect.stringContaining('either `keys` or `datasetMiB`'), found: 'both' }],
    ],
    [
      'an instance name another workload has',
      '[{ type: redis, sweep: { datasetMiB: [64] } }, { type: redis, name: redis-64 }]',
      [{ path: 'workloads', expected: expect.stringContaining('distinct workload names'), found: '"redis-64" twice' }],
    ],
  ])('rejects %s', (_what, workloads, expected) => {
    expect(problemsOf(workloads)).toEqual(expected);
  });

  it('accepts datasetMiB alone (keys then comes from it and valueBytes)', () => {
    expect(scenario('[{ type: redis, datasetMiB: 64, valueBytes: 1000 }]').workloads[0]).toMatchObject({ datasetMiB: 64, valueBytes: 1000 });
  });
});

it('has a documented trials.csv column for every sweepable parameter, and no column without one', () => {
  const parameters = [...new Set(Object.values(SWEEPABLE).flat())];
  expect(parameters.map(sweepColumn).sort()).toEqual(Object.keys(sweepColumnDocs).sort());
  expect(sweepColumn('modelWidth')).toBe('sweep_model_width');
  expect(sweepColumn('datasetMiB')).toBe('sweep_dataset_mib');
  expect(sweepColumn('bitrateKbps')).toBe('sweep_bitrate_kbps');
});
