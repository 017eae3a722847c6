// The scenario file's schema: the one place that says which fields exist, their defaults and
// their limits. Workload, strategy and platform names come from the registries so the schema's
// enums cannot drift from the implementations.
import { z } from 'zod';
import { sweepSchema } from './sweep.ts';

// Descriptions are `.describe()` metadata rather than comments so that docs/scenarios.md is generated
// from them (`npm run docs`, scripts/gen-docs.ts) and cannot drift from the schema.
const name = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,30}$/, 'a lower-case name of letters, digits and dashes (max 31), starting with a letter');

/** The probe settings' limits, shared by the scenario's `probe` and a workload's override. */
const probeFields = {
  intervalMs: z.number().min(1).max(60_000).describe('Open-loop tick interval, ms: the resolution of downtime_ms.'),
  timeoutMs: z
    .number()
    .min(1)
    .max(60_000)
    .describe('Per-request timeout, ms; defaults to the interval (so an outage shows as failures, not latency).'),
  reconnectAfterMs: z
    .number()
    .min(1)
    .max(60_000)
    .describe(
      "A client's failure detection, ms: a connection that answered nothing for this long is dropped and a new one opened. " +
        'Defaults to max(50, 10 × intervalMs). Bounds how late a probe notices that its old connection leads nowhere (e.g. to the frozen source pod).',
    ),
  connectTimeoutMs: z.number().min(1).max(60_000).describe('Give up a connection attempt after this long, ms; defaults to max(50, 10 × intervalMs).'),
};

export const probeSchema = z
  .object({
    intervalMs: probeFields.intervalMs.default(5),
    timeoutMs: probeFields.timeoutMs.optional(),
    reconnectAfterMs: probeFields.reconnectAfterMs.optional(),
    connectTimeoutMs: probeFields.connectTimeoutMs.optional(),
  })
  .strict()
  .describe('How the probes sample the service (scenario-wide; a workload may override any field).');

// No defaults: what a workload leaves out comes from the scenario's `probe`.
const probeOverride = z
  .object({
    intervalMs: probeFields.intervalMs.optional(),
    timeoutMs: probeFields.timeoutMs.optional(),
    reconnectAfterMs: probeFields.reconnectAfterMs.optional(),
    connectTimeoutMs: probeFields.connectTimeoutMs.optional(),
  })
  .strict()
  .describe("This workload's own probe settings, each over the scenario's `probe` (e.g. a slower poll for a Python server than for Redis).")
  .optional();

const workloadName = name.describe("Instance name; defaults to the type. Used in trials.csv's `workload` column.");

/** The Redis fields a scenario may also sweep (src/scenario/sweep.ts), each checked the same way there. */
const redisKeys = z.number().int().min(0).max(100_000_000);
const redisValueBytes = z.number().int().min(1).max(1_048_576);
const redisDatasetMiB = z.number().int().min(1).max(65_536);

export const redisWorkloadSchema = z
  .object({
    type: z.literal('redis'),
    name: workloadName.optional(),
    keys: redisKeys.describe('Keys written before each trial.').default(10_000),
    valueBytes: redisValueBytes.describe('Size of each value in bytes.').default(64),
    datasetMiB: redisDatasetMiB
      .describe(
        'Instead of `keys`: load this many MiB of values (keys = datasetMiB × 2^20 / valueBytes), random bytes that no RDB compression shrinks, ' +
          'then compact the AOF, so a fresh pod reloads as many bytes as CRIU copies. For sweeps of the data set\'s size.',
      )
      .optional(),
    sweep: sweepSchema('redis', { datasetMiB: redisDatasetMiB, keys: redisKeys, valueBytes: redisValueBytes }),
    appendfsync: z.enum(['always', 'everysec', 'no']).describe("Redis' appendfsync: how often the AOF is fsynced.").default('everysec'),
    probe: probeOverride,
  })
  .strict()
  .describe('`redis-server` with AOF persistence (no RDB snapshots), its data on a volume in the shared store, loaded before each trial. Probe: one write + read-back per tick on a persistent connection.');

const videoBitrateKbps = z.number().int().min(50).max(100_000);

