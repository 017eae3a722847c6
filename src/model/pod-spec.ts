// What to run as a pod, platform-neutral: the command, its environment, its port, its volumes and
// its code. A workload produces it; the local platform runs it (a cluster runs the workload's own
// manifest instead).

interface VolumeMount {
  /** Volume name, unique within a run; the same name on another node is the same data (shared store). */
  volume: string;
  /** Where the volume appears inside the pod. */
  mountPath: string;
}

/** What to run: the platform-neutral part of a pod, produced by a workload. */
export interface PodSpec {
  /** Workload instance name; pods are named after it. */
  app: string;
  /** The program: what a container image's entrypoint is (redis-server; python3 and its script). */
  command: string[];
  /**
   * The app's flags, from the workload's options, after `command`. On a cluster they are the
   * container's args (the image's entrypoint is `command`), so every option and sweep applies there too.
   */
  args?: string[];
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
