// kubelet-checkpoint's node steps (checkpoint-nodes.ts) done by the node agent, each a request
// through the API server's pod proxy to the agent on the node concerned. The archive goes from the
// source's agent to the target's over the pod network (the target's pod address, with a one-trial
// token the target was given first), never through migbench — or, with the strategy's transfer:
// shared-volume, through the ReadWriteMany volume every agent mounts (agent-shared-volume.ts):
// written once by the source's agent, read once by the target's, sha256-checked, then removed.
import { randomBytes } from 'node:crypto';
import { parseDumpStats } from '../../../criu/stats.ts';
import { criuErrorLine } from '../../../criu/error-lines.ts';
import type { CriuStats } from '../../../model/criu-stats.ts';
import type { K8sObject } from '../api.ts';
import type { Cluster } from '../cluster.ts';
import type { CheckpointNodes, CheckpointTrial, LeftoverScope } from '../checkpoint-nodes.ts';
import { AgentClient, AgentError } from './agent-client.ts';
import { sharedClaimOf } from './agent-shared-volume.ts';
import type { AgentNodeFacts } from './agent-node-facts.ts';
import type { CriRestoreSettings } from '../runtime-window.ts';
import { AGENT_NAME, AGENT_NAMESPACE, AGENT_PORT, agentPathsOf, criuConfigFiles, DEFAULT_AGENT_NODE_PATHS, type AgentNodePaths } from './agent-manifests.ts';

/** runc's annotation naming the CRIU configuration file for a container's checkpoint and restore. */
export const CRIU_CONFIG_ANNOTATION = 'org.criu.config';

/** The agent accepts letters, digits, '.', '_' and '-' (agent/criu.go validTrialKey). */
export function agentTrialKey(key: string): string {
  return key
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/\.\.+/g, '.')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 128);
}

export class AgentCheckpointNodes implements CheckpointNodes {
  private readonly agents: AgentClient;
  private readonly paths: AgentNodePaths;
  private readonly tokens = new Map<string, string>();
  /** The agents' shared volume (its claim in the agent's namespace), when installed with one. */
  private readonly sharedClaim: string | undefined;

  constructor(agents: AgentClient, paths: AgentNodePaths, sharedClaim?: string) {
    this.agents = agents;
    this.paths = paths;
    this.sharedClaim = sharedClaim;
  }

  checkpointPodAnnotations(trialKey: string): Record<string, string> {
    return { [CRIU_CONFIG_ANNOTATION]: criuConfigFiles(this.paths, agentTrialKey(trialKey)).checkpoint };
  }

  restorePodAnnotations(trialKey: string): Record<string, string> {
    return { [CRIU_CONFIG_ANNOTATION]: criuConfigFiles(this.paths, agentTrialKey(trialKey)).restore };
  }

