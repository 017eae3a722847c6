// A pod that ignores SIGTERM is killed with SIGKILL once its grace period is over, as the kubelet does.
import { expect, it } from 'vitest';
import type { LocalPlatform } from '../../../src/platforms/local/local-platform.ts';
import { useTestPlatform } from '../../helpers/platform.ts';
import { recordingEvents } from '../../helpers/host.ts';

let platform: LocalPlatform;
useTestPlatform((p) => (platform = p));

it('sends SIGKILL after the grace period to a pod that ignores SIGTERM', async () => {
  const spec = { app: 'stubborn', command: ['sh', '-c', 'trap "" TERM; while :; do sleep 1; done'], port: 1, volumes: [] };
  const pod = await platform.startPod(spec, 'node-a', recordingEvents());
  const events = recordingEvents();
  const result = await platform.stopPod(pod, 700, events);
  expect(result.killed).toBe(true);
  expect(result.stopMs).toBeGreaterThanOrEqual(700);
  expect(result.stopMs).toBeLessThan(5_000);
  expect(events.events.map((e) => e.event)).toEqual(['pod_sigterm', 'pod_sigkill', 'pod_stopped']);
});
