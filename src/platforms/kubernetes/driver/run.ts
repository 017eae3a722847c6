// A run on a cluster (platform: kubernetes): reach it and check, reading only, everything that can
// be checked before a trial (namespace, nodes, each strategy's own checks, the workloads' manifests,
// the nodes migbench reaches), every problem listed at once with nothing created; then
// each trial runs as KubernetesTrialSteps. `--dry-run` walks one trial per workload × strategy
// printing each call that would change the cluster, and changes nothing.
import type { V1Node } from '@kubernetes/client-node';
import type { PlannedTrial } from '../../../plan/plan.ts';
import type { TrialIdentity } from '../../../model/trial-result.ts';
import { probeOptions } from '../../../probes/probe.ts';
import type { RunRequest } from '../../../runner/platform-driver.ts';
import { trialIdentity, type PreparedRun } from '../../../runner/run.ts';
import { runTrial } from '../../../runner/trial.ts';
import type { Scenario, StrategyConfig } from '../../../scenario/schema.ts';
import type { KubernetesSupportContext } from '../../../strategies/entry/kubernetes-strategy.ts';
import { createKubernetesStrategy, strategyLabel } from '../../../strategies/registry.ts';
import { createWorkload } from '../../../workloads/registry.ts';
import type { Workload } from '../../../workloads/workload.ts';
import { KubeApi, type K8sObject } from '../api.ts';
import { AgentCheckpointNodes } from '../agent/agent-checkpoints.ts';
import { agentNodeFacts } from '../agent/agent-node-facts.ts';
import { sharedTransferProblems } from '../agent/agent-shared-volume.ts';
import { ClusterError, chooseNodes, connectCluster, evacuationTargets, nodeInfo, preflight, type Cluster, type NodeInfo } from '../cluster.ts';
import { KubeletApi } from '../kubelet-api.ts';
import type { CheckpointNodes, CheckpointTrial } from '../checkpoint-nodes.ts';
import { readWorkloadManifests } from '../manifests.ts';
import { prePullImages } from '../images.ts';
import { exposureOf } from '../service-exposure.ts';
import { storageProblems } from '../storage.ts';
import { nodeRuntimes, withAgentFacts } from '../node-runtime.ts';
import type { NodeAccess } from '../node-access.ts';
import { KubernetesTrialSteps, type KubernetesTrialSetup } from './trial.ts';
import { KubernetesEvacuationSteps } from './evacuation.ts';
import { evacuationPodObjects } from '../evacuation-manifests.ts';

/** The cluster as the checks found it: what prepare() builds the run on. */
export interface CheckedCluster {
  cluster: Cluster;
  nodes: NodeInfo[];
  nodeObjects: V1Node[];
  /** The cluster's nodes are ones migbench reaches beyond the API (the lab's). */
  reachable: boolean;
  /** Why each strategy of the scenario cannot run on these nodes ('' where it can), by its JSON; asked once, before anything is created. */
  unsupported: Map<string, string>;
}

