// `criu-lazy`: post-copy. The dump writes everything but the memory; the target restores at once
// and its page faults are served from the frozen source by CRIU's lazy-pages daemon, which also
// pushes the remaining pages in the background. Downtime should hardly grow with memory size; the
// migration ends only when the last page has arrived (event memory_complete).
import { criuMigrationOf, migrateWithCriu } from '../criu-common/flow.ts';
import { COMMON_CRIU_DEFAULTS } from '../criu-common/options.ts';
import type { MigrationContext, MigrationOutcome, Strategy } from '../entry/strategy.ts';
import type { CriuLazyStrategyOptions } from './options.ts';

export class CriuLazyStrategy implements Strategy {
  readonly name = 'criu-lazy';
  private readonly options: CriuLazyStrategyOptions;

  constructor(options: CriuLazyStrategyOptions) {
    this.options = options;
  }

  migrate(ctx: MigrationContext): Promise<MigrationOutcome> {
    return migrateWithCriu(ctx, criuMigrationOf(this.name, 'lazy', this.options, COMMON_CRIU_DEFAULTS));
  }
}
