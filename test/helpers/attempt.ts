// A retried host test (vitest.config.ts: once more on CI) starts again with the state its first
// attempt left: the results directories it named with --out already hold results, which migbench
// refuses to overwrite. The host project's setup file records the attempt; every helper that starts
// migbench passes its arguments through `argsForAttempt`, which moves a failed attempt's results
// aside (kept, for the failure's diagnosis) so the retry writes where the test reads.
import { existsSync, renameSync } from 'node:fs';
import { beforeEach } from 'vitest';

let attempt = 0;

/** In the host project's setupFiles: each test's attempt (0 the first, 1 its retry). */
export function recordAttempts(): void {
  beforeEach((context) => {
    attempt = context.task.result?.retryCount ?? 0;
  });
}

/** `args` as given; on a retry, the --out directory a failed attempt filled moved to `<dir>.attempt-<n>`. */
export function argsForAttempt(args: readonly string[]): string[] {
  const at = args.indexOf('--out');
  const out = at >= 0 ? args[at + 1] : undefined;
  if (attempt > 0 && out !== undefined && existsSync(`${out}/trials.csv`)) {
    let n = 1;
    while (existsSync(`${out}.attempt-${n}`)) n++;
    renameSync(out, `${out}.attempt-${n}`);
  }
  return [...args];
}
