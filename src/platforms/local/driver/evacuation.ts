// An evacuation's steps on the local platform: one LocalTrialSteps per pod (each its own volumes,
// pod and service on the source node, moved by the strategy to its target), and the source node
// cordoned for the whole evacuation, as node maintenance does before it moves anything. A drain's
// own cordon and uncordon of that node (one per pod, possibly overlapping) nest inside the
// evacuation's: the node stays cordoned until the last pod is gone.
import type { EvacuationSteps } from '../../../runner/evacuation.ts';
import type { EventRecorder } from '../../../model/timeline.ts';
import type { Strategy } from '../../../strategies/entry/strategy.ts';
import type { TrialTiming } from '../../../runner/trial.ts';
import type { Workload } from '../../../workloads/workload.ts';
import type { LocalNodeRuntime } from '../node-runtime.ts';
import { LocalTrialSteps } from './trial.ts';

export interface LocalEvacuationSetup {
  platform: LocalNodeRuntime;
  /** Each pod's workload and the node it moves to, in the evacuation's order. */
  pods: { workload: Workload; target: string; strategy: Strategy }[];
  from: string;
  timing: TrialTiming;
}

/**
 * The platform with cordons counted per node: the node is cordoned by the first cordon and
 * uncordoned by the last matching uncordon, so overlapping drains cannot uncordon it under each other.
 */
export function nestedCordons<P extends LocalNodeRuntime>(platform: P): P {
  const holds = new Map<string, number>();
  return new Proxy(platform, {
    get(target, property, receiver) {
      if (property === 'cordon') {
        return async (node: string, events: EventRecorder) => {
          const held = holds.get(node) ?? 0;
          holds.set(node, held + 1);
          if (held === 0) await target.cordon(node, events);
        };
      }
      if (property === 'uncordon') {
        return async (node: string, events: EventRecorder) => {
          const held = holds.get(node) ?? 0;
          if (held === 0) return;
          holds.set(node, held - 1);
          if (held === 1) await target.uncordon(node, events);
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

export class LocalEvacuationSteps implements EvacuationSteps {
  private readonly setup: LocalEvacuationSetup;
  private readonly platform: LocalNodeRuntime;
  private readonly pods: LocalTrialSteps[];

  constructor(setup: LocalEvacuationSetup) {
    this.setup = setup;
    this.platform = nestedCordons(setup.platform);
    this.pods = setup.pods.map(
      (p) => new LocalTrialSteps({ platform: this.platform, workload: p.workload, strategy: p.strategy, from: setup.from, to: p.target, timing: setup.timing }),
    );
  }

  get strategyName(): string {
    return this.pods[0]!.strategyName;
  }

  deploy(index: number, events: EventRecorder, signal: AbortSignal) {
    return this.pods[index]!.deploy(events, signal);
  }

  async begin(events: EventRecorder): Promise<void> {
    await this.platform.cordon(this.setup.from, events);
  }

  migrate(index: number, events: EventRecorder, signal: AbortSignal) {
    return this.pods[index]!.migrate(events, signal);
  }

  async end(events: EventRecorder): Promise<void> {
    await this.platform.uncordon(this.setup.from, events);
  }

  /** Each pod's teardown, the last deployed first; every failure listed. */
  async teardown(signal: AbortSignal): Promise<string[]> {
    const errors: string[] = [];
    for (const pod of [...this.pods].reverse()) errors.push(...(await pod.teardown(signal)));
    return errors;
  }
}
