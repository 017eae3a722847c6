// The scenario file's schema: the one place that says which fields exist, their defaults and
// their limits. The strategies' options and names come from their registry (src/strategies/registry.ts)
// so the schema cannot drift from the implementations.
import { z } from 'zod';
import { strategySchema } from '../strategies/registry.ts';
import { sweepSchema } from './sweep.ts';

// The strategies' schemas, names and label come from their registry (src/strategies/registry.ts);
// re-exported here for the code that reads them as the scenario's.
export {
  kubernetesStrategyNames, strategyLabel, strategyNames, strategyObjectSchema, strategySchema,
  type StrategyConfig, type StrategyName,
} from '../strategies/registry.ts';

const name = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,30}$/, 'a lower-case name of letters, digits and dashes (max 31), starting with a letter');

/** The probe settings' limits, shared by the scenario's `probe` and a workload's override. */
const probeFields = {
  /** Open-loop tick interval. */
  intervalMs: z.number().min(1).max(60_000),
  /** Per-request timeout; defaults to the interval (so an outage shows as failures, not latency). */
  timeoutMs: z.number().min(1).max(60_000),
  /**
   * A client's failure detection: a connection that answered nothing for this long is dropped
   * and a new one opened. Defaults to max(50, 10 × intervalMs). Bounds how late a probe notices
   * that its old connection leads nowhere (e.g. to the frozen source pod).
   */
  reconnectAfterMs: z.number().min(1).max(60_000),
  /** Give up a connection attempt after this long; defaults to max(50, 10 × intervalMs). */
  connectTimeoutMs: z.number().min(1).max(60_000),
};

/** How the probes sample the service (scenario-wide; a workload may override any field). */
export const probeSchema = z
  .object({
    intervalMs: probeFields.intervalMs.default(5),
    timeoutMs: probeFields.timeoutMs.optional(),
    reconnectAfterMs: probeFields.reconnectAfterMs.optional(),
    connectTimeoutMs: probeFields.connectTimeoutMs.optional(),
  })
  .strict();

/**
 * A workload's own probe settings, each over the scenario's (e.g. a slower poll for a Python
 * server than for Redis). No defaults: what is left out comes from the scenario's `probe`.
 */
const probeOverride = z
  .object({
    intervalMs: probeFields.intervalMs.optional(),
    timeoutMs: probeFields.timeoutMs.optional(),
    reconnectAfterMs: probeFields.reconnectAfterMs.optional(),
    connectTimeoutMs: probeFields.connectTimeoutMs.optional(),
  })
  .strict()
  .optional();

/** The Redis fields a scenario may also sweep (src/scenario/sweep.ts), each checked the same way there. */
const redisKeys = z.number().int().min(0).max(100_000_000);
const redisValueBytes = z.number().int().min(1).max(1_048_576);
const redisDatasetMiB = z.number().int().min(1).max(65_536);

export const redisWorkloadSchema = z
  .object({
    type: z.literal('redis'),
    /** Instance name; defaults to the type. Used in trials.csv's `workload` column. */
    name: name.optional(),
    /** Keys written before the trial starts. */
    keys: redisKeys.default(10_000),
    /** Size of each value in bytes. */
    valueBytes: redisValueBytes.default(64),
    /**
     * Instead of `keys`: load this many MiB of values (keys = datasetMiB × 2^20 / valueBytes), random
     * bytes that no RDB compression shrinks, then compact the AOF, so a fresh pod reloads as many
     * bytes as CRIU copies. For sweeps of the data set's size.
     */
    datasetMiB: redisDatasetMiB.optional(),
    sweep: sweepSchema('redis', { datasetMiB: redisDatasetMiB, keys: redisKeys, valueBytes: redisValueBytes }),
    /** Redis' appendfsync: how often the AOF is fsynced. */
    appendfsync: z.enum(['always', 'everysec', 'no']).default('everysec'),
    probe: probeOverride,
  })
  .strict();

const videoBitrateKbps = z.number().int().min(50).max(100_000);

