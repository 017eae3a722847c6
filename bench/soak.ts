// `node --expose-gc bench/soak.ts [--trials 50] [--out DIR]` (root; `npm run bench:soak`): many trials in a row on one local platform,
// mixed workloads and strategies, with a leak check after every trial. What a trial creates must be
// gone when it ends — else the 50th trial runs on a host that is not the first one's, and a long
// run dies of exhausted fds, addresses or disk. Counted after each trial against the count taken
// before the first: open fds of migbench, mounts, iptables rules, conntrack entries of the pod
// network that are not closing, cgroups, network namespaces, processes (in migbench's cgroups, CRIU,
// the pods' launchers) and the bytes on the checkpoint store. Prints the counts per trial and each
// kind's trend (least-squares slope per trial); exits 1 when any count did not come back.
// test/platforms/local/soak.host.test.ts runs a short version in CI.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { LocalPlatform } from '../src/platforms/local/local-platform.ts';
import { CGROUP_PARENT, OBJECT_PREFIX, RUN_DIR } from '../src/platforms/local/names.ts';
import { planTrials } from '../src/plan/plan.ts';
import { ResultsDir } from '../src/results/results-dir.ts';
import { Runner } from '../src/runner/run.ts';
import { LocalTrialSteps } from '../src/platforms/local/driver/trial.ts';
import { createStrategy } from '../src/strategies/registry.ts';
import { parseScenario } from '../src/scenario/load.ts';
import { ensurePrerequisites } from '../src/setup/prerequisites.ts';
import { ensureWorkloadPrerequisites } from '../src/setup/workload-prerequisites.ts';
import { textTable } from '../src/report/text-table.ts';

export const LEAK_KINDS = ['fds', 'mounts', 'iptables', 'conntrack', 'cgroups', 'netns', 'processes', 'store_bytes'] as const;
export type LeakKind = (typeof LEAK_KINDS)[number];
export type Counts = Record<LeakKind, number>;

export interface SoakRow {
  trial: number;
  workload: string;
  strategy: string;
  status: string;
  counts: Counts;
  rssMiB: number;
  /** V8 heap in use after a full GC (run node with --expose-gc), else as found. */
  heapMiB: number;
  /** The processes counted, when their count is off the baseline (what leaked). */
  processList?: string[];
}

export interface SoakResult {
  baseline: Counts;
  rows: SoakRow[];
  /** Per kind: trials after which the count was not back at the baseline. */
  leaks: Record<LeakKind, number>;
  /** Per kind: least-squares slope of the count per trial. */
  slopes: Record<LeakKind, number>;
  durationMs: number;
}

// Its own pod network: conntrack entries of other runs' pods (ESTABLISHED ones live for days) are not counted.
const SUBNET = '198.18.14.0/24';

function lines(cmd: string, args: string[]): string[] {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .filter(Boolean);
  } catch {
    return [];
  }
}

function treeBytes(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((sum, e) => sum + treeBytes(`${path}/${e}`), 0);
}

/** Processes of migbench's pods and tools: in its cgroups, running CRIU, or its pods' launch pipelines. */
export function migbenchProcesses(criu: string, list?: string[]): number {
  let n = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cgroup = readFileSync(`/proc/${entry}/cgroup`, 'utf8');
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      let exe = '';
      try {
        exe = readlinkSync(`/proc/${entry}/exe`);
      } catch {
        /* kernel thread */
      }
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.slice(0, 1);
      // A zombie holds nothing but its pid, and the pod's last one is reaped moments after the pod
      // is removed (its parent is outside migbench); counting it would report the timing, not a leak.
      if (state === 'Z') continue;
      if (cgroup.includes(`/${CGROUP_PARENT}/`) || exe === criu || /migbench-(pod|lazy-dump)\0/.test(cmdline)) {
        n++;
        list?.push(`${entry} ${state} ${cmdline.replace(/\0/g, ' ').trim()} [${cgroup.split('\n').find((l) => l.includes(CGROUP_PARENT)) ?? ''}]`);
      }
    } catch {
      /* gone */
    }
  }
  return n;
}

/**
 * ESTABLISHED conntrack entries of the pod network: they live 5 days (nf_conntrack_tcp_timeout_established)
 * when their pod vanished without closing them. Every other state expires within 2 minutes by
 * itself (SYN_SENT and TIME_WAIT: 120 s), so probes' refused attempts during an outage are not leaks.
 */
