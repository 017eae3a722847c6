// `migbench cluster start --workers N`: the workers' names, and a count out of range refused before
// anything starts (exit 2, naming the flag and the range) — also without root.
import { expect, it } from 'vitest';
import { clusterCommand } from '../../../src/commands/cluster.ts';
import { CommandFailure, EXIT_USAGE } from '../../../src/commands/exit-codes.ts';
import { labWorkerNames } from '../../../src/lab/nodes/node-cluster.ts';

it('names N workers worker-a, worker-b, worker-c, … in order', () => {
  expect(labWorkerNames(2)).toEqual(['worker-a', 'worker-b']);
  expect(labWorkerNames(4)).toEqual(['worker-a', 'worker-b', 'worker-c', 'worker-d']);
});

it('refuses a worker count out of range or not whole, naming the flag and the range', () => {
  for (const n of [1, 7, 2.5]) expect(() => labWorkerNames(n)).toThrow(/--workers .*from 2 to 6/);
});

it('`cluster start --workers 1` and `cluster stop --workers 3` end with exit 2 before the root check', async () => {
  for (const [action, workers, why] of [
    ['start', 1, /--workers 1: give a whole number of worker nodes from 2 to 6/],
    ['stop', 3, /--workers is for `cluster start` only/],
  ] as const) {
    const failure = await clusterCommand({ action, workers, commandLine: `sh bin/migbench cluster ${action} --workers ${workers}` }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CommandFailure);
    expect((failure as CommandFailure).exitCode).toBe(EXIT_USAGE);
    expect((failure as CommandFailure).message).toMatch(why);
  }
});
