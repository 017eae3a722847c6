// `migbench sim-cluster start|stop|status`: a real Kubernetes control plane with kwok's fake nodes on
// 127.0.0.1 (src/lab/sim/sim-cluster.ts), to run the kubernetes platform's scenarios
// without a cluster. `start` builds the binaries on first use, then returns with the cluster running.
import { ensureControlPlane } from '../lab/build/control-plane-build.ts';
import { CONTROL_PLANE_NODE, SIM_CLUSTER_DIR, SimClusterError, simClusterStatus, startSimCluster, stopSimCluster } from '../lab/sim/sim-cluster.ts';
import { CommandFailure, EXIT_INTERRUPTED, EXIT_TRIAL_FAILED, EXIT_USAGE } from './exit-codes.ts';
import { requireRoot } from './root.ts';

export type SimClusterAction = 'build' | 'start' | 'stop' | 'status';

export async function simClusterCommand(args: { action: SimClusterAction; workers?: string[]; commandLine: string }): Promise<number> {
  if (args.workers) checkWorkerNames(args.workers);
  requireRoot(args.commandLine);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  switch (args.action) {
    case 'build': {
      // What CI runs before `npm test`: the build's duration is then reported on its own.
      const started = performance.now();
      const cp = await ensureControlPlane(progress, { verbose: process.env.MIGBENCH_VERBOSE === '1' });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      out(`migbench sim-cluster: control plane Kubernetes ${cp.versions.kubernetes}, etcd ${cp.versions.etcd}, kwok ${cp.versions.kwok} in ${cp.dir}`);
      out(cp.source === 'built' ? `  built in ${seconds} s` : `  cached (built ${cp.builtAt} in ${cp.buildSeconds} s); checked in ${seconds} s`);
      return 0;
    }
    case 'start': {
      const now = await simClusterStatus(SIM_CLUSTER_DIR);
      if (now.state && now.apiReady && now.running.length === now.state.processes.length) {
        const wanted = args.workers ? [CONTROL_PLANE_NODE, ...args.workers].join(', ') : undefined;
        if (wanted !== undefined && wanted !== now.state.nodes.join(', ')) {
          throw new CommandFailure(`migbench sim-cluster: already running with nodes ${now.state.nodes.join(', ')}; stop it first for ${wanted}`, EXIT_USAGE);
        }
        out(`migbench sim-cluster: already running (${now.state.server}, ${now.state.nodes.join(', ')})`);
        out(`kubeconfig: ${now.state.kubeconfig}`);
        return 0;
      }
      // Ctrl-C while it starts: stop what was started (the daemons run in their own sessions and do not get the signal).
      const abort = new AbortController();
      const interrupt = () => abort.abort();
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      try {
        const state = await startSimCluster({ dir: SIM_CLUSTER_DIR, progress, signal: abort.signal, ...(args.workers ? { workers: args.workers } : {}) });
        out(
          `migbench sim-cluster: ready in ${((state.startupMs ?? 0) / 1000).toFixed(1)} s: Kubernetes ${state.versions.kubernetes} at ${state.server}, nodes ${state.nodes.join(', ')}`,
        );
        out(`kubeconfig: ${state.kubeconfig}`);
        out(`  export KUBECONFIG=${state.kubeconfig}   # stop it with: sh bin/migbench sim-cluster stop`);
        return 0;
      } catch (err) {
        if (abort.signal.aborted) {
          progress('migbench sim-cluster: interrupted; everything it had started is stopped');
          return EXIT_INTERRUPTED;
        }
        throw commandFailure(err);
      } finally {
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
      }
    }
    case 'stop': {
      const stopped = await stopSimCluster(SIM_CLUSTER_DIR);
      out(stopped.length === 0 ? 'migbench sim-cluster: nothing running' : `migbench sim-cluster: stopped ${stopped.join(', ')}`);
      return 0;
    }
    case 'status': {
      const s = await simClusterStatus(SIM_CLUSTER_DIR);
      if (!s.state && s.running.length === 0) {
        out('migbench sim-cluster: not running');
        return EXIT_TRIAL_FAILED;
      }
      const expected = s.state?.processes.map((p) => p.name) ?? [];
      const missing = expected.filter((name) => !s.running.some((p) => p.binary.endsWith(`/${name}`)));
      out(
        `migbench sim-cluster: ${s.apiReady && missing.length === 0 ? 'running' : 'unhealthy'}${s.state ? ` (Kubernetes ${s.state.versions.kubernetes} at ${s.state.server})` : ''}`,
      );
      if (s.state) out(`kubeconfig: ${s.state.kubeconfig}`);
      out(`API server /readyz: ${s.apiReady ? 'ok' : 'not ok'}`);
      for (const p of s.running) out(`  ${p.name} (pid ${p.pid})`);
      for (const name of missing) out(`  ${name}: not running (log: ${SIM_CLUSTER_DIR}/logs/${name}.log)`);
      return s.apiReady && missing.length === 0 ? 0 : EXIT_TRIAL_FAILED;
    }
  }
}

/**
 * A component that did not come up fails the command (exit 1, with its log lines). No Go toolchain
 * or a failed build is a PrerequisiteError: exit 2 with its fix, like every missing prerequisite.
 */
function commandFailure(err: unknown): unknown {
  return err instanceof SimClusterError ? new CommandFailure(err.message, EXIT_TRIAL_FAILED) : err;
}

/** Node names are DNS subdomains; checked before anything starts (exit 2). */
function checkWorkerNames(workers: string[]): void {
  const bad = workers.filter((w) => !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(w) || w === CONTROL_PLANE_NODE);
  const repeated = workers.filter((w, i) => workers.indexOf(w) !== i);
  if (workers.length === 0 || bad.length > 0 || repeated.length > 0) {
    const why = workers.length === 0 ? 'no names given' : bad.length > 0 ? `not a node name: ${bad.join(', ')}` : `named twice: ${repeated.join(', ')}`;
    throw new CommandFailure(
      `migbench sim-cluster: --workers: ${why}; give distinct lower-case DNS names other than "${CONTROL_PLANE_NODE}", e.g. --workers worker-a,worker-b`,
      EXIT_USAGE,
    );
  }
}
