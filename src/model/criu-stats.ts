// CRIU's own statistics for one migration, as read from its stats-dump and stats-restore images
// (CRIU reports µs): the one type the platforms fill, the strategies pass on and the metrics read.

export interface CriuStats {
  /** stats-dump freezing_time. */
  freezingUs?: number;
  /** stats-dump frozen_time. */
  frozenUs?: number;
  memdumpUs?: number;
  memwriteUs?: number;
  pagesScanned?: number;
  pagesWritten?: number;
  /** stats-restore restore_time. */
  restoreUs?: number;
  /** stats-restore forking_time. */
  forkingUs?: number;
  /** The platform's own freeze right before CRIU's (freezer: action-script), measured by the script. */
  harnessFreezeUs?: number;
}
