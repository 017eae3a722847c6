// The migbench command line. Each command lives in src/commands/; this file only parses flags and
// turns errors into messages and exit codes (see commands/exit-codes.ts).
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ScenarioError, type ScenarioOverrides } from './scenario/load.ts';
import { PrerequisiteError } from './setup/prerequisites.ts';
import { CommandFailure, EXIT_USAGE } from './commands/exit-codes.ts';
import { runCommand } from './commands/run.ts';
import { validateCommand } from './commands/validate.ts';
import { doctorCommand } from './commands/doctor.ts';
import { cleanupCommand } from './commands/cleanup.ts';
import { simClusterCommand } from './commands/sim-cluster.ts';
import { clusterCommand } from './commands/cluster.ts';
import { CONTAINERD_VERSIONS, DEFAULT_CONTAINERD } from './lab/build/node-build.ts';
import { agentCommand } from './commands/agent.ts';
import { imagesCommand } from './commands/images.ts';
import { compareCommand } from './commands/compare.ts';
import { reportCommand } from './commands/report.ts';

const commandLine = `npm run bench -- ${hideBin(process.argv).slice(1).join(' ')}`.trim();

function overridesFrom(argv: { reps?: number; strategies?: string; warmup?: number; seed?: number }): ScenarioOverrides {
  return {
    ...(argv.reps !== undefined ? { repetitions: argv.reps } : {}),
    ...(argv.strategies !== undefined
      ? {
          strategies: argv.strategies
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        }
      : {}),
    ...(argv.warmup !== undefined ? { warmup: argv.warmup } : {}),
    ...(argv.seed !== undefined ? { seed: argv.seed } : {}),
  };
}

