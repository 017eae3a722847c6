// Whether a probe's samples say the service was serving at the end of a trial: the newest sample
// answered and no two in a row among the last ten failed. One missed deadline alone (5 ms at the 5 ms
// interval these tests probe at) is the loaded 2-core host, not an outage — a CI run had one in the
// last ten, 2.2 s after the pod had moved.
export function servingAtTheEnd(samples: readonly { ok: boolean; scheduledAt: number }[]): boolean {
  const last = [...samples].sort((a, b) => a.scheduledAt - b.scheduledAt).slice(-10);
  if (last.length === 0 || !last.at(-1)!.ok) return false;
  return !last.some((s, i) => i > 0 && !s.ok && !last[i - 1]!.ok);
}
