// `criu-pageserver`: stop-and-copy without a shared store for the memory: CRIU streams the pages
// straight to a page server on the target node, which writes them to that node's own disk.
import { criuMigrationOf, migrateWithCriu } from '../criu-common/flow.ts';
import { COMMON_CRIU_DEFAULTS } from '../criu-common/options.ts';
import type { MigrationContext, MigrationOutcome, Strategy } from '../entry/strategy.ts';
import type { CriuPageserverStrategyOptions } from './options.ts';

export class CriuPageserverStrategy implements Strategy {
  readonly name = 'criu-pageserver';
  private readonly options: CriuPageserverStrategyOptions;

  constructor(options: CriuPageserverStrategyOptions) {
    this.options = options;
  }

  migrate(ctx: MigrationContext): Promise<MigrationOutcome> {
    return migrateWithCriu(ctx, criuMigrationOf(this.name, 'page-server', this.options, COMMON_CRIU_DEFAULTS));
  }
}
