// What ties a trial to the evacuation it was part of (one pod of a loaded node emptied at once),
// and the evacuation's own figures, which its last pod's result carries to evacuations.csv.

/** The evacuation a pod's trial belongs to (trials.csv's evacuation columns). */
export interface EvacuationMembership {
  /** 1-based number of the evacuation in the run (warm-ups included). */
  id: number;
  /** Pods the evacuation moved. */
  pods: number;
  /** At most this many pods moved at once. */
  concurrency: number;
  /** This pod's name (`<workload>-p<i>`). */
  pod: string;
  /** The node this pod moves to. */
  target: string;
}

/** One evacuation's figures, over all its pods (metrics/evacuation.ts computes them). */
export interface EvacuationSummary {
  id: number;
  strategy: string;
  repetition: number;
  warmup: boolean;
  pods: number;
  concurrency: number;
  targets: string[];
  /** Trigger → the last pod serving again after its move; undefined when a pod never did. */
  totalMs?: number;
  downtimeP50Ms?: number;
  downtimeP99Ms?: number;
  downtimeMaxMs?: number;
  podsFailed: number;
  /** Checkpoint images written, all pods together (criu strategies; 0 for the others). */
  bytesMoved: number;
  /** migbench's own process CPU over the evacuation (deploy to teardown): user + system ms, and the share of one core. */
  harnessCpuMs?: number;
  harnessCpuPercent?: number;
}
