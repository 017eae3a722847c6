// `migbench cluster build|start|stop|status`: a Kubernetes cluster with two real nodes (kubelet,
// containerd, runc, CNI, kube-proxy) on this host (src/lab/nodes/). `build` builds
// and caches every component (with the lab's registry and kubectl) and prints each one's build time;
// `start` builds what is missing, and also runs the lab's image registry (lab-registry.ts).
import { ensureControlPlane } from '../lab/build/control-plane-build.ts';
import { type ContainerdVersion, ensureNodeBinaries } from '../lab/build/node-build.ts';
import { NodeClusterError, nodeClusterStatus, startNodeCluster, stopNodeCluster } from '../lab/nodes/node-cluster.ts';
import { CommandFailure, EXIT_INTERRUPTED, EXIT_TRIAL_FAILED } from './exit-codes.ts';
import { requireRoot } from './root.ts';

export type ClusterAction = 'build' | 'start' | 'stop' | 'status';

export async function clusterCommand(args: {
  action: ClusterAction;
  commandLine: string;
  containerd?: ContainerdVersion;
  /** start: the runtime handler `migbench` on every node (lab/nodes/runtime-handler.ts). */
  runtimeHandler?: boolean;
}): Promise<number> {
  requireRoot(args.commandLine);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  const verbose = process.env.MIGBENCH_VERBOSE === '1';
  switch (args.action) {
    case 'build': {
      const started = performance.now();
      const cp = await ensureControlPlane(progress, { verbose });
      out(
        `migbench cluster: control plane ${cp.versions.kubernetes} (etcd ${cp.versions.etcd}, kwok ${cp.versions.kwok}): ${cp.source === 'built' ? 'built' : 'cached, built'} in ${cp.buildSeconds} s`,
      );
      const nodes = await ensureNodeBinaries(progress, { verbose, ...(args.containerd ? { containerd: args.containerd } : {}) });
      for (const b of nodes.builds)
        out(`migbench cluster: ${b.component} ${b.version}: ${b.source === 'built' ? 'built' : 'cached, built'} in ${b.buildSeconds} s`);
      out(`migbench cluster: checked in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      return 0;
    }
    case 'start': {
      const abort = new AbortController();
      const interrupt = () => abort.abort();
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      try {
        const state = await startNodeCluster({
          progress,
          signal: abort.signal,
          ...(args.containerd ? { containerd: args.containerd } : {}),
          ...(args.runtimeHandler ? { runtimeHandler: true } : {}),
        });
        out(`migbench cluster: ready in ${(state.startupMs / 1000).toFixed(1)} s: Kubernetes ${state.controlPlane.versions.kubernetes} at ${state.server}`);
        out(
          `  containerd ${state.binaries.containerdVersion} on every node${state.runtimeHandler ? '; runtime handler migbench (RuntimeClass migbench) installed' : ''}`,
        );
        for (const n of state.nodes) out(`  node ${n.name}: ${n.address}, pods ${n.podCidr}, Ready ${(n.readyMs / 1000).toFixed(1)} s after its start`);
        out(`registry: http://${state.registry} (plain HTTP; load the workload images with: sh bin/migbench images build --load lab)`);
        out(`kubeconfig: ${state.kubeconfig}`);
        out(`kubectl: ${state.binaries.kubectl} (the kubelet's version, ${state.controlPlane.versions.kubernetes})`);
        out(`  export KUBECONFIG=${state.kubeconfig}`);
        out(`  alias kubectl=${state.binaries.kubectl}`);
        out('  kubectl get nodes   # stop the lab with: sh bin/migbench cluster stop');
        return 0;
      } catch (err) {
        if (abort.signal.aborted) {
          progress('migbench cluster: interrupted; everything it had started is removed');
          return EXIT_INTERRUPTED;
        }
        throw err instanceof NodeClusterError ? new CommandFailure(err.message, EXIT_TRIAL_FAILED) : err;
      } finally {
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
      }
    }
    case 'stop': {
      const started = performance.now();
      const removed = await stopNodeCluster();
      out(
        removed.length === 0
          ? 'migbench cluster: nothing running'
          : `migbench cluster: removed in ${((performance.now() - started) / 1000).toFixed(1)} s: ${removed.join(', ')}`,
      );
      return 0;
    }
    case 'status': {
      const s = await nodeClusterStatus();
      if (!s.state && s.processes.length === 0) {
        out('migbench cluster: not running');
        return EXIT_TRIAL_FAILED;
      }
      const expected = s.state?.nodes.map((n) => n.name) ?? [];
      const notReady = expected.filter((n) => !s.readyNodes.includes(n));
      out(`migbench cluster: ${notReady.length === 0 && s.state ? 'running' : 'unhealthy'}${s.state ? ` (${s.state.server})` : ''}`);
      if (s.state) out(`kubeconfig: ${s.state.kubeconfig}`);
      for (const n of expected) out(`  node ${n}: ${s.readyNodes.includes(n) ? 'Ready' : 'NotReady'}`);
      for (const p of s.processes) out(`  ${p.name} (pid ${p.pid})`);
      return notReady.length === 0 && s.state ? 0 : EXIT_TRIAL_FAILED;
    }
  }
}
