// fs.pipe-max-size for CRIU's page pipes: raised for lazy dumps (the run) and for a `pagePipes:
// large` dump (that dump only), and put back to what the host had.
import { readFileSync, writeFileSync } from 'node:fs';
import type { EventRecorder } from '../../model/timeline.ts';

const PIPE_MAX_SIZE = '/proc/sys/fs/pipe-max-size';
/** CRIU's PIPE_MAX_SIZE pages rounded up to a power of two (page-pipe.h: 819 × 4 KiB). */
const LAZY_PIPE_BYTES = 4 * 1024 * 1024;

export class PipeMaxSize {
  /** fs.pipe-max-size before it was raised; undefined while it is the host's own. */
  private before: number | undefined;

  /**
   * A lazy dump serves pages through a pipe CRIU sizes to 4 MiB; above fs.pipe-max-size (1 MiB by
   * default) that needs CAP_SYS_RESOURCE, which CRIU's dump lacks under runc, and CRIU then goes on
   * with a 64 KiB pipe and fails on the first request for more ("page-pipe: tee: 65536"). Returns
   * whether it raised it now.
   */
  raise(events: EventRecorder, why: string): boolean {
    const current = Number.parseInt(readFileSync(PIPE_MAX_SIZE, 'utf8'), 10);
    if (current >= LAZY_PIPE_BYTES) return false;
    this.before ??= current;
    writeFileSync(PIPE_MAX_SIZE, String(LAZY_PIPE_BYTES));
    events.emit('platform:local', 'sysctl', `fs.pipe-max-size ${current} -> ${LAZY_PIPE_BYTES} (${why})`);
    return true;
  }

  /** Back to the host's own fs.pipe-max-size (after a `pagePipes: large` dump). */
  putBack(events: EventRecorder): void {
    if (this.before === undefined) return;
    writeFileSync(PIPE_MAX_SIZE, String(this.before));
    events.emit('platform:local', 'sysctl', `fs.pipe-max-size ${LAZY_PIPE_BYTES} -> ${this.before} (page pipes, after the dump)`);
    this.before = undefined;
  }

  /** At the platform's end: back to the host's own, whatever raised it. */
  async restore(attempt: (step: () => Promise<void>) => Promise<void>): Promise<void> {
    if (this.before === undefined) return;
    const before = this.before;
    await attempt(async () => writeFileSync(PIPE_MAX_SIZE, String(before)));
    this.before = undefined;
  }
}
