// run.json: everything needed to judge or repeat a run — the scenario as run (defaults filled in),
// the versions of every part in the data path, the host, the code's commit, start and end.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { cpus, hostname, release, totalmem } from 'node:os';
import type { Scenario } from '../scenario/schema.ts';
import { runEnvironment, type RunEnvironment } from '../system/host-load.ts';
import type { HarnessCpu } from '../system/harness-cpu.ts';

interface HostInfo {
  hostname: string;
  os: string;
  kernel: string;
  cpuModel: string;
  cpus: number;
  memoryBytes: number;
  node: string;
}

export interface RunInfo {
  runId: string;
  scenarioFile: string;
  /** The scenario after defaults and command-line overrides: exactly what was run. */
  scenario: Scenario;
  /** The scenario file's text as read. */
  scenarioSource?: string;
  startedAt: string;
  /** null while the run is going on (a crashed run keeps null). */
  endedAt: string | null;
  host: HostInfo;
  versions: Record<string, string>;
  /** Commit of the migbench code that ran, with " (modified)" when the work tree had changes; null outside git. */
  gitCommit: string | null;
  argv: string[];
  /** local: nodes → their CPUs, the pod subnet, the store; kubernetes: nodes → their role, the API server, context and namespace. */
  platform?: {
    name: string;
    nodes: Record<string, string>;
    subnet?: string;
    checkpointDir?: string;
    checkpointStore?: string;
    runtime?: string;
    /** local: how CRIU found its kernel-facts cache (platforms/local/criu-kernel-cache.ts). */
    criuKernelCache?: string;
    nodeLinkMbit?: number;
    server?: string;
    context?: string;
    namespace?: string;
    /** kubernetes: what each node runs (kubelet, checkpoint gate, runtime, restore window, kernel…), platforms/kubernetes/node-runtime.ts. */
    runtimes?: Record<string, Record<string, string>>;
  };
  /** unsupported: trials of strategies this host cannot run (absent when none). */
  trials: { planned: number; ok: number; failed: number; unsupported?: number };
  /**
   * podmigration trials by who restored the pod: `test-double` counts the trials migbench's test
   * double of the operator served (simulated: nothing checkpointed); absent when no podmigration
   * trial restored a pod.
   */
  podmigrationOperator?: { 'test-double'?: number; real?: number };
  /** The host's state as the run started (load, memory); each trial's own load is in trials.csv's host_* columns. */
  environment?: RunEnvironment;
  /** The test-only injected switch delay (MIGBENCH_TEST_SWITCH_DELAY_MS) as set; absent in a real measurement. */
  testSwitchDelay?: string;
  /** migbench's own process CPU from the start of the run to its last write (process.cpuUsage; not the pods, CRIU or the nodes). */
  harnessCpu?: HarnessCpu;
}

/** run.json of a run that is starting: identical on every platform but for `versions` and `platform`. */
export function startRunInfo(run: {
  runId: string;
  scenarioFile: string;
  scenario: Scenario;
  scenarioSource?: string;
  startedAt: Date;
  versions: Record<string, string>;
  plannedTrials: number;
  platform?: RunInfo['platform'];
  testSwitchDelay?: string;
}): RunInfo {
  return {
    runId: run.runId,
    scenarioFile: run.scenarioFile,
    scenario: run.scenario,
    ...(run.scenarioSource !== undefined ? { scenarioSource: run.scenarioSource } : {}),
    startedAt: run.startedAt.toISOString(),
    endedAt: null,
    host: collectHostInfo(),
    environment: runEnvironment(),
    versions: run.versions,
    gitCommit: gitCommit(resolve(import.meta.dirname, '..', '..')),
    argv: process.argv.slice(2),
    ...(run.platform ? { platform: run.platform } : {}),
    trials: { planned: run.plannedTrials, ok: 0, failed: 0 },
    ...(run.testSwitchDelay !== undefined ? { testSwitchDelay: run.testSwitchDelay } : {}),
  };
}

function collectHostInfo(): HostInfo {
  const cpuList = cpus();
  let os = 'unknown';
  try {
    os = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    // No os-release (unusual container image): leave 'unknown' rather than fail the run.
  }
  return {
    hostname: hostname(),
    os,
    kernel: release(),
    cpuModel: cpuList[0]?.model ?? 'unknown',
    cpus: cpuList.length,
    memoryBytes: totalmem(),
    node: process.version,
  };
}

function gitCommit(dir: string): string | null {
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const commit = git('rev-parse', 'HEAD');
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return dirty ? `${commit} (modified)` : commit;
  } catch {
    return null;
  }
}