/** Every problem of the run on this cluster (each as ClusterError words it); `checked` once the cluster answered. */
export async function checkCluster(request: RunRequest, access: NodeAccess): Promise<{ problems: string[]; checked?: CheckedCluster }> {
  const { scenario } = request.loaded;
  const k8s = scenario.kubernetes!;
  const problems: string[] = [];
  const problem = (message: string) => problems.push(new ClusterError(message).message);
  // Without a cluster that answers, nothing else can be checked.
  let cluster: Cluster;
  let nodes: NodeInfo[];
  try {
    cluster = connectCluster({
      kubeconfig: request.cluster.kubeconfig ?? k8s.kubeconfig,
      context: request.cluster.context ?? k8s.context,
      namespace: request.cluster.namespace ?? k8s.namespace,
    });
    nodes = await preflight(cluster);
  } catch (err) {
    if (err instanceof ClusterError) return { problems: [err.message] };
    throw err;
  }
  const nodeObjects = (await cluster.core.listNode()).items;
  const reachable = access.reaches(nodeObjects);
  const checked: CheckedCluster = { cluster, nodes, nodeObjects, reachable, unsupported: new Map() };

  let pair: { source: string; target: string } | undefined;
  try {
    pair = chooseNodes(nodes, k8s);
  } catch (err) {
    if (!(err instanceof ClusterError)) throw err;
    problems.push(err.message);
  }
  // An evacuation's pods go to its targets (or where the scheduler puts a drain's replacements): every one is checked like the target.
  const evacuationNodes = pair && scenario.evacuate ? evacuationTargets(nodes, k8s, pair.source, scenario.evacuate.targets) : undefined;
  problems.push(...(evacuationNodes?.problems ?? []));
  const usedNodes = pair ? [...new Set([pair.source, pair.target, ...(evacuationNodes?.targets ?? [])])] : [];
  // Each strategy's own checks (drain: not the control plane; podmigration: the operator's resource
  // type; kubelet-checkpoint: the user's permissions); they need the source node the run would use.
  const sourceNode = nodes.find((n) => n.name === pair?.source);
  if (sourceNode) {
    const context = { cluster, sourceNode, usedNodes, forceControlPlane: k8s.forceControlPlane };
    for (const strategy of scenario.strategies) for (const found of (await createKubernetesStrategy(strategy).preflight?.(context)) ?? []) problem(found);
  }
  const workloadTypes = [...new Set(scenario.workloads.map((w) => w.type))];
  for (const w of workloadTypes) {
    try {
      const service = readWorkloadManifests(w).find((o) => o.kind === 'Service');
      if (exposureOf(k8s) && !service) throw new Error('no Service for the probes to reach');
    } catch (err) {
      problem(`workloads[].type ${w}: no usable workloads/${w}/k8s.yaml (${(err as Error).message})`);
    }
  }
  // The volumes the workloads claim, as these nodes run them.
  const claims = workloadTypes.flatMap((w) => {
    try {
      const objects = readWorkloadManifests(w);
      return (reachable ? access.adaptManifests(objects, 'preflight', 0) : objects).filter((o) => o.kind === 'PersistentVolumeClaim');
    } catch {
      return []; // reported above
    }
  });
  for (const found of await storageProblems(cluster, claims, k8s.storageClass)) problem(found);
  // A strategy whose archive travels through the agents' shared volume: the agents mount one.
  if (scenario.strategies.some((s) => 'transfer' in s && s.transfer === 'shared-volume'))
    for (const found of await sharedTransferProblems(cluster)) problem(found);
  if (reachable && pair) {
    // A workload the scenario names an image for is pulled as on any cluster: only the others need what these nodes hold.
    const found = access.problem(
      nodeObjects,
      usedNodes,
      workloadTypes.filter((w) => k8s.images?.[w as keyof typeof k8s.images] === undefined),
    );
    if (found) problem(found);
  }
  // What each strategy needs of the nodes' kubelet and runtime (kubelet-checkpoint: containerd 2.1–2.3
  // with its restore setting and the CRIU annotation; runtime-restore: the runtime handler). A
  // strategy that cannot run gets its trials recorded `unsupported` with the reason, so a comparison
  // across clusters keeps its rows; a run none of whose strategies can run would measure nothing:
  // bad cluster state, refused here, before anything is created, with each reason naming its fix.
  if (problems.length === 0 && pair) {
    const context = supportContext(cluster, k8s, nodes, scenario.strategies.some(needsAgentNodes) ? await AgentCheckpointNodes.connect(cluster) : undefined);
    const reasons: string[] = [];
    for (const strategy of scenario.strategies) {
      const reason = (await createKubernetesStrategy(strategy).unsupportedReason?.(context)) ?? '';
      checked.unsupported.set(JSON.stringify(strategy), reason);
      reasons.push(reason);
    }
    if (reasons.every((r) => r !== ''))
      problem(
        `strategies: none of them can run on ${usedNodes.join(' and ')}, so a run would measure nothing: ${scenario.strategies.map((st, k) => `${strategyLabel(st)}: ${reasons[k]}`).join('; ')}`,
      );
  }
  // The images on both nodes before the first trial (the only check that creates something: a pull
  // pod per node, deleted again), last, so a run with other problems pulls nothing.
  const images = [...new Set(workloadTypes.map((w) => k8s.images?.[w]).filter((i): i is string => i !== undefined))];
  if (problems.length === 0 && pair && images.length > 0 && !request.dryRun) {
    try {
      const took = await prePullImages(cluster, {
        runId: `pull-${process.pid}`,
        nodes: usedNodes,
        images,
        pullSecrets: k8s.imagePullSecrets ?? [],
        timeoutMs: Math.max(scenario.timing.readyTimeoutMs, 15 * 60_000),
      });
      request.log(
        `migbench: images present on ${Object.entries(took)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([n, s]) => `${n} (${s} s)`)
          .join(', ')}: ${images.join(', ')}`,
      );
    } catch (err) {
      if (!(err instanceof ClusterError)) throw err;
      problems.push(err.message);
    }
  }
  return { problems, checked };
}

