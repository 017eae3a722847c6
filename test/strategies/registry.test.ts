// The strategy registry is the only list of strategies: the scenario schema's strategy union, the
// names each platform has, the trials.csv label and the moves all follow from its entries. Adding a
// strategy is its folder plus one line in src/strategies/registry.ts — shown here with a toy entry
// added through the same function the real list goes through (strategyRegistry).
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineStrategy } from '../../src/strategies/entry/entry.ts';
import { strategyRegistry } from '../../src/strategies/entry/derive.ts';
import type { MigrationContext, MigrationOutcome, Strategy } from '../../src/strategies/entry/strategy.ts';
import { kubernetesStrategyNames, localStrategyNames, strategies, strategyEntries, strategyNames } from '../../src/strategies/registry.ts';

/** The toy's folder would hold these two: its options and its local move. */
const teleportOptions = z
  .object({
    name: z.literal('teleport'),
    hops: z.number().int().min(1).max(3).describe('Relays the pod passes through.').default(1),
  })
  .strict()
  .describe('A toy strategy: exists only in this test.');

class TeleportStrategy implements Strategy {
  readonly name = 'teleport';
  readonly hops: number;
  constructor(options: z.output<typeof teleportOptions>) {
    this.hops = options.hops;
  }
  migrate(ctx: MigrationContext): Promise<MigrationOutcome> {
    return Promise.resolve({ pod: ctx.pod });
  }
}

const teleport = defineStrategy({
  name: 'teleport',
  options: teleportOptions,
  label: (options) => (options.hops > 1 ? `+hops-${options.hops}` : ''),
  problems: (options, scenario) =>
    options.hops > 2 && scenario.platform === 'local' ? [{ option: 'hops', expected: 'at most 2 hops locally', found: String(options.hops) }] : [],
  elsewhere: 'teleport runs on the local platform',
  local: (options) => new TeleportStrategy(options),
});

// The real list plus one line.
const withToy = strategyRegistry([...strategyEntries, teleport]);

describe('a registry with one more entry', () => {
  it('accepts the new strategy by name and as a mapping, with its defaults', () => {
    const list = z.array(withToy.schema);
    expect(list.parse(['teleport', { name: 'teleport', hops: 2 }, 'criu'])).toEqual([
      { name: 'teleport', hops: 1 },
      { name: 'teleport', hops: 2 },
      { name: 'criu', ip: 'new', freezer: 'action-script', pagePipes: 'sysctl' },
    ]);
  });

  it("rejects the new strategy's bad options and unknown fields, and still rejects unknown names", () => {
    expect(withToy.schema.safeParse({ name: 'teleport', hops: 9 }).success).toBe(false);
    expect(withToy.schema.safeParse({ name: 'teleport', warp: true }).success).toBe(false);
    expect(withToy.schema.safeParse('beam').success).toBe(false);
    // The real registry does not know it.
    expect(strategies.schema.safeParse('teleport').success).toBe(false);
  });

  it('lists it among the names and on the platforms it has a move on only', () => {
    expect(withToy.names).toEqual([...strategyNames, 'teleport']);
    expect(withToy.namesOn('local')).toEqual([...localStrategyNames, 'teleport']);
    expect(withToy.namesOn('kubernetes')).toEqual(kubernetesStrategyNames);
    expect(withToy.runsOn('teleport', 'local')).toBe(true);
    expect(withToy.runsOn('teleport', 'kubernetes')).toBe(false);
  });

  it('labels it by its own label part, and makes its move from its options', () => {
    expect(withToy.label({ name: 'teleport', hops: 1 })).toBe('teleport');
    expect(withToy.label({ name: 'teleport', hops: 3 })).toBe('teleport+hops-3');
    const move = withToy.createLocal({ name: 'teleport', hops: 2 });
    expect(move).toBeInstanceOf(TeleportStrategy);
    expect((move as TeleportStrategy).hops).toBe(2);
    expect(() => withToy.createKubernetes({ name: 'teleport', hops: 1 })).toThrow('strategy teleport does not run on the kubernetes platform');
  });

  it('refuses a list that names a strategy twice, an entry whose options carry another name, an entry with no move', () => {
    expect(() => strategyRegistry([...strategyEntries, strategyEntries[0]])).toThrow('strategy criu is listed twice');
    // (defineStrategy already refuses this at compile time; the cast stands for an entry typed loosely.)
    expect(() => strategyRegistry([{ ...teleport, name: 'beam' } as unknown as typeof teleport])).toThrow("strategy beam: its options' name is teleport");
    expect(() => strategyRegistry([{ ...teleport, local: undefined }])).toThrow('strategy teleport has a move on no platform');
  });
});

