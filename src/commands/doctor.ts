// `migbench doctor`: one line per prerequisite, and for each missing one the command that fixes it.
import { checkPrerequisites } from '../setup/prerequisites.ts';
import { doctorExitCode, formatDoctor } from '../setup/doctor.ts';
import { checkWorkloadPrerequisites } from '../setup/workload-prerequisites.ts';

export async function doctorCommand(): Promise<number> {
  const checks = [...(await checkPrerequisites()), ...(await checkWorkloadPrerequisites())];
  process.stdout.write(`${formatDoctor(checks)}\n`);
  return doctorExitCode(checks);
}