  /** The agent as installed (its node paths from the DaemonSet); the defaults when it is not installed (then unsupportedReason says so). */
  static async connect(cluster: Cluster): Promise<AgentCheckpointNodes> {
    let paths = DEFAULT_AGENT_NODE_PATHS;
    let claim: string | undefined;
    try {
      const daemonSet = await cluster.objects.read({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: AGENT_NAME, namespace: AGENT_NAMESPACE } });
      paths = agentPathsOf(daemonSet as K8sObject);
      claim = sharedClaimOf(daemonSet as K8sObject);
    } catch {
      /* not installed, or not readable: unsupportedReason names it */
    }
    return new AgentCheckpointNodes(new AgentClient(cluster), paths, claim);
  }

  async unsupportedReason(nodes: readonly string[]): Promise<string | undefined> {
    const problem = await this.agents.problem(nodes);
    if (problem) return problem;
    for (const node of nodes) {
      const health = await this.agents
        .json<{ problems: string[] }>(node, 'GET', '/healthz', undefined, 15_000)
        .catch((err: Error) => ({ problems: [err.message] }));
      if (health.problems.length > 0) return `the node agent on ${node}: ${health.problems.join('; ')}`;
    }
    return undefined;
  }

  async restoreSettings(node: string): Promise<CriRestoreSettings | undefined> {
    return (await this.agents.json<AgentNodeFacts>(node, 'GET', '/v1/node-facts', undefined, 60_000)).cri;
  }

  async prepare(trial: CheckpointTrial): Promise<void> {
    const key = agentTrialKey(trial.key);
    const token = randomBytes(24).toString('hex');
    this.tokens.set(key, token);
    await this.agents.list();
    // Every request that makes a trial's state on a node names its namespace (the agent records it there for `migbench cleanup`).
    const { namespace } = trial;
    await this.agents.call(trial.source, 'POST', `/v1/trials/${key}/prepare`, { step: 'dump', namespace });
    await this.agents.call(trial.target, 'POST', `/v1/trials/${key}/prepare`, { step: 'restore', token, namespace });
  }

  async transfer(trial: CheckpointTrial, kubeletArchive: string, via: 'stream' | 'shared-volume'): Promise<{ bytes: number; sha256: string; path: string }> {
    const key = agentTrialKey(trial.key);
    if (via === 'shared-volume') {
      const written = await this.agents.json<{ bytes: number; sha256: string }>(
        trial.source,
        'POST',
        `/v1/trials/${key}/share`,
        { archive: kubeletArchive, namespace: trial.namespace },
        30 * 60_000,
      );
      const taken = await this.agents.json<{ bytes: number; sha256: string }>(
        trial.target,
        'POST',
        `/v1/trials/${key}/take`,
        { sha256: written.sha256, namespace: trial.namespace },
        30 * 60_000,
      );
      return { ...taken, path: `through the shared volume ${AGENT_NAMESPACE}/${this.sharedClaim ?? '?'}` };
    }
    const target = await this.agents.on(trial.target);
    if (!target.podIp) throw new AgentError(`the node agent ${target.pod} on ${trial.target} has no pod address yet`);
    const host = target.podIp.includes(':') ? `[${target.podIp}]` : target.podIp;
    const sent = await this.agents.json<{ bytes: number; sha256: string }>(trial.source, 'POST', `/v1/trials/${key}/send`, {
      archive: kubeletArchive,
      target: `${host}:${AGENT_PORT}`,
      token: this.tokens.get(key) ?? '',
    });
    return { ...sent, path: 'streamed agent to agent' };
  }

  async dumpStats(trial: CheckpointTrial): Promise<CriuStats | undefined> {
    const answer = await this.agents.call(trial.target, 'GET', `/v1/trials/${agentTrialKey(trial.key)}/stats-dump`);
    return answer.status === 204 || answer.body.length === 0 ? undefined : parseDumpStats(answer.body);
  }

  async buildImage(trial: CheckpointTrial, containerName: string, imageName: string): Promise<void> {
    await this.agents.call(trial.target, 'POST', `/v1/trials/${agentTrialKey(trial.key)}/image`, {
      container: containerName,
      image: imageName,
      namespace: trial.namespace,
    });
  }

  async importImage(trial: CheckpointTrial): Promise<void> {
    await this.agents.call(trial.target, 'POST', `/v1/trials/${agentTrialKey(trial.key)}/import`);
  }

  async pushImage(
    trial: CheckpointTrial,
    push: { kubeletArchive: string; containerName: string; imageName: string; registry: string; plainHttp: boolean },
  ): Promise<{ reference: string; bytes: number; sha256: string; criu?: CriuStats }> {
    const answer = await this.agents.json<{ reference: string; bytes: number; sha256: string; statsDump?: string }>(
      trial.source,
      'POST',
      `/v1/trials/${agentTrialKey(trial.key)}/push`,
      {
        archive: push.kubeletArchive,
        container: push.containerName,
        image: push.imageName,
        registry: push.registry,
        plainHttp: push.plainHttp,
        namespace: trial.namespace,
      },
      30 * 60_000,
    );
    const criu = answer.statsDump ? parseDumpStats(Buffer.from(answer.statsDump, 'base64')) : undefined;
    return { reference: answer.reference, bytes: answer.bytes, sha256: answer.sha256, ...(criu ? { criu } : {}) };
  }

  async criuError(step: 'dump' | 'restore', trial: CheckpointTrial): Promise<string | undefined> {
    const node = step === 'dump' ? trial.source : trial.target;
    const log = await this.agents.call(node, 'GET', `/v1/trials/${agentTrialKey(trial.key)}/criu-log?step=${step}`, undefined, 15_000).catch(() => undefined);
    return log ? criuErrorLine(log.body.toString('utf8')) || undefined : undefined;
  }

  async resumePod(node: string, podUid: string): Promise<void> {
    const answer = await this.agents.json<{ resumed: number; stillStopped: number }>(
      node,
      'POST',
      `/v1/pods/${encodeURIComponent(podUid)}/resume`,
      undefined,
      30_000,
    );
    if (answer.stillStopped > 0) throw new AgentError(`${answer.stillStopped} processes of pod ${podUid} on ${node} still stopped after SIGCONT`);
  }

  async removeTrial(trial: CheckpointTrial, imageName: string, kubeletArchive?: string, pulledImage?: string): Promise<string[]> {
    const key = agentTrialKey(trial.key);
    this.tokens.delete(key);
    const problems: string[] = [];
    for (const node of new Set([trial.source, trial.target])) {
      const query = new URLSearchParams({
        image: imageName,
        ...(kubeletArchive && node === trial.source ? { archive: kubeletArchive } : {}),
        ...(pulledImage && node === trial.target ? { pulled: pulledImage } : {}),
      });
      try {
        problems.push(
          ...((await this.agents.json<{ problems: string[] | null }>(node, 'DELETE', `/v1/trials/${key}?${query}`, undefined, 120_000)).problems ?? []).map(
            (p) => `${node}: ${p}`,
          ),
        );
      } catch (err) {
        problems.push(`${node}: ${(err as Error).message}`);
      }
    }
    return problems;
  }

  async unpackForRestore(trial: CheckpointTrial): Promise<string> {
    const key = agentTrialKey(trial.key);
    await this.agents.call(trial.target, 'POST', `/v1/trials/${key}/restore-dir`, { namespace: trial.namespace });
    return key;
  }

  async prepareRestore(trial: CheckpointTrial): Promise<string> {
    const key = agentTrialKey(trial.key);
    await this.agents.call(trial.target, 'PUT', `/v1/trials/${key}/restore-dir`, { namespace: trial.namespace });
    return key;
  }

  async restoreWaiting(trial: CheckpointTrial): Promise<boolean> {
    return (await this.agents.json<{ waiting: boolean }>(trial.target, 'GET', `/v1/trials/${agentTrialKey(trial.key)}/restore-dir`, undefined, 15_000)).waiting;
  }

  async removeUnpacked(trial: CheckpointTrial): Promise<string[]> {
    const answer = await this.agents
      .call(trial.target, 'DELETE', `/v1/trials/${agentTrialKey(trial.key)}/restore-dir`, undefined, 60_000)
      .catch((err: Error) => err);
    return answer instanceof Error ? [`unpacked checkpoint on ${trial.target}: ${answer.message}`] : [];
  }

  /** Asks every node's agent for the scope's leftovers only: another namespace's run on the same nodes keeps its stopped source, archives, images and shared-volume files. */
  async removeLeftovers(scope: LeftoverScope): Promise<string[]> {
    let agents;
    try {
      agents = await this.agents.list();
    } catch {
      return [];
    }
    const removed: string[] = [];
    for (const node of agents.keys()) {
      const answer = await this.agents
        .json<{ removed: string[] | null }>(node, 'POST', '/v1/leftovers', scope, 120_000)
        .catch((err: Error) => ({ removed: [`(the node agent on ${node} failed: ${err.message})`] }));
      removed.push(...(answer.removed ?? []));
    }
    return removed;
  }
}