export const videoWorkloadSchema = z
  .object({
    type: z.literal('video'),
    name: workloadName.optional(),
    fps: z.number().int().min(1).max(120).describe('Frames per second of the live stream.').default(25),
    bitrateKbps: videoBitrateKbps
      .describe('Stream bitrate, kbit/s; frame sizes follow a GOP pattern (a large key frame, smaller delta frames) averaging this.')
      .default(2_000),
    gopFrames: z.number().int().min(1).max(600).describe('Key frame every this many frames.').default(50),
    playerBufferMs: z.number().int().min(0).max(60_000).describe('Playback buffer of the simulated player, ms, for video_rebuffer_ms.').default(2_000),
    sweep: sweepSchema('video', { bitrateKbps: videoBitrateKbps }),
    probe: probeOverride,
  })
  .strict()
  .describe('A live stream over HTTP (workloads/video/server.py). Probe: a player holding /stream open, plus GET /healthz open loop every tick.');

const mlModelWidth = z.number().int().min(1).max(512);

export const mlTrainingWorkloadSchema = z
  .object({
    type: z.literal('ml-training'),
    name: workloadName.optional(),
    datasetImages: z
      .number()
      .int()
      .min(64)
      .max(1_000_000)
      .describe('Images in the generated data set (class-dependent synthetic patterns plus noise).')
      .default(4_096),
    imageSize: z.number().int().min(8).max(256).describe('Image side in pixels (RGB).').default(32),
    classes: z.number().int().min(2).max(1_000).describe('Classes of the generated data set.').default(10),
    batchSize: z.number().int().min(1).max(4_096).describe('Images per training step.').default(32),
    modelWidth: mlModelWidth.describe("Channels of the CNN's first convolution (doubles in the second): the model's size.").default(16),
    saveEverySteps: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .describe('Save weights and optimizer state to the volume every this many steps.')
      .default(100),
    threads: z.number().int().min(1).max(256).describe("PyTorch intra-op threads (one per node's CPU share).").default(1),
    sweep: sweepSchema('ml-training', { modelWidth: mlModelWidth }),
    probe: probeOverride,
  })
  .strict()
  .describe('A PyTorch CNN trained on a generated data set (workloads/ml-training/train.py, CPU). Probe: polls GET /progress open loop.');

export const workloadSchema = z.discriminatedUnion('type', [redisWorkloadSchema, videoWorkloadSchema, mlTrainingWorkloadSchema]);

/** Options of every CRIU strategy. */
const criuFields = {
  /**
   * new: the restored pod gets a new IP and CRIU closes its established TCP connections (clients
   * reconnect), as the podmigration-operator does. preserve: it keeps the source pod's IP and MAC,
   * and `--tcp-established` carries open connections over, so clients keep them through the move.
   */
  ip: z.enum(['new', 'preserve']).default('new'),
  /**
   * criu: CRIU freezes the pod's cgroup itself (it polls the freezer in 100 ms steps). harness: the
   * platform freezes the cgroup and polls it finely before runc starts CRIU, which then only seizes
   * the frozen tasks. action-script: the same, done by CRIU's pre-dump action script, once runc has
   * started CRIU (src/platforms/local/freezer.ts). Local platform only.
   */
  freezer: z.enum(['criu', 'harness', 'action-script']).default('criu'),
  /**
   * When the target pod (its network namespace, veth, address and runc bundle) is made:
   * after-dump (default), between the dump and the restore, as before; before-dump, while the source
   * still serves, so that the outage does not include it (ip: new only; with ip: preserve the
   * address is the source's until its dump). Local platform only.
   */
  targetPod: z.enum(['after-dump', 'before-dump']).default('after-dump'),
  /**
   * The pipes CRIU writes pages through: sysctl (default) leaves them at what fs.pipe-max-size allows
   * (1 MiB by default: CRIU under runc may not exceed it); large raises the sysctl to the 4 MiB CRIU
   * asks for (page-pipe.h: 819 pages) for this dump only, putting it back after. Local platform only.
   */
  pagePipes: z.enum(['sysctl', 'large']).default('sysctl'),
  /**
   * Who drives CRIU for this strategy: runc (runc checkpoint / runc restore) or criu (the platform
   * runs CRIU's command line itself with the options runc would pass; not for criu-lazy). Unset: the
   * platform's `local.runtime`. Local platform only.
   */
  runtime: z.enum(['runc', 'criu']).optional(),
};

/** Stop-and-copy through the shared checkpoint store (the original setup's NFS share). */
export const criuStrategySchema = z.object({ name: z.literal('criu'), ...criuFields }).strict();