function conntrackEntries(prefix: string): number {
  const file = '/proc/net/nf_conntrack';
  const rows = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : lines('conntrack', ['-L']);
  return rows.filter((l) => l.includes(prefix) && / ESTABLISHED /.test(l)).length;
}

export function hostCounts(store: string, criu: string): Counts {
  const cgroupRoots = existsSync('/sys/fs/cgroup/cgroup.controllers') ? ['/sys/fs/cgroup'] : readdirSync('/sys/fs/cgroup').map((h) => `/sys/fs/cgroup/${h}`);
  return {
    fds: readdirSync('/proc/self/fd').length,
    // The host's mount table is shared with whatever else runs here: only migbench's (network
    // namespaces' bind mounts, the store's tmpfs and CRIU's cgroup yards under it, /run/migbench).
    mounts: readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => m.startsWith(`/run/netns/${OBJECT_PREFIX}`) || m === store || m.startsWith(`${store}/`) || m === RUN_DIR || m.startsWith(`${RUN_DIR}/`))
      .length,
    iptables: [...lines('iptables', ['-t', 'nat', '-S']), ...lines('iptables', ['-t', 'filter', '-S'])].filter((l) => l.includes('MIGBENCH')).length,
    conntrack: conntrackEntries(SUBNET.replace(/0\/24$/, '')),
    cgroups: cgroupRoots.reduce(
      (sum, r) =>
        sum + (existsSync(`${r}/${CGROUP_PARENT}`) ? readdirSync(`${r}/${CGROUP_PARENT}`, { withFileTypes: true }).filter((d) => d.isDirectory()).length : 0),
      0,
    ),
    netns: lines('ip', ['netns', 'list']).filter((l) => l.startsWith(OBJECT_PREFIX)).length,
    processes: migbenchProcesses(criu),
    store_bytes: treeBytes(store),
  };
}

/** The harness's memory after a full GC when node runs with --expose-gc (what is still referenced, not what the GC has not got to). */
function memory(): { rssMiB: number; heapMiB: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rssMiB: m.rss / 2 ** 20, heapMiB: m.heapUsed / 2 ** 20 };
}

function slope(ys: number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}

/** The soak's scenario: Redis and the video stream, each moved by CRIU (store, page server), redeploy and drain. */
function soakScenario(trials: number, store: string, workloads: string[]): string {
  const cells = workloads.length * 4;
  return [
    'name: soak',
    'workloads:',
    ...(workloads.includes('redis') ? ['  - { type: redis, keys: 20000 }'] : []),
    ...(workloads.includes('video') ? ['  - { type: video, probe: { intervalMs: 10 } }'] : []),
    'strategies: [criu, criu-pageserver, { name: redeploy, gracePeriodSeconds: 2 }, { name: drain, gracePeriodSeconds: 2 }]',
    `repetitions: ${Math.ceil(trials / cells)}`,
    'warmup: 0',
    'seed: 14',
    'timing: { settleMs: 500, observeMs: 2000 }',
    'probe: { intervalMs: 5 }',
    `local: { subnet: ${SUBNET}, checkpointDir: ${store} }`,
    '',
  ].join('\n');
}

