// Versions of the tools migbench drives. The parsers are pure (tested against the tools' real
// output); the readers run `<tool> --version` once. Versions go into run.json, and CRIU's decides
// whether the binary is usable at all (the outage numbers depend on which CRIU took them).
import { release } from 'node:os';
import { exec } from '../system/exec.ts';

const NUMERIC = /(\d+(?:\.\d+)*)/;

/** `criu --version` → "Version: 4.2.1" (a second line "GitID: ..." on git builds). */
export function parseCriuVersion(output: string): string | undefined {
  return /^Version:\s*(\d+(?:\.\d+)*)/m.exec(output)?.[1];
}

/** `runc --version` → first line "runc version 1.1.5+ds1"; the distribution suffix is dropped. */
export function parseRuncVersion(output: string): string | undefined {
  return /^runc version\s+v?(\d+(?:\.\d+)*)/m.exec(output)?.[1];
}

/** `redis-server --version` → "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 ...". */
export function parseRedisVersion(output: string): string | undefined {
  return /\bv=(\d+(?:\.\d+)*)/.exec(output)?.[1];
}

/** `iptables --version` → "iptables v1.8.9 (nf_tables)": the version, without the backend. */
export function parseIptablesVersion(output: string): string | undefined {
  return /^iptables v(\d+(?:\.\d+)*)/m.exec(output)?.[1];
}

/** The backend in "iptables v1.8.9 (nf_tables)": nf_tables or legacy (rules behave differently). */
export function parseIptablesBackend(output: string): string | undefined {
  return /^iptables v[\d.]+\s+\(([\w-]+)\)/m.exec(output)?.[1];
}

/** `ip -V` → "ip utility, iproute2-6.1.0, libbpf 1.1.2" (older: "iproute2-ss200127"). */
export function parseIpVersion(output: string): string | undefined {
  return /iproute2-(?:ss)?v?(\d+(?:\.\d+)*)/.exec(output)?.[1];
}

/** `uname -r` → "6.18.44-fc-v657": the numeric part "6.18.44". */
export function parseKernelVersion(unameR: string): string | undefined {
  return /^(\d+(?:\.\d+)*)/.exec(unameR.trim())?.[1];
}

/**
 * Numeric, part-by-part comparison: "4.10" > "4.2", "4.2" == "4.2.0". Accepts Debian version
 * strings too ("1:4.2.1-1+b1" → 4.2.1): the epoch and everything after the numeric part are
 * ignored, which is precise enough for "is it at least X.Y". Returns <0, 0 or >0.
 */
export function compareVersions(a: string, b: string): number {
  const pa = numericParts(a);
  const pb = numericParts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export function versionAtLeast(version: string, minimum: string): boolean {
  return compareVersions(version, minimum) >= 0;
}

function numericParts(version: string): number[] {
  const withoutEpoch = version.trim().replace(/^\d+:/, '');
  const numeric = NUMERIC.exec(withoutEpoch)?.[1] ?? '';
  return numeric === '' ? [] : numeric.split('.').map(Number);
}

/** Runs `<binary> --version` (or `args`) and parses it; undefined when it does not run or says nothing we know. */
export async function readVersion(
  binary: string,
  parse: (output: string) => string | undefined,
  args: readonly string[] = ['--version'],
): Promise<string | undefined> {
  try {
    const r = await exec(binary, args, { allowFailure: true, timeoutMs: 10_000 });
    return parse(`${r.stdout}\n${r.stderr}`);
  } catch {
    return undefined;
  }
}

/** The running kernel's release, as `uname -r` prints it (same syscall, no process needed). */
export function kernelRelease(): string {
  return release();
}