/** Post-copy: the target resumes before the memory has arrived; pages follow on demand from the source. */
export const criuLazyStrategySchema = z
  .object({
    name: z.literal('criu-lazy'),
    ...criuFields,
    // Post-copy needs runc's lazy dump plumbing (status fd, page server kept running); criu-direct.ts has none.
    runtime: z.enum(['runc']).optional(),
  })
  .strict();

/** Memory pages stream straight to a page server on the target node; no shared store for them. */
export const criuPageserverStrategySchema = z.object({ name: z.literal('criu-pageserver'), ...criuFields }).strict();

/** Pre-copy: memory is copied while the pod runs, then a final dump sends only what changed. */
export const criuPrecopyStrategySchema = z
  .object({
    name: z.literal('criu-precopy'),
    ...criuFields,
    /** Pre-dump rounds before the final dump. */
    preDumps: z.number().int().min(1).max(10).default(2),
  })
  .strict();

export const redeployStrategySchema = z
  .object({
    name: z.literal('redeploy'),
    /** SIGTERM, then SIGKILL after this many seconds (Kubernetes' terminationGracePeriodSeconds). */
    gracePeriodSeconds: z.number().min(0).max(3600).default(30),
  })
  .strict();

export const drainStrategySchema = z
  .object({
    name: z.literal('drain'),
    /** The evicted pod gets SIGTERM, then SIGKILL after this many seconds. */
    gracePeriodSeconds: z.number().min(0).max(3600).default(30),
    /**
     * Who replaces the evicted pod. deployment: a ReplicaSet creates the replacement at once, while
     * the old pod terminates; statefulset: the replacement is created only once the old pod is gone.
     */
    controller: z.enum(['deployment', 'statefulset']).default('deployment'),
  })
  .strict();

/**
 * `podmigration` (kubernetes platform): the SSU-DCN podmigration-operator's live migration, asked
 * for through its custom resource (`api: resource`) or its REST API (`api: rest`, `restUrl`).
 */
export const podmigrationStrategySchema = z
  .object({
    name: z.literal('podmigration'),
    /** resource: create a `Podmigration` (podmig.dcn.ssu.ac.kr/v1); rest: POST /Podmigrations to the operator's API server. */
    api: z.enum(['resource', 'rest']).default('resource'),
    /** The operator's REST API (its api-server listens on port 5000), e.g. http://10.0.0.1:5000; required with api: rest. */
    restUrl: z.string().regex(/^https?:\/\/[^\s/]+(\/.*)?$/, 'an http(s) URL such as http://10.0.0.1:5000').optional(),
    /** spec.snapshotPath: where the kubelet writes the checkpoint (the NFS share of the original setup). */
    snapshotPath: z.string().min(1).default('/var/lib/kubelet/migration'),
  })
  .strict();

/**
 * `kubelet-checkpoint` (kubernetes platform): Kubernetes' own checkpoint/restore (KEP-2008) — the
 * kubelet's checkpoint API on the source node, the archive to the shared store, a checkpoint image
 * imported into the target node's containerd, a pod created from it there.
 */
export const kubeletCheckpointStrategySchema = z
  .object({
    name: z.literal('kubelet-checkpoint'),
    /** The kubelet's checkpoint call may take this long (it dumps the container and writes the archive). */
    checkpointTimeoutSeconds: z.number().int().min(1).max(3600).default(120),
  })
  .strict();

export const strategyObjectSchema = z.discriminatedUnion('name', [
  criuStrategySchema, criuLazyStrategySchema, criuPageserverStrategySchema, criuPrecopyStrategySchema,
  redeployStrategySchema, drainStrategySchema, podmigrationStrategySchema, kubeletCheckpointStrategySchema,
]);
export const strategyNames = ['criu', 'criu-lazy', 'criu-pageserver', 'criu-precopy', 'redeploy', 'drain', 'podmigration', 'kubelet-checkpoint'] as const;
export type StrategyName = (typeof strategyNames)[number];
/** The strategies the kubernetes platform has (the others run on the local platform only). */
export const kubernetesStrategyNames = ['podmigration', 'drain', 'redeploy', 'kubelet-checkpoint'] as const satisfies readonly StrategyName[];

/** A strategy is named by a string (defaults for every option) or given as an object with options. */
export const strategySchema = z.union([
  z.enum(strategyNames).transform((n) => strategyObjectSchema.parse({ name: n })),
  strategyObjectSchema,
]);