describe('the real registry', () => {
  it('has every strategy once, in the order errors list them', () => {
    expect(strategyNames).toEqual([
      'criu',
      'criu-lazy',
      'criu-pageserver',
      'criu-precopy',
      'redeploy',
      'drain',
      'podmigration',
      'kubelet-checkpoint',
      'runtime-restore',
    ]);
    expect(localStrategyNames).toEqual(['criu', 'criu-lazy', 'criu-pageserver', 'criu-precopy', 'redeploy', 'drain']);
    expect(kubernetesStrategyNames).toEqual(['redeploy', 'drain', 'podmigration', 'kubelet-checkpoint', 'runtime-restore']);
  });

  it.each(strategyEntries.map((e) => [e.name, e] as const))(
    '%s: the entry and every option are described (docs/scenarios.md is generated from them)',
    (_, entry) => {
      expect(entry.options.description, 'the options object').toMatch(/\S/);
      for (const [field, schema] of Object.entries(entry.options.shape)) {
        if (field === 'name') continue;
        expect(descriptionOf(schema as z.ZodType), field).toMatch(/\S/);
      }
    },
  );

  it.each([
    [
      'criu',
      { name: 'criu', ip: 'preserve', freezer: 'harness', targetPod: 'after-dump', pagePipes: 'large', runtime: 'criu' },
      'criu+ip-preserve+freezer-harness+large-pipes+runtime-criu',
    ],
    // criu's own defaults (action-script freeze, target pod before the dump with ip: new): the old ones are labelled.
    ['criu', { name: 'criu', ip: 'new', freezer: 'action-script', pagePipes: 'sysctl' }, 'criu'],
    ['criu', { name: 'criu', ip: 'new', freezer: 'action-script', targetPod: 'before-dump', pagePipes: 'sysctl' }, 'criu'],
    ['criu', { name: 'criu', ip: 'new', freezer: 'criu', targetPod: 'after-dump', pagePipes: 'sysctl' }, 'criu+freezer-criu+target-after-dump'],
    ['criu', { name: 'criu', ip: 'preserve', freezer: 'action-script', pagePipes: 'sysctl' }, 'criu+ip-preserve'],
    // criu switches the service as CRIU restores by default (ip: new); after ready is labelled, and is what ip: preserve always does.
    ['criu', { name: 'criu', ip: 'new', freezer: 'action-script', pagePipes: 'sysctl', serviceSwitch: 'during-restore' }, 'criu'],
    ['criu', { name: 'criu', ip: 'new', freezer: 'action-script', pagePipes: 'sysctl', serviceSwitch: 'after-ready' }, 'criu+switch-after-ready'],
    ['criu', { name: 'criu', ip: 'preserve', freezer: 'action-script', pagePipes: 'sysctl', serviceSwitch: 'after-ready' }, 'criu+ip-preserve'],
    [
      'criu-lazy',
      { name: 'criu-lazy', ip: 'new', freezer: 'criu', targetPod: 'after-dump', pagePipes: 'sysctl', serviceSwitch: 'during-restore' },
      'criu-lazy+switch-during-restore',
    ],
    [
      'criu-lazy',
      { name: 'criu-lazy', ip: 'new', freezer: 'action-script', targetPod: 'before-dump', pagePipes: 'sysctl' },
      'criu-lazy+freezer-action-script+target-before-dump',
    ],
    ['criu-precopy', { name: 'criu-precopy', ip: 'new', freezer: 'criu', targetPod: 'after-dump', pagePipes: 'sysctl', preDumps: 4 }, 'criu-precopy'],
    ['drain', { name: 'drain', gracePeriodSeconds: 1, controller: 'statefulset' }, 'drain'],
    ['kubelet-checkpoint', { name: 'kubelet-checkpoint', checkpointTimeoutSeconds: 5, kubeletAccess: 'auto' }, 'kubelet-checkpoint'],
    ['kubelet-checkpoint', { name: 'kubelet-checkpoint', checkpointTimeoutSeconds: 5, kubeletAccess: 'apiServer' }, 'kubelet-checkpoint+kubelet-apiServer'],
    [
      'runtime-restore',
      { name: 'runtime-restore', checkpointTimeoutSeconds: 5, targetPod: 'before-dump', kubeletAccess: 'apiServer' },
      'runtime-restore+target-before-dump+kubelet-apiServer',
    ],
  ] as const)('labels %s as trials.csv does', (_, config, label) => {
    expect(strategies.label(config)).toBe(label);
  });
});

/** A field's description, through the default/optional wrappers around it. */
function descriptionOf(schema: z.ZodType): string | undefined {
  let s: z.ZodType | undefined = schema;
  while (s) {
    if (s.description) return s.description;
    s = (s._zod.def as { innerType?: z.ZodType }).innerType;
  }
  return undefined;
}
