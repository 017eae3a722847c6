// A run on a cluster (platform: kubernetes): reach it and check, reading only, everything that can
// be checked before a trial (namespace, nodes, the operator's resource type, kubelet-checkpoint's
// permissions, the workloads' manifests) — a problem there is a ClusterError (exit 2) with nothing created — then each trial
// runs as KubernetesTrialSteps. `--dry-run` walks one trial per workload × strategy printing each
// call that would change the cluster, and changes nothing.
import type { LoadedScenario } from '../scenario/load.ts';
import type { PlannedTrial } from '../plan/plan.ts';
import { KubeApi, type K8sObject } from '../platforms/kubernetes/api.ts';
import { join } from 'node:path';
import { REAL_NODE_LABEL, SHARED_VOLUME_DIR } from '../platforms/kubernetes/nodes/layout.ts';
import { realNodeManifests, serviceNodePort } from '../platforms/kubernetes/nodes/real-node-manifests.ts';
import { realNodeProblem } from '../platforms/kubernetes/nodes/preflight.ts';
import { ClusterError, chooseNodes, connectCluster, nodeInfo, preflight, type Cluster } from '../platforms/kubernetes/cluster.ts';
import { readWorkloadManifests } from '../platforms/kubernetes/manifests.ts';
import { KubeletApi } from '../platforms/kubernetes/kubelet-api.ts';
import { readNodeClusterState } from '../platforms/kubernetes/nodes/node-cluster.ts';
import { ClusterNodeCheckpoints } from '../platforms/kubernetes/nodes/node-checkpoints.ts';
import { createKubernetesStrategy } from '../strategies/registry.ts';
import { createWorkload } from '../workloads/registry.ts';
import type { Workload } from '../workloads/workload.ts';
import type { TrialIdentity } from '../model/trial-result.ts';
import { probeOptions } from '../probes/probe.ts';
import { KubernetesTrialSteps } from './kubernetes-trial.ts';
import { trialIdentity, type PreparedRun } from './run.ts';
import { runTrial } from './trial.ts';

