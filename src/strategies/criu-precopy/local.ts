// `criu-precopy`: iterative pre-dumps copy the memory while the pod keeps running, then a short
// final dump sends only the pages written since. CRIU learns which pages changed from the kernel's
// soft-dirty bits; a kernel without them (CONFIG_MEM_SOFT_DIRTY off, as in many VM kernels) cannot
// pre-copy at all, and the strategy then says so before any trial instead of failing each one.
import { canCheckpoint, type LocalNodeRuntime } from '../../platforms/local/node-runtime.ts';
import { criuMigrationOf, migrateWithCriu } from '../criu-common/flow.ts';
import { COMMON_CRIU_DEFAULTS } from '../criu-common/options.ts';
import type { MigrationContext, MigrationOutcome, Strategy } from '../entry/strategy.ts';
import type { CriuPrecopyStrategyOptions } from './options.ts';

export class CriuPrecopyStrategy implements Strategy {
  readonly name = 'criu-precopy';
  private readonly options: CriuPrecopyStrategyOptions;

  constructor(options: CriuPrecopyStrategyOptions) {
    this.options = options;
  }

  async unsupportedReason(platform: LocalNodeRuntime): Promise<string | undefined> {
    if (!canCheckpoint(platform) || !platform.preDumpPod) return `platform ${platform.name} cannot pre-dump pods`;
    return platform.preCopyUnsupportedReason();
  }

  migrate(ctx: MigrationContext): Promise<MigrationOutcome> {
    return migrateWithCriu(ctx, { ...criuMigrationOf(this.name, 'shared-store', this.options, COMMON_CRIU_DEFAULTS), preDumps: this.options.preDumps });
  }
}
