// The scenario file's schema: the one place that says which fields exist, their defaults and
// their limits. The strategies' options and names come from their registry (src/strategies/registry.ts)
// so the schema cannot drift from the implementations.
// Descriptions are `.describe()` metadata rather than comments so that docs/scenarios.md is generated
// from them (`npm run docs`, scripts/gen-docs.ts) and cannot drift from the schema.
import { z } from 'zod';
import { strategySchema } from '../strategies/registry.ts';
import { evacuateSchema } from './evacuation.ts';
import { sweepSchema } from './sweep.ts';

// The strategies' schemas, names and label come from their registry (src/strategies/registry.ts);
// re-exported here for the code that reads them as the scenario's.
export { strategyLabel, strategyObjectSchema, strategySchema, type StrategyConfig } from '../strategies/registry.ts';

const name = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'a lower-case name of letters, digits and dashes (max 31), starting with a letter');

/** The probe settings' limits, shared by the scenario's `probe` and a workload's override. */
const probeFields = {
  intervalMs: z.number().min(1).max(60_000).describe('Open-loop tick interval, ms: the resolution of downtime_ms.'),
  timeoutMs: z.number().min(1).max(60_000).describe('Per-request timeout, ms; defaults to the interval (so an outage shows as failures, not latency).'),
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
          "then compact the AOF, so a fresh pod reloads as many bytes as CRIU copies. For sweeps of the data set's size.",
      )
      .optional(),
    sweep: sweepSchema('redis', { datasetMiB: redisDatasetMiB, keys: redisKeys, valueBytes: redisValueBytes }),
    appendfsync: z.enum(['always', 'everysec', 'no']).describe("Redis' appendfsync: how often the AOF is fsynced.").default('everysec'),
    probe: probeOverride,
  })
  .strict()
  .describe(
    '`redis-server` with AOF persistence (no RDB snapshots), its data on a volume in the shared store, loaded before each trial. Probe: one write + read-back per tick on a persistent connection.',
  );

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
    saveEverySteps: z.number().int().min(1).max(1_000_000).describe('Save weights and optimizer state to the volume every this many steps.').default(100),
    threads: z.number().int().min(1).max(256).describe("PyTorch intra-op threads (one per node's CPU share).").default(1),
    sweep: sweepSchema('ml-training', { modelWidth: mlModelWidth }),
    probe: probeOverride,
  })
  .strict()
  .describe('A PyTorch CNN trained on a generated data set (workloads/ml-training/train.py, CPU). Probe: polls GET /progress open loop.');

export const workloadSchema = z.discriminatedUnion('type', [redisWorkloadSchema, videoWorkloadSchema, mlTrainingWorkloadSchema]);

