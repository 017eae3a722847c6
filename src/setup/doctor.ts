// `migbench doctor`'s report: one aligned line per prerequisite, the fix on the line that fails,
// so a user can copy the command without reading anything else.
import type { Check } from './prerequisites.ts';

const DOCTOR_OK = 0;
/** Same code as a usage error: the host, not a trial, is what is wrong. */
const DOCTOR_FAILED = 2;

export function formatDoctor(checks: readonly Check[]): string {
  const nameWidth = Math.max(16, ...checks.map((c) => c.name.length)) + 2;
  return checks.map((c) => formatCheck(c, nameWidth)).join('\n');
}

function formatCheck(check: Check, nameWidth: number): string {
  const status = (check.ok ? 'ok' : 'FAIL').padEnd(6);
  const line = `${status}${check.name.padEnd(nameWidth)}${check.found}`;
  return !check.ok && check.fix ? `${line}  → fix: ${check.fix}` : line;
}

export function doctorExitCode(checks: readonly Check[]): number {
  return checks.every((c) => c.ok) ? DOCTOR_OK : DOCTOR_FAILED;
}
