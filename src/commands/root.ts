// The root check of the commands that change the host (the lab's clusters, the local platform).
import { rootProblem } from '../system/root.ts';
import { CommandFailure, EXIT_USAGE } from './exit-codes.ts';

export function requireRoot(commandLine: string): void {
  const problem = rootProblem(commandLine);
  if (problem) throw new CommandFailure(problem, EXIT_USAGE);
}
