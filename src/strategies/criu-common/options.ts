// The options every CRIU strategy (criu, criu-lazy, criu-pageserver, criu-precopy) shares, what they
// add to the trials.csv label, and the checks they need beyond their schema.
import { z } from 'zod';
import type { OptionProblem } from '../entry/entry.ts';

/** Who freezes the pod before the dump; each strategy picks its default. */
export const freezerField = z
  .enum(['criu', 'harness', 'action-script'])
  .describe(
    "criu: CRIU freezes the pod's cgroup itself (it polls the freezer in 100 ms steps). harness: the platform freezes the cgroup and polls it finely " +
      "before runc starts CRIU, which then only seizes the frozen tasks. action-script: the same, done by CRIU's pre-dump action script, once runc has " +
      'started CRIU (src/platforms/local/freezer.ts). Local platform only.',
  );

/** When the target pod is made; each strategy picks its default. */
export const targetPodField = z
  .enum(['after-dump', 'before-dump'])
  .describe(
    'When the target pod (its network namespace, veth, address and runc bundle) is made: after-dump, between the dump and the restore; ' +
      "before-dump, while the source still serves, so that the outage does not include it (ip: new only; with ip: preserve the address is the source's " +
      'until its dump). Local platform only.',
  );

/** When the service is pointed at the target pod; each strategy picks its default. */
export const serviceSwitchField = z
  .enum(['after-ready', 'during-restore'])
  .describe(
    "after-ready: the service is switched to the restored pod once it answers the harness's readiness check, as the podmigration-operator does. " +
      'during-restore: once the source is dumped (it serves no one any more), the service is switched to the target pod while CRIU restores it, so the ' +
      "switch leaves the outage and clients' reconnects land on the pod the moment its listening socket is back; a restore that fails falls back and " +
      'switches back to the source as before (ip: new only: with ip: preserve the address itself moves). Local platform only.',
  );

/** Options of every CRIU strategy. */
export const criuOptionFields = {
  ip: z
    .enum(['new', 'preserve'])
    .describe(
      'new: the restored pod gets a new IP and CRIU closes its established TCP connections (clients reconnect), as the podmigration-operator does. ' +
        "preserve: it keeps the source pod's IP and MAC, and `--tcp-established` carries open connections over, so clients keep them through the move.",
    )
    .default('new'),
  freezer: freezerField.default('criu'),
  targetPod: targetPodField.default('after-dump'),
  pagePipes: z
    .enum(['sysctl', 'large'])
    .describe(
      'The pipes CRIU writes pages through: sysctl (default) leaves them at what fs.pipe-max-size allows (1 MiB by default: CRIU under runc may not exceed it); ' +
        'large raises the sysctl to the 4 MiB CRIU asks for (page-pipe.h: 819 pages) for this dump only, putting it back after. Local platform only.',
    )
    .default('sysctl'),
  // No schema default: it depends on `ip` (resolvedServiceSwitch).
  serviceSwitch: serviceSwitchField
    .optional()
    .describe(`${serviceSwitchField.description} Unset: the strategy's default with ip: new, after-ready with ip: preserve.`),
  runtime: z
    .enum(['runc', 'criu'])
    .describe(
      "Who drives CRIU for this strategy: runc (runc checkpoint / runc restore) or criu (the platform runs CRIU's command line itself with the options runc " +
        "would pass; not for criu-lazy). Unset: the platform's `local.runtime`. Local platform only.",
    )
    .optional(),
};

/** The CRIU options as validated (every CRIU strategy's options include these). */
export interface CriuOptions {
  ip: 'new' | 'preserve';
  freezer: 'criu' | 'harness' | 'action-script';
  /** Absent where the strategy resolves it from `ip` (criu: resolvedTargetPod). */
  targetPod?: 'after-dump' | 'before-dump' | undefined;
  pagePipes: 'sysctl' | 'large';
  /** Absent where the strategy resolves it from `ip` (resolvedServiceSwitch). */
  serviceSwitch?: 'after-ready' | 'during-restore' | undefined;
  runtime?: 'runc' | 'criu' | undefined;
}

