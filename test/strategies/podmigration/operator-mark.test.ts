// Who restored a podmigration trial's pod: only a pod the test double marked, from a source pod that
// did not carry the mark, reads `test-double` — the operator copies the source's annotations, so a
// mark inherited from the source must never turn a real operator's row into the double's.
import { expect, it } from 'vitest';
import { OPERATOR_DOUBLE_ANNOTATION, operatorOf } from '../../../src/strategies/podmigration/kubernetes.ts';
import type { WatchedPod } from '../../../src/platforms/kubernetes/pod-watch.ts';

const pod = (name: string, annotations: Record<string, string>) => ({ name, annotations }) as unknown as WatchedPod;
const mark = { [OPERATOR_DOUBLE_ANNOTATION]: 'true' };

it.each([
  ['the double marked the restored pod', mark, {}, 'test-double'],
  ['no mark (the SSU-DCN operator)', { sourcePod: 'src', snapshotPolicy: 'restore' }, {}, 'real'],
  ['a mark copied from the source pod', mark, mark, 'real'],
  ['a mark with another value', { [OPERATOR_DOUBLE_ANNOTATION]: 'false' }, {}, 'real'],
] as const)('%s → %s', (_, restored, source, expected) => {
  expect(operatorOf(pod('src-migration-1', restored), pod('src', source))).toBe(expected);
});
