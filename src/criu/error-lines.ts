// CRIU's own words for why it failed: the line of its log (a dump's or restore's) or of `criu check`'s
// output that says why, without the timestamps and source positions CRIU puts before it.

/**
 * CRIU's own explanation in its log: the first `Error (file:line): …` line that says why, else ''.
 * The first, because what follows is consequence ("Can't dump page with parasite", "Dumping
 * FAILED."); CRIU's complaint that it cannot raise its own RLIMIT_NOFILE under runc is in every log
 * and never the cause.
 */
export function criuErrorLine(logText: string): string {
  const noise = /RLIMIT_NOFILE|(Dumping|Restoring) FAILED/;
  const errors = logText.split('\n').filter((l) => /Error \(/.test(l));
  const line = errors.find((l) => !noise.test(l)) ?? errors.find((l) => /FAILED/.test(l)) ?? '';
  // Drop the "(00.123456) " timestamp and pid prefix CRIU puts before each line.
  return line.replace(/^\(\s*[\d.]+\)\s*(\d+:\s*)?/, '').trim();
}

/** "Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds" → "vdso: Unexpected rt vDSO area bounds". */
export function firstCriuError(output: string): string | undefined {
  const line = output.split('\n').find((l) => /^\s*Error\b/.test(l));
  return line?.replace(/^\s*Error\s*(\([^)]*\))?:?\s*/, '').trim();
}
