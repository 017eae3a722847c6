// `migbench doctor`: one line per prerequisite, and for each missing one the command that fixes it.
import { checkPrerequisites } from '../setup/prerequisites.ts';
import { doctorExitCode, formatDoctor } from '../setup/doctor.ts';

export async function doctorCommand(): Promise<number> {
  const checks = await checkPrerequisites();
  process.stdout.write(`${formatDoctor(checks)}\n`);
  return doctorExitCode(checks);
}
