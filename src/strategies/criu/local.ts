// `criu`: stop-and-copy through the shared checkpoint store, the podmigration-operator's flow
// (SSU-DCN): the source is frozen while all of its memory is written to the store, and the target
// restores from there.
import { criuMigrationOf, migrateWithCriu } from '../criu-common/flow.ts';
import type { MigrationContext, MigrationOutcome, Strategy } from '../entry/strategy.ts';
import { CRIU_DEFAULTS, type CriuStrategyOptions } from './options.ts';

export class CriuStrategy implements Strategy {
  readonly name = 'criu';
  private readonly options: CriuStrategyOptions;

  constructor(options: CriuStrategyOptions = { name: 'criu', ip: 'new', freezer: CRIU_DEFAULTS.freezer, pagePipes: 'sysctl' }) {
    this.options = options;
  }

  migrate(ctx: MigrationContext): Promise<MigrationOutcome> {
    return migrateWithCriu(ctx, criuMigrationOf(this.name, 'shared-store', this.options, CRIU_DEFAULTS));
  }
}
