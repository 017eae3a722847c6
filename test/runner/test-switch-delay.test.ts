// The test-only injected regression (MIGBENCH_TEST_SWITCH_DELAY_MS): parsed strictly, applied only to
// the named strategy's switch-ins, and a malformed value stops `migbench run` before anything starts.
import { describe, expect, it } from 'vitest';
import { readTestSwitchDelay, withTestSwitchDelay } from '../../src/platforms/local/test-switch-delay.ts';
import type { LocalNodeRuntime, Pod, Service } from '../../src/platforms/local/node-runtime.ts';
import type { EventRecorder } from '../../src/model/timeline.ts';
import { migbench } from '../helpers/cli.ts';

describe('readTestSwitchDelay', () => {
  it.each([
    [undefined, {}],
    ['', {}],
    ['80', { delay: { delayMs: 80 } }],
    ['criu=82.5', { delay: { strategy: 'criu', delayMs: 82.5 } }],
  ])('%s', (text, want) => {
    expect(readTestSwitchDelay(text === undefined ? {} : { MIGBENCH_TEST_SWITCH_DELAY_MS: text })).toEqual(want);
  });
  it.each(['fast', '-5', 'criu=', '=80'])('rejects %s, naming the variable', (text) => {
    expect(readTestSwitchDelay({ MIGBENCH_TEST_SWITCH_DELAY_MS: text }).problem).toMatch(/^MIGBENCH_TEST_SWITCH_DELAY_MS=.*expected milliseconds/);
  });
});

describe('withTestSwitchDelay', () => {
  // Only setServiceEndpoint matters here; the rest of the platform is never called.
  const switches: { at: number; pod: string | null }[] = [];
  const platform = {
    name: 'recording',
    setServiceEndpoint: async (_s: Service, pod: Pod | null) => void switches.push({ at: performance.now(), pod: pod?.name ?? null }),
  } as unknown as LocalNodeRuntime;
  const events: string[] = [];
  const recorder = { emit: (_source: string, event: string) => void events.push(event) } as unknown as EventRecorder;
  const service = {} as Service;
  const pod = { name: 'redis-2' } as Pod;

  it('delays the switch-in of the named strategy by the delay, not the switch to no endpoint', async () => {
    const delayed = withTestSwitchDelay(platform, 'criu', { strategy: 'criu', delayMs: 60 });
    const start = performance.now();
    await delayed.setServiceEndpoint(service, null, recorder);
    expect(switches.at(-1)!.at - start).toBeLessThan(30);
    const before = performance.now();
    await delayed.setServiceEndpoint(service, pod, recorder);
    expect(switches.at(-1)!.at - before).toBeGreaterThanOrEqual(59);
    expect(events).toEqual(['test_switch_delay']);
  });
  it("leaves other strategies' moves and an unset knob alone", () => {
    expect(withTestSwitchDelay(platform, 'redeploy', { strategy: 'criu', delayMs: 60 })).toBe(platform);
    expect(withTestSwitchDelay(platform, 'criu', undefined)).toBe(platform);
    expect(withTestSwitchDelay(platform, 'redeploy', { delayMs: 60 })).not.toBe(platform);
  });
});

it('migbench run with a malformed knob: exit 2 naming it, before anything starts', { timeout: 60_000 }, () => {
  const { code, stderr } = migbench(['run', 'scenarios/smoke.yaml', '--out', '/nonexistent/never-written'], { env: { MIGBENCH_TEST_SWITCH_DELAY_MS: 'soon' } });
  expect(code).toBe(2);
  expect(stderr).toContain('MIGBENCH_TEST_SWITCH_DELAY_MS="soon"');
});
