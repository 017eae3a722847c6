// The scenario file's schema: the one place that says which fields exist, their defaults and
// their limits. Workload, strategy and platform names come from the registries so the schema's
// enums cannot drift from the implementations.
import { z } from 'zod';

const name = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,30}$/, 'a lower-case name of letters, digits and dashes (max 31), starting with a letter');

export const redisWorkloadSchema = z
  .object({
    type: z.literal('redis'),
    /** Instance name; defaults to the type. Used in trials.csv's `workload` column. */
    name: name.optional(),
    /** Keys written before the trial starts. */
    keys: z.number().int().min(0).max(100_000_000).default(10_000),
    /** Size of each value in bytes. */
    valueBytes: z.number().int().min(1).max(1_048_576).default(64),
    /** Redis' appendfsync: how often the AOF is fsynced. */
    appendfsync: z.enum(['always', 'everysec', 'no']).default('everysec'),
  })
  .strict();

export const workloadSchema = z.discriminatedUnion('type', [redisWorkloadSchema]);

export const criuStrategySchema = z
  .object({
    name: z.literal('criu'),
  })
  .strict();

export const redeployStrategySchema = z
  .object({
    name: z.literal('redeploy'),
    /** SIGTERM, then SIGKILL after this many seconds (Kubernetes' terminationGracePeriodSeconds). */
    gracePeriodSeconds: z.number().min(0).max(3600).default(30),
  })
  .strict();

export const strategyObjectSchema = z.discriminatedUnion('name', [criuStrategySchema, redeployStrategySchema]);
export const strategyNames = ['criu', 'redeploy'] as const;
export type StrategyName = (typeof strategyNames)[number];

/** A strategy is named by a string (defaults for every option) or given as an object with options. */
export const strategySchema = z.union([
  z.enum(strategyNames).transform((n) => strategyObjectSchema.parse({ name: n })),
  strategyObjectSchema,
]);

export const localPlatformSchema = z
  .object({
    /** Pod network: the bridge takes .1, pods the rest. RFC 2544's benchmarking range by default. */
    subnet: z
      .string()
      .regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/, 'an IPv4 /24 written as a.b.c.0/24')
      .default('198.18.0.0/24'),
    /** The shared checkpoint directory standing in for the NFS share of the original setup. */
    checkpointDir: z.string().min(1).default('/var/lib/migbench/store'),
  })
  .strict();

export const scenarioSchema = z
  .object({
    name: name.optional(),
    description: z.string().optional(),
    platform: z.literal('local').default('local'),
    local: localPlatformSchema.default(() => localPlatformSchema.parse({})),
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
    probe: z
      .object({
        /** Open-loop tick interval. */
        intervalMs: z.number().min(1).max(60_000).default(5),
        /** Per-request timeout; defaults to the interval (so an outage shows as failures, not latency). */
        timeoutMs: z.number().min(1).max(60_000).optional(),
        /**
         * A client's failure detection: a connection that answered nothing for this long is dropped
         * and a new one opened. Defaults to max(50, 10 × intervalMs). Bounds how late a probe notices
         * that its old connection leads nowhere (e.g. to the frozen source pod).
         */
        reconnectAfterMs: z.number().min(1).max(60_000).optional(),
        /** Give up a connection attempt after this long; defaults to max(50, 10 × intervalMs). */
        connectTimeoutMs: z.number().min(1).max(60_000).optional(),
      })
      .strict()
      .default(() => ({ intervalMs: 5 })),
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
export type StrategyConfig = z.output<typeof strategyObjectSchema>;