export const localPlatformSchema = z
  .object({
    subnet: z
      .string()
      .regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/, 'an IPv4 /24 written as a.b.c.0/24')
      // The pattern allows 300.1.0.0/24; ip(8) would then fail half-way through the first trial.
      .refine((s) => s.split('.').slice(0, 3).every((o) => Number(o) <= 255), 'an IPv4 /24 whose octets are 0–255, e.g. 198.18.0.0/24')
      .describe("Pod network: the bridge takes .1, pods the rest. RFC 2544's benchmarking range by default.")
      .default('198.18.0.0/24'),
    checkpointDir: z
      .string()
      .min(1)
      .describe('The shared checkpoint directory standing in for the NFS share of the original setup; volumes live there too.')
      .default('/var/lib/migbench/store'),
    checkpointStore: z
      .enum(['disk', 'tmpfs'])
      .describe(
        "What the checkpoint images are written to: disk (the directory's file system) or tmpfs (a tmpfs mounted over its checkpoints/ and nodes/ for the run), " +
          'to see how much of a dump is storage rather than CRIU.',
      )
      .default('disk'),
    runtime: z
      .enum(['runc', 'criu'])
      .describe(
        'Who drives CRIU for every CRIU strategy that does not say (its own `runtime`): runc (runc checkpoint / runc restore, as Kubernetes\' runtimes do) ' +
          "or criu (CRIU's command line run by the platform with the options runc would pass — src/platforms/local/criu-direct.ts), to see what runc adds to the downtime.",
      )
      .default('runc'),
    nodeLink: z
      .object({ bandwidthMbit: z.number().min(1).max(100_000).describe('The link\'s bandwidth in Mbit/s, both directions (tc tbf).') })
      .strict()
      .describe(
        'An emulated node-to-node network for CRIU\'s transfers: each node gets a namespace behind a veth pair shaped to this bandwidth, and whatever a migration ' +
          "sends to the target crosses it — the page server's and the lazy-pages daemon's pages, and for `criu` the images (the store is then across the network, as NFS is). " +
          'Without it they run over loopback.',
      )
      .optional(),
  })
  .strict()
  .describe('The local platform: nodes are CPU shares of this host, pods runc containers, a service an iptables DNAT rule.');

export const kubernetesPlatformSchema = z
  .object({
    kubeconfig: z.string().min(1).describe('Kubeconfig file; default: $KUBECONFIG, else ~/.kube/config (flag: --kubeconfig).').optional(),
    context: z.string().min(1).describe("Context in the kubeconfig; default: its current-context (flag: --context).").optional(),
    namespace: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'a Kubernetes namespace name (lower-case letters, digits, dashes)')
      .describe('Everything migbench creates goes here, and it touches nothing outside it (except cordoning nodes for drain) (flag: --namespace).')
      .default('migbench'),
    address: z
      .string()
      .regex(/^[^\s:]+:\d{1,5}$/, 'host:port, e.g. 10.0.0.5:30379')
      .describe(
        "Where the probes reach the workload's Service from here (a NodePort, a LoadBalancer or a port-forward), e.g. 10.0.0.5:30379. Without it (and without nodeAddress) the app probes are skipped.",
      )
      .optional(),
    nodeAddress: z
      .string()
      .regex(/^[^\s:/]+$/, 'a host name or IPv4 address, without a port')
      .describe(
        "A node's address: the probes reach each workload at <nodeAddress>:<its Service's nodePort> (from workloads/<type>/k8s.yaml), so one scenario can probe several workloads. " +
          'E.g. a `migbench cluster` node, 198.19.240.10. Not with `address`.',
      )
      .optional(),
    probes: z.boolean().describe('false: no app probes (e.g. a simulated cluster whose pods run no app); only pod lifecycle figures.').default(true),
    sourceNode: z.string().min(1).describe('The node the pod starts on; default: the first schedulable, ready worker.').optional(),
    targetNode: z.string().min(1).describe('The node it moves to; default: the first schedulable worker other than the source.').optional(),
    forceControlPlane: z.boolean().describe('Allow draining a control-plane node (refused otherwise).').default(false),
    kubeletInsecureTls: z
      .boolean()
      .describe(
        "kubelet-checkpoint calls each node's kubelet (port 10250) and verifies its certificate against the kubeconfig's CA; true accepts any certificate, for kubelets with their default self-signed one.",
      )
      .default(false),
  })
  .strict()
  .describe('The kubernetes platform: which cluster, where the workloads go, how the probes reach them.');