export async function prepareKubernetesRun(request: RunRequest, checked: CheckedCluster, access: NodeAccess): Promise<PreparedRun> {
  const { scenario } = request.loaded;
  const k8s = scenario.kubernetes!;
  const { cluster, nodes, reachable } = checked;
  const exposure = exposureOf(k8s);
  const kubelet = new KubeletApi(cluster.kubeConfig, { insecureTls: k8s.kubeletInsecureTls });
  const imageOf = (type: string) => k8s.images?.[type as keyof typeof k8s.images];
  // kubelet-checkpoint's node steps: the node agent's, through the API server (any cluster).
  const agentNodes = scenario.strategies.some(needsAgentNodes) ? await AgentCheckpointNodes.connect(cluster) : undefined;
  const checkpointNodes = agentNodes && scenario.evacuate ? preparingOneAtATime(agentNodes) : agentNodes;
  const api = new KubeApi(cluster, { dryRun: request.dryRun, print: (line) => request.output(`  ${line}`) });
  const trialSteps = (trial: PlannedTrial, identity: TrialIdentity, workload: Workload, evacuation?: KubernetesTrialSetup['evacuation']) =>
    new KubernetesTrialSteps({
      runId: identity.runId,
      trial: identity.trial,
      api,
      workload,
      ...(exposure ? { exposure } : {}),
      ...(k8s.storageClass ? { storageClass: k8s.storageClass } : {}),
      ...(k8s.readinessProbe ? { readinessProbe: k8s.readinessProbe } : {}),
      image: { ...(imageOf(workload.type) ? { reference: imageOf(workload.type)! } : {}), pullSecrets: k8s.imagePullSecrets ?? [] },
      ...adaptManifests(identity, evacuation !== undefined),
      ...(evacuation ? { evacuation } : {}),
      strategy: createKubernetesStrategy(trial.strategy),
      kubelet,
      ...(checkpointNodes ? { checkpointNodes } : {}),
      nodes: async () => (await cluster.core.listNode()).items.map(nodeInfo),
      wantedNodes: k8s,
      forceControlPlane: k8s.forceControlPlane,
      timing: scenario.timing,
    });

  // An evacuation pod's objects carry the run and its trial in their names (many copies at once); the lab's nodes adapt them as any.
  function adaptManifests(identity: TrialIdentity, evacuating: boolean): Pick<KubernetesTrialSetup, 'adaptManifests'> {
    const own = (objects: K8sObject[]) => (evacuating ? evacuationPodObjects(objects, identity.runId, identity.trial) : objects);
    if (reachable) return { adaptManifests: (objects) => access.adaptManifests(own(objects), identity.runId, identity.trial) };
    return evacuating ? { adaptManifests: own } : {};
  }
  /**
   * An evacuation's pods start on the source; each moves to its target — the scenario's
   * (`evacuate.targets`, `kubernetes.targetNode`), else the chosen target — except a controller's
   * replacement (drain) without named targets, which goes where the scheduler puts it among every other worker.
   */
  const evacuationSteps = (trials: PlannedTrial[], workloads: Workload[], identities: TrialIdentity[]) => {
    const { source, target } = chooseNodes(nodes, k8s);
    const named = scenario.evacuate?.targets !== undefined || k8s.targetNode !== undefined;
    const { targets: replacementNodes } = evacuationTargets(nodes, k8s, source, scenario.evacuate?.targets);
    return new KubernetesEvacuationSteps({
      api,
      runId: identities[0]!.runId,
      source,
      pods: (sourceCordoned) =>
        trials.map((trial, i) => {
          const scheduled = !named && createKubernetesStrategy(trial.strategy).shape !== 'pod';
          const podTarget = named ? (trial.evacuation?.target ?? target) : target;
          return trialSteps(trial, identities[i]!, workloads[i]!, {
            source,
            ...(scheduled ? {} : { target: podTarget }),
            replacementNodes,
            sourceCordoned,
          });
        }),
    });
  };

  return {
    versions: async () => ({ node: process.version, ...(await serverVersion(cluster)) }),
    platformInfo: {
      name: 'kubernetes',
      server: cluster.server,
      context: cluster.context,
      namespace: cluster.namespace,
      nodes: Object.fromEntries(
        nodes.map((n) => [n.name, [n.controlPlane ? 'control plane' : 'worker', n.schedulable ? '' : 'cordoned'].filter(Boolean).join(', ')]),
      ),
      runtimes: withAgentFacts(
        await nodeRuntimes(cluster, checked.nodeObjects),
        await agentNodeFacts(
          cluster,
          nodes.map((n) => n.name),
        ),
      ),
    },
    where: ` on ${cluster.server} (namespace ${cluster.namespace})`,
    start: async () => ({
      // As checkCluster found them (a strategy it did not ask about, e.g. a dry run's, is asked now).
      unsupportedReason: async (strategy) => {
        const known = checked.unsupported.get(JSON.stringify(strategy));
        if (known !== undefined) return known || undefined;
        return createKubernetesStrategy(strategy).unsupportedReason?.(supportContext(cluster, k8s, nodes, checkpointNodes, kubelet));
      },
      trialSteps: (trial, identity, workload) => trialSteps(trial, identity, workload),
      evacuationSteps,
      close: async () => undefined,
    }),
    async dryRun(runId, trials) {
      request.output(
        `migbench: dry run of ${request.scenarioFile} against ${cluster.server} (context ${cluster.context}, namespace ${cluster.namespace}): the calls that change the cluster, none of them made`,
      );
      // One trial per workload × strategy shows every call; the others repeat them.
      const seen = new Set<string>();
      for (const trial of trials) {
        const key = `${trial.workloadName}/${trial.strategy.name}`;
        if (seen.has(key)) continue;
        seen.add(key);
        request.output(`trial ${trial.trial}: ${trial.workloadName} × ${trial.strategy.name}`);
        const workload = createWorkload(trial.workload);
        const identity = trialIdentity(runId, trial);
        const { result } = await runTrial({
          identity,
          workload,
          steps: trialSteps(trial, identity, workload),
          timing: scenario.timing,
          probe: probeOptions({ ...scenario.probe, ...trial.workload.probe }),
          signal: new AbortController().signal,
        });
        if (result.status === 'failed') request.output(`  (the dry run stopped in ${result.failedPhase}: ${result.error})`);
      }
    },
  };
}