export const videoWorkloadSchema = z
  .object({
    type: z.literal('video'),
    name: name.optional(),
    /** Frames per second of the live stream. */
    fps: z.number().int().min(1).max(120).default(25),
    /** Stream bitrate; frame sizes follow a GOP pattern (a large key frame, smaller delta frames) averaging this. */
    bitrateKbps: videoBitrateKbps.default(2_000),
    /** Key frame every this many frames. */
    gopFrames: z.number().int().min(1).max(600).default(50),
    /** Playback buffer of the simulated player, for video_rebuffer_ms. */
    playerBufferMs: z.number().int().min(0).max(60_000).default(2_000),
    sweep: sweepSchema('video', { bitrateKbps: videoBitrateKbps }),
    probe: probeOverride,
  })
  .strict();

const mlModelWidth = z.number().int().min(1).max(512);

export const mlTrainingWorkloadSchema = z
  .object({
    type: z.literal('ml-training'),
    name: name.optional(),
    /** Images in the generated data set (class-dependent synthetic patterns plus noise). */
    datasetImages: z.number().int().min(64).max(1_000_000).default(4_096),
    /** Image side in pixels (RGB). */
    imageSize: z.number().int().min(8).max(256).default(32),
    classes: z.number().int().min(2).max(1_000).default(10),
    batchSize: z.number().int().min(1).max(4_096).default(32),
    /** Channels of the CNN's first convolution (doubles in the second): the model's size. */
    modelWidth: mlModelWidth.default(16),
    /** Save weights and optimizer state to the volume every this many steps. */
    saveEverySteps: z.number().int().min(1).max(1_000_000).default(100),
    /** PyTorch intra-op threads (one per node's CPU share). */
    threads: z.number().int().min(1).max(256).default(1),
    sweep: sweepSchema('ml-training', { modelWidth: mlModelWidth }),
    probe: probeOverride,
  })
  .strict();

export const workloadSchema = z.discriminatedUnion('type', [redisWorkloadSchema, videoWorkloadSchema, mlTrainingWorkloadSchema]);

export const localPlatformSchema = z
  .object({
    /** Pod network: the bridge takes .1, pods the rest. RFC 2544's benchmarking range by default. */
    subnet: z
      .string()
      .regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/, 'an IPv4 /24 written as a.b.c.0/24')
      // The pattern allows 300.1.0.0/24; ip(8) would then fail half-way through the first trial.
      .refine((s) => s.split('.').slice(0, 3).every((o) => Number(o) <= 255), 'an IPv4 /24 whose octets are 0–255, e.g. 198.18.0.0/24')
      .default('198.18.0.0/24'),
    /** The shared checkpoint directory standing in for the NFS share of the original setup. */
    checkpointDir: z.string().min(1).default('/var/lib/migbench/store'),
    /**
     * What the checkpoint images are written to: disk (the directory's file system) or tmpfs (a
     * tmpfs mounted over its checkpoints/ and nodes/ for the run), to see how much of a dump is
     * storage rather than CRIU.
     */
    checkpointStore: z.enum(['disk', 'tmpfs']).default('disk'),
    /**
     * Who drives CRIU for every CRIU strategy that does not say (its own `runtime`): runc (default:
     * runc checkpoint / runc restore, as Kubernetes' runtimes do) or criu (CRIU's command line run by
     * the platform with the options runc would pass — src/platforms/local/criu-direct.ts), to see
     * what runc adds to the downtime.
     */
    runtime: z.enum(['runc', 'criu']).default('runc'),
    /**
     * An emulated node-to-node network for CRIU's transfers: each node gets a namespace behind a
     * veth pair shaped to this bandwidth (tc tbf), and whatever a migration sends to the target
     * crosses it — the page server's and the lazy-pages daemon's pages, and for `criu` the images
     * (the store is then across the network, as NFS is). Without it they run over loopback.
     */
    nodeLink: z.object({ bandwidthMbit: z.number().min(1).max(100_000) }).strict().optional(),
  })
  .strict();