export const localPlatformSchema = z
  .object({
    subnet: z
      .string()
      .regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/, 'an IPv4 /24 written as a.b.c.0/24')
      // The pattern allows 300.1.0.0/24; ip(8) would then fail half-way through the first trial.
      .refine(
        (s) =>
          s
            .split('.')
            .slice(0, 3)
            .every((o) => Number(o) <= 255),
        'an IPv4 /24 whose octets are 0–255, e.g. 198.18.0.0/24',
      )
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
        "Who drives CRIU for every CRIU strategy that does not say (its own `runtime`): runc (runc checkpoint / runc restore, as Kubernetes' runtimes do) " +
          "or criu (CRIU's command line run by the platform with the options runc would pass — src/platforms/local/criu-direct.ts), to see what runc adds to the downtime.",
      )
      .default('runc'),
    criuKernelCache: z
      .enum(['auto', 'off'])
      .describe(
        "CRIU's cache of the kernel's features (/run/criu.kdat), which CRIU itself keeps only where /run is a tmpfs, as on systemd hosts and Kubernetes nodes: " +
          'auto — on a host whose /run is no tmpfs, migbench has CRIU make it for the run and removes it after, so that every dump and restore does not probe the ' +
          'kernel again (≈ 25 ms of each restore) as no node would; off — the host as it is. run.json records which (platform.criuKernelCache).',
      )
      .default('auto'),
    nodeLink: z
      .object({ bandwidthMbit: z.number().min(1).max(100_000).describe("The link's bandwidth in Mbit/s, both directions (tc tbf).") })
      .strict()
      .describe(
        "An emulated node-to-node network for CRIU's transfers: each node gets a namespace behind a veth pair shaped to this bandwidth, and whatever a migration " +
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
    context: z.string().min(1).describe('Context in the kubeconfig; default: its current-context (flag: --context).').optional(),
    namespace: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'a Kubernetes namespace name (lower-case letters, digits, dashes)')
      .describe('Everything migbench creates goes here, and it touches nothing outside it (except cordoning nodes for drain) (flag: --namespace).')
      .default('migbench'),
    address: z
      .string()
      .regex(/^[^\s:]+:\d{1,5}$/, 'host:port, e.g. 10.0.0.5:8080')
      .describe(
        "A fixed host:port where the probes reach the workload's Service from here: a front you run yourself (an ingress, a load balancer with a fixed address). " +
          'One workload only (several would all be probed at this one port); not with `expose`. Not a `kubectl port-forward`: it stays with the pod it first picked, which a move deletes.',
      )
      .optional(),
    expose: z
      .enum(['nodePort', 'loadBalancer'])
      .describe(
        "How each workload's Service is exposed to the probes, at ports the cluster allocates (read back from the Service; no fixed nodePort, so runs never collide): " +
          "nodePort — at <nodeAddress, else the source node's InternalIP>:<its nodePort>; loadBalancer — at the address the cluster's load balancer gives the Service, on its port. " +
          'Default: nodePort when nodeAddress is set.',
      )
      .optional(),
    nodeAddress: z
      .string()
      .regex(/^[^\s:/]+$/, 'a host name or IPv4 address, without a port')
      .describe(
        "A node's address from here: with expose: nodePort (its default) the probes reach each workload at <nodeAddress>:<the nodePort the cluster gave its Service>. " +
          'E.g. a `migbench cluster` node, 198.19.240.10. Not with `address`.',
      )
      .optional(),
    probes: z.boolean().describe('false: no app probes (e.g. a simulated cluster whose pods run no app); only pod lifecycle figures.').default(true),
    sourceNode: z.string().min(1).describe('The node the pod starts on; default: the first schedulable, ready worker.').optional(),
    targetNode: z.string().min(1).describe('The node it moves to; default: the first schedulable worker other than the source.').optional(),
    storageClass: z
      .string()
      .min(1)
      .describe(
        "The StorageClass of the workloads' volume claims (redis, ml-training); default: the cluster's default class. Checked before the first trial: it must exist and give " +
          'ReadWriteMany volumes, since the data follows the pod to the target node (exit 2 otherwise).',
      )
      .optional(),
    readinessProbe: z
      .object({
        periodSeconds: z
          .number()
          .int()
          .min(1)
          .max(300)
          .describe("How often the kubelet probes the pod's readiness, in whole seconds (Kubernetes' minimum is 1).")
          .optional(),
        initialDelaySeconds: z
          .number()
          .int()
          .min(0)
          .max(300)
          .describe('How long after the container starts the first probe waits, in whole seconds.')
          .optional(),
      })
      .strict()
      .describe(
        "The workload pods' readiness probe, over the workload manifest's (period 1 s, no initial delay): a setting of the user's cluster the moved pod's `ready`/`app_load` part waits on " +
          '(docs/methodology.md, scenarios/k8s-settings.yaml).',
      )
      .optional(),
    nodeSelector: z
      .record(z.string().min(1), z.string())
      .describe(
        "Labels a node must carry to run the workloads: the pods' nodeSelector, and the default source and target are picked among the workers that carry them " +
          '(e.g. { pool: bench } for nodes set aside for benchmarking, or to give each of two runs sharing a cluster its own pair).',
      )
      .optional(),
    tolerations: z
      .array(
        z
          .object({
            key: z.string().min(1).optional(),
            operator: z.enum(['Exists', 'Equal']).optional(),
            value: z.string().optional(),
            effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
            tolerationSeconds: z.number().int().min(0).optional(),
          })
          .strict(),
      )
      .describe(
        "Tolerations added to the pods (Kubernetes' own fields), e.g. of nodes tainted for benchmarking; the default source and target may then be nodes with the taints they tolerate.",
      )
      .optional(),
    forceControlPlane: z.boolean().describe('Allow draining a control-plane node (refused otherwise).').default(false),
    images: z
      .object(
        Object.fromEntries(
          (['redis', 'video', 'ml-training'] as const).map((type) => [
            type,
            z
              .string()
              .regex(
                /^[^\s@]+@sha256:[0-9a-f]{64}$/,
                'an image reference pinned by digest, <registry>/<repository>@sha256:<64 hex digits> (`migbench images build --push REGISTRY` prints them)',
              )
              .describe(
                `The ${type} workload's image, pinned by digest (pulled IfNotPresent, on both nodes before the first trial); default: the image workloads/${type}/k8s.yaml names.`,
              )
              .optional(),
          ]),
        ) as { [T in 'redis' | 'video' | 'ml-training']: z.ZodOptional<z.ZodString> },
      )
      .strict()
      .describe(
        "Each workload's image, e.g. `redis: registry.example.org/migbench/redis@sha256:…`, as `migbench images build --push REGISTRY` (or `--load lab`) prints them. " +
          'Pods pull them IfNotPresent, and a pod per node pulls them before the first trial, so no pull lands in a downtime; an image that cannot be pulled fails the run at once, naming it.',
      )
      .optional(),
    imagePullSecrets: z
      .array(z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'a Secret name in the namespace'))
      .describe("Secrets (type kubernetes.io/dockerconfigjson, in the scenario's namespace) the pods pull the images with; default: none.")
      .optional(),
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
    platform: z
      .enum(['local', 'kubernetes'])
      .describe('Where the pods run: local (this host, embedded) or kubernetes (a cluster, through its API).')
      .default('local'),
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
    evacuate: evacuateSchema,
    strategies: z.array(strategySchema).min(1).describe("How to move them: a strategy name, or an object with `name` and the strategy's options."),
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

export type Scenario = z.output<typeof scenarioSchema>;
export type WorkloadConfig = z.output<typeof workloadSchema>;
export type RedisWorkloadConfig = z.output<typeof redisWorkloadSchema>;
export type VideoWorkloadConfig = z.output<typeof videoWorkloadSchema>;
export type MlTrainingWorkloadConfig = z.output<typeof mlTrainingWorkloadSchema>;
