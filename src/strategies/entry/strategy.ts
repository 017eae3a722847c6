// A strategy moves a running pod to another node and reports its phases as events. It gets the
// platform; the platform never knows which strategy is using it.
import type { LocalNodeRuntime, Pod, Service } from '../../platforms/local/node-runtime.ts';
import type { CriuStats } from '../../model/criu-stats.ts';
import type { EventRecorder } from '../../model/timeline.ts';
import type { Endpoint } from '../../model/endpoint.ts';
import type { PodSpec } from '../../model/pod-spec.ts';

/** What a local move needs of the workload (a Workload is one): its pod, its port, when it answers. */
interface MovedWorkload {
  readonly name: string;
  readonly port: number;
  podSpec(): PodSpec;
  waitReady(endpoint: Endpoint, timeoutMs: number, signal?: AbortSignal): Promise<void>;
}

export interface MigrationContext {
  platform: LocalNodeRuntime;
  workload: MovedWorkload;
  /** The pod serving now, on the source node. */
  pod: Pod;
  service: Service;
  targetNode: string;
  events: EventRecorder;
  readyTimeoutMs: number;
  signal: AbortSignal;
}

export interface MigrationOutcome {
  /** The pod serving at the end, on the target node. */
  pod: Pod;
  criu?: CriuStats;
  checkpointBytes?: number;
}

export interface Strategy {
  readonly name: string;
  /**
   * Why this strategy cannot run on this platform and host (asked once, before any trial), or
   * undefined if it can. Its trials are then recorded as `unsupported` with the reason, not run.
   */
  unsupportedReason?(platform: LocalNodeRuntime): Promise<string | undefined>;
  migrate(context: MigrationContext): Promise<MigrationOutcome>;
}
