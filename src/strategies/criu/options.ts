// `criu`'s options: the CRIU options every CRIU strategy has, with criu's own defaults — the pod
// frozen by CRIU's pre-dump action script and the target pod made before the dump. Both were faster
// for every workload in one interleaved run (scenarios/local-defaults.yaml,
// docs/findings/2026-12-06-local-criu-defaults.md: Redis 405 → 335 ms, video 380 → 270 ms,
// ml-training 710 → 590 ms median downtime, nothing lost either way) — and the service switched to the
// target while CRIU restores it, never worse for any workload in another (scenarios/local-switch.yaml,
// docs/findings/2026-12-07-local-fast-path.md: Redis 280 → 230, video 230 → 220, ml-training 480 → 470 ms).
// The runtime stays runc although CRIU driven directly is faster again: runc is what a cluster's
// runtimes drive CRIU through, and what the kubernetes strategies are compared with.
import { z } from 'zod';
import { criuOptionFields, freezerField, targetPodField, type CriuDefaults } from '../criu-common/options.ts';

export const CRIU_DEFAULTS: CriuDefaults = { freezer: 'action-script', targetPod: 'before-dump', serviceSwitch: 'during-restore' };

export const criuOptions = z
  .object({
    name: z.literal('criu'),
    ...criuOptionFields,
    freezer: freezerField.default(CRIU_DEFAULTS.freezer),
    // No schema default: it depends on `ip` (resolvedTargetPod), and an explicit before-dump with ip: preserve is refused.
    targetPod: targetPodField.optional().describe(`${targetPodField.description} Unset: before-dump with ip: new, after-dump with ip: preserve.`),
  })
  .strict()
  .describe("Stop-and-copy through the shared checkpoint store (the original setup's NFS share).");

export type CriuStrategyOptions = z.output<typeof criuOptions>;
