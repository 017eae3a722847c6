// A TEST-ONLY knob that injects a known regression: `MIGBENCH_TEST_SWITCH_DELAY_MS` makes the local
// platform wait that long before it points a service at the moved pod (the switch-in, the last step
// of every move's outage), so downtime_ms grows by exactly that much. The calibration bench
// (bench/calibrate.ts) uses it to measure how often `migbench compare` detects a regression of a
// known size. Off unless the variable is set; a real measurement never sets it, and run.json's
// `testSwitchDelay` records it whenever it was set, so a run made with it cannot pass for a real one.
//
//   MIGBENCH_TEST_SWITCH_DELAY_MS=80        every strategy's switch-in waits 80 ms
//   MIGBENCH_TEST_SWITCH_DELAY_MS=criu=80   only the criu strategy's (one cell of a scenario)
import { sleep } from '../../clock.ts';
import type { LocalNodeRuntime, Pod, Service } from './node-runtime.ts';
import type { EventRecorder } from '../../model/timeline.ts';

export const TEST_SWITCH_DELAY_ENV = 'MIGBENCH_TEST_SWITCH_DELAY_MS';

export interface TestSwitchDelay {
  /** Only this strategy's moves are delayed; undefined: every strategy's. */
  strategy?: string;
  delayMs: number;
}

/** The knob as set in the environment: undefined when unset, a problem (for exit 2) when malformed. */
export function readTestSwitchDelay(env: NodeJS.ProcessEnv = process.env): { delay?: TestSwitchDelay; problem?: string } {
  const text = env[TEST_SWITCH_DELAY_ENV];
  if (text === undefined || text === '') return {};
  const m = /^(?:([a-z][a-z0-9-]*)=)?(\d+(?:\.\d+)?)$/.exec(text.trim());
  if (!m)
    return {
      problem: `${TEST_SWITCH_DELAY_ENV}=${JSON.stringify(text)}: expected milliseconds (e.g. 80) or STRATEGY=MS (e.g. criu=80); unset it for a real measurement`,
    };
  return { delay: { ...(m[1] ? { strategy: m[1] } : {}), delayMs: Number(m[2]) } };
}

/**
 * The platform as one move of `strategyName` sees it: with the knob set for this strategy, each
 * switch to a pod first sleeps the delay. Switches to no endpoint (the start of an outage) are not
 * delayed — that would shorten nothing and lengthen the outage by less than the delay.
 */
export function withTestSwitchDelay<P extends LocalNodeRuntime>(platform: P, strategyName: string, delay: TestSwitchDelay | undefined): P {
  if (!delay || (delay.strategy !== undefined && delay.strategy !== strategyName)) return platform;
  return new Proxy(platform, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (property === 'setServiceEndpoint') {
        return async (service: Service, pod: Pod | null, events: EventRecorder) => {
          if (pod) {
            events.emit('platform:local', 'test_switch_delay', `${delay.delayMs} ms (${TEST_SWITCH_DELAY_ENV})`);
            await sleep(delay.delayMs);
          }
          return target.setServiceEndpoint(service, pod, events);
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}