export async function runSoak(options: {
  trials: number;
  out: string;
  workloads?: string[];
  onRow?: (row: SoakRow, baseline: Counts) => void;
}): Promise<SoakResult> {
  const workloads = options.workloads ?? ['redis', 'video'];
  const store = mkdtempSync(`${tmpdir()}/migbench-soak-store-`);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const tools = await ensurePrerequisites(log);
  await ensureWorkloadPrerequisites(workloads as ('redis' | 'video')[], log);
  const { scenario, migration } = parseScenario('soak.yaml', soakScenario(options.trials, store, workloads));
  const trials = planTrials(scenario).slice(0, options.trials);
  const results = new ResultsDir(options.out);
  results.open();
  const started = performance.now();
  const platform = await LocalPlatform.create({
    nodes: scenario.nodes,
    subnet: scenario.local.subnet,
    checkpointDir: store,
    logDir: `${options.out}/pods`,
    tools: { runc: tools.runc, criu: tools.criu, iptables: tools.iptables, ip: tools.ip },
    log,
  });
  const rows: SoakRow[] = [];
  let baseline: Counts | undefined;
  try {
    baseline = hostCounts(store, tools.criu);
    const runner = new Runner();
    runner.on('trial-end', (result) => {
      const row: SoakRow = {
        trial: result.trial,
        workload: result.workload,
        strategy: result.strategy,
        status: result.status,
        counts: hostCounts(store, tools.criu),
        ...memory(),
      };
      if (row.counts.processes !== baseline!.processes) migbenchProcesses(tools.criu, (row.processList = []));
      rows.push(row);
      options.onRow?.(row, baseline!);
    });
    await runner.run({
      runId: 'soak',
      scenario,
      trials,
      signal: new AbortController().signal,
      // As `migbench run` drives the local platform (platforms/local/driver/run.ts).
      platform: {
        unsupportedReason: async (strategy) => createStrategy(strategy).unsupportedReason?.(platform),
        trialSteps: (trial, _identity, workload) =>
          new LocalTrialSteps({
            platform,
            workload,
            strategy: createStrategy(trial.strategy),
            from: migration.from,
            to: migration.to,
            timing: scenario.timing,
          }),
      },
      record: (result, metrics) => results.appendTrial(result, metrics),
    });
  } finally {
    await platform.close();
    rmSync(store, { recursive: true, force: true });
  }
  const leaks = Object.fromEntries(LEAK_KINDS.map((k) => [k, rows.filter((r) => r.counts[k] !== baseline![k]).length])) as Record<LeakKind, number>;
  const slopes = Object.fromEntries(LEAK_KINDS.map((k) => [k, slope(rows.map((r) => r.counts[k]))])) as Record<LeakKind, number>;
  return { baseline: baseline!, rows, leaks, slopes, durationMs: performance.now() - started };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { trials: { type: 'string', default: '50' }, out: { type: 'string' } } });
  const out = values.out ?? mkdtempSync(`${tmpdir()}/migbench-soak-`);
  const header = ['trial', 'workload', 'strategy', 'status', ...LEAK_KINDS, 'rss_mib', 'heap_mib'];
  process.stdout.write(`${header.join('\t')}\n`);
  const result = await runSoak({
    trials: Number(values.trials),
    out,
    onRow: (row, base) => {
      // A count off its starting value is marked with its difference.
      const cells = LEAK_KINDS.map((k) =>
        row.counts[k] === base[k] ? String(row.counts[k]) : `${row.counts[k]} (${row.counts[k] > base[k] ? '+' : ''}${row.counts[k] - base[k]})`,
      );
      process.stdout.write(`${[row.trial, row.workload, row.strategy, row.status, ...cells, row.rssMiB.toFixed(1), row.heapMiB.toFixed(1)].join('\t')}\n`);
      for (const p of row.processList ?? []) process.stdout.write(`\t  process: ${p}\n`);
    },
  });
  process.stdout.write(
    `\n${textTable(
      ['kind', 'start', 'end', 'trials off start', 'trend per trial'],
      LEAK_KINDS.map((k) => [k, String(result.baseline[k]), String(result.rows.at(-1)?.counts[k] ?? ''), String(result.leaks[k]), result.slopes[k].toFixed(3)]),
    )}\n`,
  );
  const rss = result.rows.map((r) => r.rssMiB);
  const heap = result.rows.map((r) => r.heapMiB);
  process.stdout.write(
    `\n${result.rows.length} trials (${result.rows.filter((r) => r.status === 'ok').length} ok) in ${(result.durationMs / 1000).toFixed(0)} s; rss ${rss[0]?.toFixed(1)} → ${rss.at(-1)?.toFixed(1)} MiB (trend ${slope(rss).toFixed(3)} MiB/trial); heap ${heap[0]?.toFixed(1)} → ${heap.at(-1)?.toFixed(1)} MiB (trend ${slope(heap).toFixed(3)} MiB/trial${(globalThis as { gc?: unknown }).gc ? ', after GC' : ', without --expose-gc'}); results: ${out}\n`,
  );
  const leaked = LEAK_KINDS.filter((k) => result.leaks[k] > 0);
  process.stdout.write(leaked.length === 0 ? 'soak: 0 leaks\n' : `soak: leaks: ${leaked.map((k) => `${k} after ${result.leaks[k]} trials`).join(', ')}\n`);
  process.exit(leaked.length === 0 ? 0 : 1);
}
