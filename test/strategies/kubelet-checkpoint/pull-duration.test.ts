// The kubelet's Pulled event says how long the pull took as a Go duration (time.Duration's String):
// kubelet-checkpoint with delivery: registry reads it into image_pull_ms.
import { expect, it } from 'vitest';
import { goDurationMs } from '../../../src/strategies/kubelet-checkpoint/kubernetes.ts';

it('reads Go durations in milliseconds', () => {
  expect(goDurationMs('209ms')).toBe(209);
  expect(goDurationMs('125.40375ms')).toBe(125.404);
  expect(goDurationMs('1.5s')).toBe(1500);
  expect(goDurationMs('1m2.25s')).toBe(62_250);
  expect(goDurationMs('90.1µs')).toBe(0.09);
  expect(goDurationMs('1h0m0s')).toBe(3_600_000);
});