/** A CRIU strategy's defaults, against which trials.csv labels its options. */
export interface CriuDefaults {
  freezer: CriuOptions['freezer'];
  /** With ip: new; with ip: preserve the target pod is always made after the dump (it takes the source's address). */
  targetPod: 'after-dump' | 'before-dump';
  /** With ip: new; with ip: preserve the service is always switched after the restored pod is ready. */
  serviceSwitch: 'after-ready' | 'during-restore';
}

/** The defaults of criu-lazy, criu-pageserver and criu-precopy (criu's own are in criu/options.ts). */
export const COMMON_CRIU_DEFAULTS: CriuDefaults = { freezer: 'criu', targetPod: 'after-dump', serviceSwitch: 'after-ready' };

/** When the target pod is made: as the scenario says, else the strategy's default for its `ip`. */
export function resolvedTargetPod(options: Pick<CriuOptions, 'ip' | 'targetPod'>, defaults: CriuDefaults): 'after-dump' | 'before-dump' {
  return options.targetPod ?? (options.ip === 'preserve' ? 'after-dump' : defaults.targetPod);
}

/** When the service is switched: as the scenario says, else the strategy's default for its `ip`. */
export function resolvedServiceSwitch(options: Pick<CriuOptions, 'ip' | 'serviceSwitch'>, defaults: CriuDefaults): 'after-ready' | 'during-restore' {
  return options.serviceSwitch ?? (options.ip === 'preserve' ? 'after-ready' : defaults.serviceSwitch);
}

/**
 * trials.csv's label: `+ip-preserve` for a CRIU strategy that keeps the pod's IP, and each option off
 * the strategy's default, so both variants of one strategy can be in a scenario.
 */
export function criuLabelFor(defaults: CriuDefaults): (options: CriuOptions) => string {
  return (options) => {
    const ip = options.ip === 'preserve' ? '+ip-preserve' : '';
    const freezer = options.freezer !== defaults.freezer ? `+freezer-${options.freezer}` : '';
    const targetPod = resolvedTargetPod(options, defaults);
    const target = targetPod !== resolvedTargetPod({ ip: options.ip }, defaults) ? `+target-${targetPod}` : '';
    const pipes = options.pagePipes === 'large' ? '+large-pipes' : '';
    const switchAt = resolvedServiceSwitch(options, defaults);
    const serviceSwitch = switchAt !== resolvedServiceSwitch({ ip: options.ip }, defaults) ? `+switch-${switchAt}` : '';
    const runtime = options.runtime !== undefined ? `+runtime-${options.runtime}` : '';
    return `${ip}${freezer}${target}${pipes}${serviceSwitch}${runtime}`;
  };
}

/** The label of criu-lazy, criu-pageserver and criu-precopy. */
export const criuLabel = criuLabelFor(COMMON_CRIU_DEFAULTS);

export function criuProblems(options: CriuOptions): OptionProblem[] {
  const problems: OptionProblem[] = [];
  // With ip: preserve the target takes the source's address, which is free only once the source is dumped.
  if (options.targetPod === 'before-dump' && options.ip === 'preserve') {
    problems.push({
      option: 'targetPod',
      expected: "after-dump with ip: preserve (the target pod takes the source's address, free only after its dump)",
      found: '"before-dump"',
    });
  }
  // With ip: preserve the service's rule never changes: the address itself moves with the pod.
  if (options.serviceSwitch === 'during-restore' && options.ip === 'preserve') {
    problems.push({
      option: 'serviceSwitch',
      expected: 'after-ready with ip: preserve (the address moves with the pod; there is no service rule to switch early)',
      found: '"during-restore"',
    });
  }
  return problems;
}

/** What a CRIU strategy on a cluster is told. */
export function criuElsewhere(name: string): string {
  return `${name} runs on the local platform; kubelet-checkpoint (and podmigration) are CRIU's way on a cluster`;
}
