// What the commands need of a platform (local, kubernetes): check a scenario against it, listing
// every problem at once; make it ready for a run (PreparedRun, run.ts); remove what migbench left on
// it. The runner owns this contract and knows no platform: each platform implements it
// (platforms/<name>/driver/), and platforms/registry.ts maps the scenario's `platform` to one.
import type { LoadedScenario } from '../scenario/load.ts';
import type { PreparedRun } from './run.ts';

/** The cluster a kubernetes run or cleanup talks to, as the command line names it (over the scenario's). */
export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export interface RunRequest {
  loaded: LoadedScenario;
  /** The scenario file as the user named it. */
  scenarioFile: string;
  outDir: string;
  /** The command line as the user typed it, for messages that say what to run. */
  commandLine: string;
  /** `--dry-run`: print the calls that would change the platform, make none. */
  dryRun: boolean;
  cluster: ClusterFlags;
  /** Progress and diagnostics (the terminal's stderr). */
  log: (line: string) => void;
  /** What the command prints as its result (a dry run's calls; the terminal's stdout). */
  output: (line: string) => void;
}

export interface CleanupRequest {
  /** Checkpoint stores to empty besides the default one (local). */
  stores: string[];
  /** kubernetes: the namespace whose objects, cordons and node leftovers go; allNamespaces: on the nodes, every namespace's leftovers and those recorded for none. */
  cluster: ClusterFlags & { namespace: string; allNamespaces?: boolean };
  commandLine: string;
}

/** Removed: one line per thing removed. Problems: nothing could be removed, and why (exit 2). */
export type CleanupOutcome = { removed: string[] } | { problems: string[] };

export interface PlatformDriver {
  /** Every problem of this run on this platform, found reading only; empty: prepare() may run. */
  validate(request: RunRequest): Promise<string[]>;
  /** The platform checked and ready to start (what it lacks is installed first, where it can be). */
  prepare(request: RunRequest): Promise<PreparedRun>;
  /** Removes everything migbench created on the platform, found by name or label. */
  cleanup(request: CleanupRequest): Promise<CleanupOutcome>;
}
