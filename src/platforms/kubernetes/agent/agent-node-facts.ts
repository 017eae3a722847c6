// What each node runs that only the node agent can tell (agent/nodefacts.go), for run.json's
// platform.runtimes beside what the API server tells (node-runtime.ts): the CRIU on the container
// runtime's PATH, its version and the features migbench's CRIU strategies need, the cgroup
// version, and containerd's restore settings as it runs them (runtime-window.ts restoreSettingsFacts:
// they replace the version's default in `checkpointRestore`). Asked only where the agent is
// installed; a node whose agent does not answer says why.
import type { Cluster } from '../cluster.ts';
import { restoreSettingsFacts, type CriRestoreSettings } from '../runtime-window.ts';
import { AgentClient } from './agent-client.ts';

/** GET /v1/node-facts (agent/nodefacts.go). */
export interface AgentNodeFacts {
  cgroup?: string;
  criu?: string;
  criuPath?: string;
  criuFeatures?: Record<string, string>;
  /** Absent from an agent older than the reading of containerd's settings. */
  cri?: CriRestoreSettings;
  problems: string[] | null;
}

/**
 * Per node with an agent pod: `criu`, `criuPath`, `criuFeatures` (`feature yes|no: reason`, sorted),
 * `cgroup`, containerd's settings (`checkpointRestore` where containerd has the setting,
 * `criuConfigAnnotation`); nothing for a cluster without the agent.
 */
export async function agentNodeFacts(cluster: Cluster, nodes: readonly string[]): Promise<Record<string, Record<string, string>>> {
  const agents = new AgentClient(cluster);
  let pods;
  try {
    pods = await agents.list();
  } catch {
    return {}; // not installed, or not ours to list: the API server's facts only
  }
  const out: Record<string, Record<string, string>> = {};
  await Promise.all(
    nodes
      .filter((n) => pods.has(n))
      .map(async (node) => {
        try {
          const facts = await agents.json<AgentNodeFacts>(node, 'GET', '/v1/node-facts', undefined, 60_000);
          const features = Object.entries(facts.criuFeatures ?? {}).sort(([a], [b]) => a.localeCompare(b));
          out[node] = {
            ...(facts.criu ? { criu: facts.criu } : {}),
            ...(facts.criuPath ? { criuPath: facts.criuPath } : {}),
            ...(features.length > 0 ? { criuFeatures: features.map(([f, v]) => `${f} ${v}`).join('; ') } : {}),
            ...(facts.cgroup ? { cgroup: facts.cgroup } : {}),
            ...(facts.cri ? restoreSettingsFacts(facts.cri) : {}),
            ...((facts.problems ?? []).length > 0 ? { agentProblems: facts.problems!.join('; ') } : {}),
          };
        } catch (err) {
          out[node] = { criu: `unknown (the node agent: ${(err as Error).message})` };
        }
      }),
  );
  return out;
}
