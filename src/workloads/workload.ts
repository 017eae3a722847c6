// A workload: how to run an app as a pod, how to tell it is ready, how to load it with data, and
// which probes measure it. Platform-neutral: it speaks in PodSpecs and endpoints.
import type { Endpoint } from '../system/endpoint.ts';
import type { Probe, ProbeOptions } from '../probes/probe.ts';

export interface VolumeMount {
  /** Volume name, unique within a run; the same name on another node is the same data (shared store). */
  volume: string;
  /** Where the volume appears inside the pod. */
  mountPath: string;
}

/** What to run: the platform-neutral part of a pod, produced by a workload. */
export interface PodSpec {
  /** Workload instance name; pods are named after it. */
  app: string;
  command: string[];
  env?: Record<string, string>;
  /** The port the app serves inside the pod; the service forwards to it. */
  port: number;
  volumes: VolumeMount[];
  /**
   * The app's own code, read-only — what a container image adds on top of the base system. On the
   * local platform a host directory (e.g. workloads/video) bind-mounted at `mountPath`.
   */
  code?: { hostPath: string; mountPath: string };
}

/** What loading the data set measured. */
export interface PreparedData {
  /** Bytes the loaded data set occupies in the app (Redis: INFO used_memory). */
  datasetBytes?: number;
}

export interface Workload {
  /** Instance name from the scenario (trials.csv `workload`). */
  readonly name: string;
  readonly type: string;
  /** The port the app listens on inside its pod. */
  readonly port: number;
  /** Volumes the pod mounts; created empty before the first pod starts. */
  volumes(): string[];
  podSpec(): PodSpec;
  /** Resolves once the app answers at `endpoint`; rejects after `timeoutMs`. */
  waitReady(endpoint: Endpoint, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Loads the app with its data set (before probing starts); says how big it turned out, when the app can tell. */
  prepare(endpoint: Endpoint, signal?: AbortSignal): Promise<PreparedData | void>;
  probes(service: Endpoint, options: ProbeOptions): Probe[];
}
