// A workload: how to run an app as a pod, how to tell it is ready, how to load it with data, and
// which probes measure it. Platform-neutral: it speaks in PodSpecs and endpoints.
import type { PodSpec } from '../model/pod-spec.ts';
import type { Endpoint } from '../model/endpoint.ts';
import type { Probe, ProbeOptions } from '../probes/probe.ts';

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