/**
 * The node agents write a node's CRIU option files in place (one per step, replaced atomically
 * through one temporary name): an evacuation's pods moving at once prepare their trials one at a
 * time, so two writes never race on that name. Every other step runs concurrently.
 */
function preparingOneAtATime(nodes: CheckpointNodes): CheckpointNodes {
  let queue: Promise<unknown> = Promise.resolve();
  const prepare = (trial: CheckpointTrial) => {
    const turn = queue.then(() => nodes.prepare(trial));
    queue = turn.catch(() => undefined);
    return turn;
  };
  return new Proxy(nodes, {
    get(target, property, receiver) {
      if (property === 'prepare') return prepare;
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
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

/** The strategies whose node steps are the node agent's. */
const needsAgentNodes = (strategy: StrategyConfig) => strategy.name === 'kubelet-checkpoint' || strategy.name === 'runtime-restore';

/** What a strategy's unsupportedReason reads: the run's two nodes as they are now, their kubelets, their agents. */
function supportContext(
  cluster: Cluster,
  k8s: NonNullable<Scenario['kubernetes']>,
  nodes: NodeInfo[],
  checkpointNodes: CheckpointNodes | undefined,
  kubelet = new KubeletApi(cluster.kubeConfig, { insecureTls: k8s.kubeletInsecureTls }),
): KubernetesSupportContext {
  return {
    usedNodes: async () => {
      const { source, target } = chooseNodes(nodes, k8s);
      return (await cluster.core.listNode()).items.map(nodeInfo).filter((n) => n.name === source || n.name === target);
    },
    kubelet,
    ...(checkpointNodes ? { checkpointNodes } : {}),
    namespace: cluster.namespace,
    cluster,
  };
}