export interface KubernetesFlags {
  dryRun: boolean;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export async function prepareKubernetesRun(loaded: LoadedScenario, flags: KubernetesFlags, scenarioFile: string): Promise<PreparedRun> {
  const { scenario } = loaded;
  const k8s = scenario.kubernetes!;
  const cluster = connectCluster({ kubeconfig: flags.kubeconfig ?? k8s.kubeconfig, context: flags.context ?? k8s.context, namespace: flags.namespace ?? k8s.namespace });
  const nodes = await preflight(cluster);
  const { source } = chooseNodes(nodes, k8s);
  const sourceNode = nodes.find((n) => n.name === source)!;
  // Each strategy's own checks (drain: not the control plane; podmigration: the operator's resource type;
  // kubelet-checkpoint: the user's permissions), every problem at once.
  const preflightContext = { cluster, sourceNode, forceControlPlane: k8s.forceControlPlane };
  const strategyProblems = (await Promise.all(scenario.strategies.map((s) => createKubernetesStrategy(s).preflight?.(preflightContext) ?? []))).flat();
  if (strategyProblems.length > 0) throw new ClusterError(strategyProblems.join('; '));
  for (const w of new Set(scenario.workloads.map((w) => w.type))) {
    try {
      readWorkloadManifests(w);
      if (k8s.probes && k8s.nodeAddress) serviceNodePort(w);
    } catch (err) {
      throw new ClusterError(`workloads[].type ${w}: no usable workloads/${w}/k8s.yaml (${(err as Error).message})`);
    }
  }
  const fixedAddress = k8s.probes && k8s.address ? { host: k8s.address.slice(0, k8s.address.lastIndexOf(':')), port: Number(k8s.address.slice(k8s.address.lastIndexOf(':') + 1)) } : undefined;
  // nodeAddress: each workload at its own Service's NodePort on that node.
  const addressOf = (type: string) => (k8s.probes && k8s.nodeAddress ? { host: k8s.nodeAddress, port: serviceNodePort(type) } : fixedAddress);
  // Nodes of `migbench cluster` (this host's real nodes) run the manifests with local images and shared host directories.
  const nodeObjects = (await cluster.core.listNode()).items;
  const realNodes = nodeObjects.some((n) => n.metadata?.labels?.[REAL_NODE_LABEL] === 'true');
  if (realNodes) {
    const { target } = chooseNodes(nodes, k8s);
    const problem = realNodeProblem(nodeObjects, [source, target], [...new Set(scenario.workloads.map((w) => w.type))]);
    if (problem) throw new ClusterError(problem);
  }
  const kubelet = new KubeletApi(cluster.kubeConfig, { insecureTls: k8s.kubeletInsecureTls });
  // The nodes of `migbench cluster` are on this host: migbench can do kubelet-checkpoint's node steps there.
  const clusterState = realNodes ? await readNodeClusterState() : undefined;
  const checkpointNodes = clusterState ? new ClusterNodeCheckpoints(clusterState.binaries.ctr, clusterState.nodes.map((n) => n.name)) : undefined;
  const api = new KubeApi(cluster, { dryRun: flags.dryRun, print: (line) => process.stdout.write(`  ${line}\n`) });
  const trialSteps = (trial: PlannedTrial, identity: TrialIdentity, workload: Workload) =>
    new KubernetesTrialSteps({
      runId: identity.runId, trial: identity.trial, api, workload, ...(addressOf(workload.type) ? { address: addressOf(workload.type)! } : {}),
      // A volume per trial, as a claim would give: a trial's Redis must not load the AOF of the one before.
      ...(realNodes ? { adaptManifests: (objects: K8sObject[]) => realNodeManifests(objects, join(SHARED_VOLUME_DIR, identity.runId, String(identity.trial))) } : {}),
      strategy: createKubernetesStrategy(trial.strategy),
      kubelet,
      ...(checkpointNodes ? { checkpointNodes } : {}),
      nodes: async () => (await cluster.core.listNode()).items.map(nodeInfo),
      wantedNodes: k8s,
      forceControlPlane: k8s.forceControlPlane,
      timing: scenario.timing,
    });

  return {
    versions: async () => ({ node: process.version, ...(await serverVersion(cluster)) }),
    platformInfo: {
      name: 'kubernetes', server: cluster.server, context: cluster.context, namespace: cluster.namespace,
      nodes: Object.fromEntries(nodes.map((n) => [n.name, [n.controlPlane ? 'control plane' : 'worker', n.schedulable ? '' : 'cordoned'].filter(Boolean).join(', ')])),
    },
    where: ` on ${cluster.server} (namespace ${cluster.namespace})`,
    start: async () => ({
      unsupportedReason: async (strategy) =>
        createKubernetesStrategy(strategy).unsupportedReason?.({
          usedNodes: async () => {
            const { source, target } = chooseNodes(nodes, k8s);
            return (await cluster.core.listNode()).items.map(nodeInfo).filter((n) => n.name === source || n.name === target);
          },
          kubelet, ...(checkpointNodes ? { checkpointNodes } : {}), namespace: cluster.namespace,
        }),
      trialSteps,
      close: async () => undefined,
    }),
    async dryRun(runId, trials) {
      process.stdout.write(`migbench: dry run of ${scenarioFile} against ${cluster.server} (context ${cluster.context}, namespace ${cluster.namespace}): the calls that change the cluster, none of them made\n`);
      // One trial per workload × strategy shows every call; the others repeat them.
      const seen = new Set<string>();
      for (const trial of trials) {
        const key = `${trial.workloadName}/${trial.strategy.name}`;
        if (seen.has(key)) continue;
        seen.add(key);
        process.stdout.write(`trial ${trial.trial}: ${trial.workloadName} × ${trial.strategy.name}\n`);
        const workload = createWorkload(trial.workload);
        const identity = trialIdentity(runId, trial);
        const { result } = await runTrial({
          identity, workload, steps: trialSteps(trial, identity, workload), timing: scenario.timing,
          probe: probeOptions({ ...scenario.probe, ...trial.workload.probe }), signal: new AbortController().signal,
        });
        if (result.status === 'failed') process.stdout.write(`  (the dry run stopped in ${result.failedPhase}: ${result.error})\n`);
      }
    },
  };
}

async function serverVersion(cluster: Cluster): Promise<Record<string, string>> {
  try {
    const { VersionApi } = await import('@kubernetes/client-node');
    const version = await cluster.kubeConfig.makeApiClient(VersionApi).getCode();
    return { kubernetes: version.gitVersion };
  } catch {
    return {};
  }
}