/** The `kubernetes` platform: which cluster, where the workloads go, how the probes reach them. */
export const kubernetesPlatformSchema = z
  .object({
    /** Kubeconfig file; default: $KUBECONFIG, else ~/.kube/config. */
    kubeconfig: z.string().min(1).optional(),
    /** Context in the kubeconfig; default: its current-context. */
    context: z.string().min(1).optional(),
    /** Everything migbench creates goes here, and it touches nothing outside it (except cordoning nodes for drain). */
    namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'a Kubernetes namespace name (lower-case letters, digits, dashes)').default('migbench'),
    /**
     * Where the probes reach the workload's Service from here (a NodePort, a LoadBalancer or a
     * port-forward), e.g. 10.0.0.5:30379. Without it the app probes are skipped.
     */
    address: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'host:port, e.g. 10.0.0.5:30379').optional(),
    /**
     * A node's address: the probes reach each workload at <nodeAddress>:<its Service's nodePort>
     * (from workloads/<type>/k8s.yaml), so one scenario can probe several workloads. E.g. a
     * `migbench cluster` node, 198.19.240.10. Not with `address`.
     */
    nodeAddress: z.string().regex(/^[^\s:/]+$/, 'a host name or IPv4 address, without a port').optional(),
    /** false: no app probes (e.g. a simulated cluster whose pods run no app); only pod lifecycle figures. */
    probes: z.boolean().default(true),
    /** The node the pod starts on; default: the first schedulable worker. */
    sourceNode: z.string().min(1).optional(),
    /** The node it moves to; default: the first schedulable worker other than the source. */
    targetNode: z.string().min(1).optional(),
    /** Allow draining a control-plane node (refused otherwise). */
    forceControlPlane: z.boolean().default(false),
    /**
     * kubelet-checkpoint calls each node's kubelet (port 10250) and verifies its certificate against
     * the kubeconfig's CA; true accepts any certificate, for kubelets with their default self-signed one.
     */
    kubeletInsecureTls: z.boolean().default(false),
  })
  .strict();

export const scenarioSchema = z
  .object({
    name: name.optional(),
    description: z.string().optional(),
    platform: z.enum(['local', 'kubernetes']).default('local'),
    local: localPlatformSchema.default(() => localPlatformSchema.parse({})),
    kubernetes: kubernetesPlatformSchema.optional(),
    /** Node names; the pod starts on `migration.from` and moves to `migration.to`. */
    nodes: z.array(name).min(2).default(['node-a', 'node-b']),
    migration: z
      .object({ from: name.optional(), to: name.optional() })
      .strict()
      .default({}),
    workloads: z.array(workloadSchema).min(1),
    strategies: z.array(strategySchema).min(1),
    repetitions: z.number().int().min(1).max(10_000).default(3),
    /** Trials per workload × strategy run first and marked warmup=true in trials.csv. */
    warmup: z.number().int().min(0).max(100).default(0),
    /** Seeds the randomized, interleaved trial order, so a run's order can be reproduced. */
    seed: z.number().int().min(0).max(2 ** 32 - 1).default(1),
    timing: z
      .object({
        /** Probing before the trigger, so the baseline is in the samples. */
        settleMs: z.number().int().min(0).max(600_000).default(2_000),
        /** Probing after the strategy finished, so the recovery is in the samples. */
        observeMs: z.number().int().min(0).max(600_000).default(3_000),
        /** How long a pod may take to become ready before the trial fails. */
        readyTimeoutMs: z.number().int().min(100).max(3_600_000).default(60_000),
      })
      .strict()
      .default(() => ({ settleMs: 2_000, observeMs: 3_000, readyTimeoutMs: 60_000 })),
    probe: probeSchema.default(() => probeSchema.parse({})),
    /** How `migbench compare` judges a later run against this one (nightly CI). */
    compare: z
      .object({
        /** Significance level of the Mann–Whitney test. */
        alpha: z.number().gt(0).lt(1).default(0.05),
        /** Per metric: `+10%` (relative) or `+50` (metric units); `+` = a rise is worse. Others: `+10%`. */
        thresholds: z.record(z.string(), z.string().regex(/^[+-]?\d+(\.\d+)?%?$/, 'a threshold like +10% or +50')).default({}),
      })
      .strict()
      .default(() => ({ alpha: 0.05, thresholds: {} })),
    output: z
      .object({
        /** Parent directory of each run's results directory (`<dir>/<run-id>/`). */
        dir: z.string().min(1).default('results'),
      })
      .strict()
      .default(() => ({ dir: 'results' })),
  })
  .strict();

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type Scenario = z.output<typeof scenarioSchema>;
export type WorkloadConfig = z.output<typeof workloadSchema>;
export type RedisWorkloadConfig = z.output<typeof redisWorkloadSchema>;
export type VideoWorkloadConfig = z.output<typeof videoWorkloadSchema>;
export type MlTrainingWorkloadConfig = z.output<typeof mlTrainingWorkloadSchema>;

export type KubernetesPlatformConfig = z.output<typeof kubernetesPlatformSchema>;