export const scenarioSchema = z
  .object({
    name: name.describe('Used in the run id; default: the file name.').optional(),
    description: z.string().describe('Free text, kept in run.json.').optional(),
    platform: z.enum(['local', 'kubernetes']).describe('Where the pods run: local (this host, embedded) or kubernetes (a cluster, through its API).').default('local'),
    local: localPlatformSchema.default(() => localPlatformSchema.parse({})),
    kubernetes: kubernetesPlatformSchema.optional(),
    nodes: z
      .array(name)
      .min(2)
      .describe('Node names of the local platform, each its own CPU share; the pod starts on `migration.from` and moves to `migration.to`.')
      .default(['node-a', 'node-b']),
    migration: z
      .object({
        from: name.describe('The node the pod starts on; default: the first of `nodes`.').optional(),
        to: name.describe('The node it moves to; default: the second of `nodes`.').optional(),
      })
      .strict()
      .default({}),
    workloads: z.array(workloadSchema).min(1).describe('The apps to move, each with the probe that measures what its users feel.'),
    strategies: z
      .array(strategySchema)
      .min(1)
      .describe('How to move them: a strategy name, or an object with `name` and the strategy\'s options.'),
    repetitions: z.number().int().min(1).max(10_000).describe('Measured trials per workload × strategy.').default(3),
    warmup: z.number().int().min(0).max(100).describe('Trials per workload × strategy run first and marked warmup=true in trials.csv.').default(0),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .describe("Seeds the randomized, interleaved trial order, so a run's order can be reproduced.")
      .default(1),
    timing: z
      .object({
        settleMs: z.number().int().min(0).max(600_000).describe('Probing before the trigger, ms, so the baseline is in the samples.').default(2_000),
        observeMs: z.number().int().min(0).max(600_000).describe('Probing after the strategy finished, ms, so the recovery is in the samples.').default(3_000),
        readyTimeoutMs: z
          .number()
          .int()
          .min(100)
          .max(3_600_000)
          .describe('How long a pod may take to become ready before the trial fails, ms.')
          .default(60_000),
      })
      .strict()
      .default(() => ({ settleMs: 2_000, observeMs: 3_000, readyTimeoutMs: 60_000 })),
    probe: probeSchema.default(() => probeSchema.parse({})),
    compare: z
      .object({
        alpha: z.number().gt(0).lt(1).describe('Significance level of the Mann–Whitney test.').default(0.05),
        thresholds: z
          .record(z.string(), z.string().regex(/^[+-]?\d+(\.\d+)?%?$/, 'a threshold like +10% or +50'))
          .describe('Per metric: `+10%` (relative) or `+50` (metric units); `+` = a rise is worse. Others: `+10%`.')
          .default({}),
      })
      .strict()
      .describe('How `migbench compare` judges a later run against this one (nightly CI).')
      .default(() => ({ alpha: 0.05, thresholds: {} })),
    output: z
      .object({
        dir: z.string().min(1).describe("Parent directory of each run's results directory (`<dir>/<run-id>/`).").default('results'),
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
export type StrategyConfig = z.output<typeof strategyObjectSchema>;

/**
 * How trials.csv's `strategy` column names a configured strategy: its name, plus `+ip-preserve` for a
 * CRIU strategy that keeps the pod's IP, so both variants of one strategy can be in a scenario.
 */
export function strategyLabel(config: StrategyConfig): string {
  const ip = 'ip' in config && config.ip === 'preserve' ? '+ip-preserve' : '';
  const freezer = 'freezer' in config && config.freezer !== 'criu' ? `+freezer-${config.freezer}` : '';
  const target = 'targetPod' in config && config.targetPod === 'before-dump' ? '+target-before-dump' : '';
  const pipes = 'pagePipes' in config && config.pagePipes === 'large' ? '+large-pipes' : '';
  const runtime = 'runtime' in config && config.runtime !== undefined ? `+runtime-${config.runtime}` : '';
  return `${config.name}${ip}${freezer}${target}${pipes}${runtime}`;
}
export type KubernetesPlatformConfig = z.output<typeof kubernetesPlatformSchema>;