async function main(): Promise<number> {
  let exitCode = 0;
  const set = (code: number) => {
    exitCode = code;
  };
  await yargs(hideBin(process.argv))
    .scriptName('migbench')
    .usage('$0 <command> [options]\n\nMeasures what moving a running pod to another node costs its service.')
    .command(
      'run <scenario>',
      'run a scenario: workloads × strategies × repetitions, results written as CSV',
      (y) =>
        y
          .positional('scenario', { type: 'string', demandOption: true, describe: 'scenario file (YAML)' })
          .option('out', { type: 'string', describe: 'results directory (default: <output.dir>/<run-id>/)' })
          .option('reps', { type: 'number', describe: 'override repetitions' })
          .option('strategies', { type: 'string', describe: 'override strategies, comma-separated (e.g. criu,redeploy)' })
          .option('warmup', { type: 'number', describe: 'override warm-up trials per workload × strategy' })
          .option('seed', { type: 'number', describe: 'override the seed of the trial order' })
          .option('quiet', { type: 'boolean', default: false, describe: 'no progress output' })
          .option('dry-run', { type: 'boolean', default: false, describe: 'kubernetes: print the API calls that would change the cluster, make none' })
          .option('kubeconfig', { type: 'string', describe: 'kubernetes: kubeconfig file (over kubernetes.kubeconfig)' })
          .option('context', { type: 'string', describe: 'kubernetes: kubeconfig context (over kubernetes.context)' })
          .option('namespace', { type: 'string', describe: 'kubernetes: namespace (over kubernetes.namespace)' }),
      async (argv) =>
        set(
          await runCommand({
            scenario: argv.scenario,
            out: argv.out,
            quiet: argv.quiet,
            overrides: overridesFrom(argv),
            commandLine,
            dryRun: argv.dryRun,
            cluster: {
              ...(argv.kubeconfig ? { kubeconfig: argv.kubeconfig } : {}),
              ...(argv.context ? { context: argv.context } : {}),
              ...(argv.namespace ? { namespace: argv.namespace } : {}),
            },
          }),
        ),
    )
    .command(
      'validate <scenario>',
      'check a scenario and show its plan; starts nothing',
      (y) =>
        y
          .positional('scenario', { type: 'string', demandOption: true })
          .option('reps', { type: 'number' })
          .option('strategies', { type: 'string' })
          .option('warmup', { type: 'number' })
          .option('seed', { type: 'number' }),
      async (argv) => set(await validateCommand({ scenario: argv.scenario, overrides: overridesFrom(argv) })),
    )
    .command(
      'compare [baseline] [current]',
      'compare two results directories (or one against a history): medians with 95% CIs, Mann–Whitney p-values Holm-adjusted over the gated metrics; exit 3 on a regression, 4 on one the drift of the host makes unreliable',
      (y) =>
        y
          .positional('baseline', { type: 'string', describe: 'results directory of the baseline run (with --history alone: the run to judge)' })
          .positional('current', { type: 'string', describe: 'results directory of the run to judge' })
          .option('history', { type: 'string', describe: 'history CSV: judge the current run against the last runs in it (docs/nightly.md)' })
          .option('history-runs', { type: 'number', describe: 'how many of the latest runs of the history to judge against (default 20)' })
          .option('append-history', { type: 'boolean', default: false, describe: "append the current run's medians to the --history file" })
          .option('rerun', {
            type: 'string',
            describe: "BASELINE_COMMIT: run that commit's code and this checkout's interleaved in one sitting (with --scenario), then compare them",
          })
          .option('scenario', { type: 'string', describe: '--rerun: the scenario both arms run' })
          .option('reps', { type: 'number', describe: "--rerun: repetitions per arm (default: the scenario's)" })
          .option('rounds', { type: 'number', describe: '--rerun: rounds the repetitions are split into, arms alternating ABBA (default 3)' })
          .option('out', { type: 'string', describe: '--rerun: where both arms write (default results/rerun-<time>)' })
          .option('threshold', {
            type: 'array',
            string: true,
            default: [] as string[],
            describe: "METRIC=+10% or METRIC=+50 (repeatable): gates the metric, besides the scenario's compare.thresholds (else downtime, migration, losses)",
          })
          .option('alpha', { type: 'number', describe: "significance level (default: the scenario's compare.alpha, else 0.05)" })
          .option('metrics', { type: 'string', describe: 'only these metrics, comma-separated' })
          .option('format', { choices: ['table', 'markdown', 'csv'] as const, default: 'table' as const, describe: 'what to print' })
          .option('markdown', { type: 'string', describe: 'also write the Markdown to this file (e.g. a CI job summary)' })
          .option('csv', { type: 'string', describe: 'also write the CSV to this file' }),
      async (argv) =>
        set(
          await compareCommand({
            ...(argv.baseline !== undefined ? { baseline: argv.baseline } : {}),
            ...(argv.current !== undefined ? { current: argv.current } : {}),
            ...(argv.history !== undefined ? { history: argv.history } : {}),
            ...(argv['history-runs'] !== undefined ? { historyRuns: argv['history-runs'] } : {}),
            appendHistory: argv['append-history'],
            ...(argv.rerun !== undefined
              ? {
                  rerun: {
                    commit: argv.rerun,
                    ...(argv.scenario !== undefined ? { scenario: argv.scenario } : {}),
                    ...(argv.reps !== undefined ? { reps: argv.reps } : {}),
                    ...(argv.rounds !== undefined ? { rounds: argv.rounds } : {}),
                    ...(argv.out !== undefined ? { out: argv.out } : {}),
                  },
                }
              : {}),
            thresholds: argv.threshold.map(String),
            format: argv.format,
            ...(argv.alpha !== undefined ? { alpha: argv.alpha } : {}),
            ...(argv.metrics !== undefined
              ? {
                  metrics: argv.metrics
                    .split(',')
                    .map((s) => s.trim())
                    .filter(Boolean),
                }
              : {}),
            ...(argv.markdown !== undefined ? { markdownFile: argv.markdown } : {}),
            ...(argv.csv !== undefined ? { csvFile: argv.csv } : {}),
          }),
        ),
    )
    .command(
      'report <dir>',
      'write a self-contained HTML report of a results directory: summary, distributions, CRIU phases, availability timelines, environment',
      (y) =>
        y
          .positional('dir', { type: 'string', demandOption: true, describe: 'results directory written by `migbench run`' })
          .option('out', { type: 'string', describe: 'HTML file to write (default: <dir>/report.html)' })
          .option('history', { type: 'string', describe: 'a nightly history CSV: adds the history chart with this run marked' }),
      async (argv) =>
        set(
          await reportCommand({
            dir: argv.dir,
            ...(argv.out !== undefined ? { out: argv.out } : {}),
            ...(argv.history !== undefined ? { history: argv.history } : {}),
          }),
        ),
    )
    .command('doctor', 'check every prerequisite and say how to fix what is missing', {}, async () => set(await doctorCommand()))
    .command(
      'cleanup',
      'remove everything migbench created on this host (containers, namespaces, veths, bridge, rules, volumes)',
      (y) =>
        y
          .option('store', { type: 'array', string: true, default: [] as string[], describe: 'also empty this checkpoint store (local.checkpointDir)' })
          .option('platform', {
            choices: ['local', 'kubernetes'] as const,
            default: 'local' as const,
            describe: 'kubernetes: remove what migbench created in --namespace and uncordon the nodes it cordoned',
          })
          .option('kubeconfig', { type: 'string', describe: 'kubernetes: kubeconfig file (default $KUBECONFIG, ~/.kube/config)' })
          .option('context', { type: 'string', describe: 'kubernetes: kubeconfig context' })
          .option('namespace', { type: 'string', default: 'migbench', describe: "kubernetes: the scenario's namespace" })
          .option('all-namespaces', {
            type: 'boolean',
            default: false,
            describe:
              "kubernetes: on the nodes, remove every namespace's checkpoint leftovers and those an older migbench left without a namespace (only when no other run uses the cluster)",
          }),
      async (argv) =>
        set(
          await cleanupCommand(argv.platform, {
            stores: argv.store.map(String),
            commandLine: 'npm run migbench -- cleanup',
            cluster: {
              namespace: argv.namespace,
              ...(argv.allNamespaces ? { allNamespaces: true } : {}),
              ...(argv.kubeconfig ? { kubeconfig: argv.kubeconfig } : {}),
              ...(argv.context ? { context: argv.context } : {}),
            },
          }),
        ),
    )
    .command(
      'sim-cluster <action>',
      'start, stop or show a Kubernetes control plane with fake nodes (kwok) on 127.0.0.1; built from source on first use (or by `build`)',
      (y) =>
        y
          .positional('action', { choices: ['build', 'start', 'stop', 'status'] as const, demandOption: true })
          .option('workers', { type: 'string', describe: 'worker node names, comma-separated (default: worker-a,worker-b)' }),
      async (argv) =>
        set(
          await simClusterCommand({
            action: argv.action,
            commandLine: `sh bin/migbench sim-cluster ${argv.action}`,
            ...(argv.workers !== undefined
              ? {
                  workers: argv.workers
                    .split(',')
                    .map((s) => s.trim())
                    .filter(Boolean),
                }
              : {}),
          }),
        ),
    )
    .command(
      'cluster <action>',
      'build, start, stop or show a Kubernetes cluster with real worker nodes (kubelet, containerd, runc, kube-proxy; 2 unless --workers N) in network namespaces on this host',
      (y) =>
        y
          .positional('action', { choices: ['build', 'start', 'stop', 'status'] as const, demandOption: true })
          .option('workers', { type: 'number', describe: 'start: how many worker nodes (2 to 6, default 2): worker-a, worker-b, worker-c, …' })
          .option('proxy-mode', { type: 'string', describe: "start: kube-proxy's mode, iptables (stock) or nftables" })
          .option('proxy-min-sync-ms', { type: 'number', describe: "start: kube-proxy's minSyncPeriod in ms (stock 1000)" })
          .option('evented-pleg', { type: 'boolean', describe: "start: the kubelet's EventedPLEG feature gate (containerd's event stream; stock off)" })
          .option('containerd', {
            choices: CONTAINERD_VERSIONS,
            default: DEFAULT_CONTAINERD,
            describe: "build, start: the nodes' containerd (2.4 has no restore from a checkpoint image; each version is cached apart)",
          })
          .option('runtime-handler', {
            type: 'boolean',
            default: false,
            describe: 'start: install the runtime handler migbench (runc wrapper, containerd drop-in, RuntimeClass) on the nodes: strategy runtime-restore',
          }),
      async (argv) =>
        set(
          await clusterCommand({
            action: argv.action,
            commandLine: `sh bin/migbench cluster ${argv.action}${argv.workers !== undefined ? ` --workers ${argv.workers}` : ''}`,
            ...(argv.workers !== undefined ? { workers: argv.workers } : {}),
            containerd: argv.containerd,
            runtimeHandler: argv['runtime-handler'],
            settings: {
              ...(argv['proxy-mode'] !== undefined ? { proxyMode: argv['proxy-mode'] } : {}),
              ...(argv['proxy-min-sync-ms'] !== undefined ? { proxyMinSyncMs: argv['proxy-min-sync-ms'] } : {}),
              ...(argv['evented-pleg'] !== undefined ? { eventedPleg: argv['evented-pleg'] } : {}),
            },
          }),
        ),
    )
    .command(
      'agent <action>',
      "install, remove or show the node agent kubelet-checkpoint's node steps run in (a DaemonSet in namespace migbench-agent, reached through the API server)",
      (y) =>
        y
          .positional('action', { choices: ['install', 'uninstall', 'status', 'image'] as const, demandOption: true })
          .option('kubeconfig', { type: 'string', describe: 'kubeconfig file (default $KUBECONFIG, ~/.kube/config)' })
          .option('context', { type: 'string', describe: 'kubeconfig context' })
          .option('image', {
            type: 'string',
            describe: 'install: the agent image the nodes pull (default: built here from agent/, for nodes that already hold it)',
          })
          .option('kubelet-checkpoint-dir', {
            type: 'string',
            describe: "install: the kubelet's checkpoint directory on the nodes (default /var/lib/kubelet/checkpoints)",
          })
          .option('runtime-socket', { type: 'string', describe: "install: containerd's socket on the nodes (default /run/containerd/containerd.sock)" })
          .option('state-dir', {
            type: 'string',
            describe: "install: the agent's directory on the nodes: CRIU options, received archives, root-only (default /var/lib/migbench-agent)",
          })
          .option('containerd-config', {
            type: 'string',
            describe:
              "install --runtime-handler: containerd's config file on the nodes, which must import a drop-in directory (default /etc/containerd/config.toml)",
          })
          .option('runtime-handler', {
            type: 'boolean',
            default: false,
            describe:
              "install: also install the runtime handler migbench (strategy runtime-restore) on every node: the runc wrapper in the agent's state dir, a drop-in in containerd's imported config dir, a containerd restart (running containers stay), the RuntimeClass migbench; uninstall removes it whether or not given",
          })
          .option('timeout', { type: 'number', default: 180, describe: 'seconds to wait for the agent to be ready (install) or gone (uninstall)' })
          .option('push', {
            type: 'string',
            describe: 'image: push the agent image (linux/amd64 and linux/arm64) to this registry and print its reference by digest (for install --image)',
          })
          .option('insecure', { type: 'boolean', default: false, describe: 'image: the --push registry speaks plain HTTP' })
          .option('network-policy', {
            type: 'boolean',
            default: true,
            describe:
              "install: a NetworkPolicy admitting the agent's port from the API server and the agents only (--no-network-policy where the CNI's host traffic leaves from another address)",
          })
          .option('shared-class', {
            type: 'string',
            describe:
              'install: a ReadWriteMany StorageClass (NFS, CephFS…); migbench makes the claim migbench-agent-shared from it, which every agent mounts, for the strategies with transfer: shared-volume',
          })
          .option('shared-claim', {
            type: 'string',
            describe: 'install: an existing ReadWriteMany claim in namespace migbench-agent every agent mounts, for transfer: shared-volume',
          })
          .option('registry-secret', {
            type: 'string',
            describe:
              "install: [NAMESPACE/]NAME of a kubernetes.io/dockerconfigjson Secret (the one imagePullSecrets name; namespace default: default) with the logins of kubelet-checkpoint's registry; copied into namespace migbench-agent, mounted root-only, for the agents' checkpoint image pushes and deletes",
          })
          .option('registry-ca', {
            type: 'string',
            describe: "install: a PEM file of the CA that signed kubelet-checkpoint's registry's certificate; the agents trust it beside the system's roots",
          })
          .conflicts('shared-class', 'shared-claim'),
      async (argv) =>
        set(
          await agentCommand({
            action: argv.action,
            cluster: { ...(argv.kubeconfig ? { kubeconfig: argv.kubeconfig } : {}), ...(argv.context ? { context: argv.context } : {}) },
            ...(argv.image ? { image: argv.image } : {}),
            paths: {
              ...(argv['kubelet-checkpoint-dir'] ? { kubeletCheckpointDir: argv['kubelet-checkpoint-dir'] } : {}),
              ...(argv['runtime-socket'] ? { runtimeSocket: argv['runtime-socket'] } : {}),
              ...(argv['state-dir'] ? { stateDir: argv['state-dir'] } : {}),
              ...(argv['containerd-config'] ? { containerdConfig: argv['containerd-config'] } : {}),
            },
            runtimeHandler: argv['runtime-handler'],
            timeoutSeconds: argv.timeout,
            ...(argv['shared-class'] ? { sharedVolume: { storageClass: argv['shared-class'] } } : {}),
            ...(argv['shared-claim'] ? { sharedVolume: { claim: argv['shared-claim'] } } : {}),
            ...(argv['registry-secret'] !== undefined ? { registrySecret: argv['registry-secret'] } : {}),
            ...(argv['registry-ca'] !== undefined ? { registryCa: argv['registry-ca'] } : {}),
            ...(argv.push ? { push: argv.push } : {}),
            insecure: argv.insecure,
            networkPolicy: argv['network-policy'],
          }),
        ),
    )
    .command(
      'images <action>',
      "build the workloads' OCI images from Debian's packages (no Docker), cached; --push or --load them and print the pinned references",
      (y) =>
        y
          .positional('action', { choices: ['build'] as const, demandOption: true })
          .option('workload', {
            type: 'array',
            string: true,
            default: [] as string[],
            describe: 'only these workloads (redis, video, ml-training; default: all)',
          })
          .option('push', { type: 'string', describe: 'push to this registry (HOST[:PORT][/PATH]) and print the references by digest' })
          .option('load', { type: 'string', describe: "lab: push to the lab's registry (`migbench cluster start`)" })
          .option('insecure', { type: 'boolean', default: false, describe: '--push over plain HTTP' })
          .option('rebuild', { type: 'boolean', default: false, describe: "build even when a cached image has the same inputs (Debian's newer packages)" }),
      async (argv) =>
        set(
          await imagesCommand({
            workloads: argv.workload.map(String),
            ...(argv.push !== undefined ? { push: argv.push } : {}),
            ...(argv.load !== undefined ? { load: argv.load } : {}),
            insecure: argv.insecure,
            rebuild: argv.rebuild,
            commandLine: `sh bin/migbench images ${argv.action}`,
          }),
        ),
    )
    .demandCommand(1, 'name a command: run, validate, compare, report, doctor, cleanup, sim-cluster, cluster, images or agent')
    .strict()
    .fail((message, error) => {
      if (error) throw error;
      process.stderr.write(`migbench: ${message}\n(see: migbench --help)\n`);
      process.exit(EXIT_USAGE);
    })
    .help()
    .parseAsync();
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ScenarioError || err instanceof PrerequisiteError || err instanceof CommandFailure) {
      process.stderr.write(`${err.message}\n`);
      process.exit(err instanceof CommandFailure ? err.exitCode : EXIT_USAGE);
    }
    process.stderr.write(`migbench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
