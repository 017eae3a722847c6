// `migbench agent install --runtime-handler` and its undoing in `migbench agent uninstall`: the
// runtime handler `migbench` (runtime-handler.ts) put on every agent's node through the agent
// (agent/runtime_handler.go: wrapper, containerd drop-in, containerd restart), reached only through
// the API server's pod proxy, then the RuntimeClass, then checked where the cluster itself says it:
// each Node's status.runtimeHandlers, which the kubelet fills from the CRI's status. Every node is
// asked first (GET) and any refusal — a containerd config that imports no drop-in directory, no runc,
// nothing to restart containerd — stops the install before a node is changed.
import { NodeV1Api } from '@kubernetes/client-node';
import type { Cluster } from '../cluster.ts';
import { apiStatus } from '../cluster.ts';
import { RUNTIME_CLASS, RUNTIME_HANDLER } from '../runtime-handler.ts';
import { AgentClient } from './agent-client.ts';

/** One node's handler as its agent reports it (agent/runtime_handler.go handlerState). */
export interface RuntimeHandlerNodeState {
  node: string;
  installed: boolean;
  dropIn?: string;
  wrapper?: string;
  runc?: string;
  supervisor?: string;
  restarted: boolean;
  changes: string[];
  problems: string[];
}

/** The cluster cannot take the handler as it is (exit 2): nothing was changed on any node. */
export class RuntimeHandlerRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeHandlerRefused';
  }
}

const HANDLER_PATH = '/v1/runtime-handler';

/** Every agent node's handler state (GET: changes nothing). */
export async function runtimeHandlerStates(cluster: Cluster): Promise<RuntimeHandlerNodeState[]> {
  const agents = new AgentClient(cluster);
  const nodes = [...(await agents.list()).keys()].sort();
  return Promise.all(nodes.map((node) => agents.json<RuntimeHandlerNodeState>(node, 'GET', HANDLER_PATH, undefined, 30_000)));
}

/** What installing changes, said before it is done. */
export function installPlan(states: readonly RuntimeHandlerNodeState[]): string[] {
  return states.map(
    (s) =>
      `  ${s.node}: writes ${s.dropIn} (containerd's runtime table: runtime ${RUNTIME_HANDLER}), the wrapper ${s.wrapper ?? "in the agent's state dir"} with a runc link to ${s.runc}, and restarts containerd (by ${s.supervisor}; running containers stay)`,
  );
}

/**
 * Installs the handler on every agent node, creates the RuntimeClass, and waits until every node's
 * status.runtimeHandlers lists it. Refuses (RuntimeHandlerRefused) before any change when a node cannot take it.
 */
export async function installRuntimeHandler(
  cluster: Cluster,
  options: { timeoutMs: number; progress: (line: string) => void },
): Promise<RuntimeHandlerNodeState[]> {
  const states = await runtimeHandlerStates(cluster);
  if (states.length === 0) throw new RuntimeHandlerRefused('migbench agent: no agent pod on any node: the runtime handler is installed through the agent');
  const refused = states.filter((s) => s.problems.length > 0);
  if (refused.length > 0)
    throw new RuntimeHandlerRefused(
      `migbench agent install --runtime-handler: nothing changed; ${refused.map((s) => `${s.node}: ${s.problems.join('; ')}`).join('\n')}`,
    );
  options.progress(`migbench agent: installing the runtime handler ${RUNTIME_HANDLER} on ${states.length} nodes:`);
  for (const line of installPlan(states)) options.progress(line);
  const agents = new AgentClient(cluster);
  const done: RuntimeHandlerNodeState[] = [];
  // One node at a time: a node's containerd is down for its restart, never two at once.
  for (const s of states) {
    const state = await agents.json<RuntimeHandlerNodeState>(s.node, 'PUT', HANDLER_PATH, undefined, options.timeoutMs);
    options.progress(`  ${s.node}: ${state.changes.length ? state.changes.join(', ') : 'already installed'}`);
    done.push(state);
  }
  try {
    await cluster.kubeConfig.makeApiClient(NodeV1Api).createRuntimeClass({ body: structuredClone(RUNTIME_CLASS) as never });
  } catch (err) {
    if (apiStatus(err) !== 409) throw err;
  }
  await waitForRuntimeHandlers(
    cluster,
    states.map((s) => s.node),
    true,
    options.timeoutMs,
  );
  return done;
}

/**
 * Removes the handler from every agent node that has it (drop-in, containerd restart, wrapper) and
 * the RuntimeClass; refuses while a pod of the RuntimeClass exists (its shim runs the wrapper).
 * The lines say what was removed.
 */
export async function uninstallRuntimeHandler(cluster: Cluster, timeoutMs: number): Promise<string[]> {
  const pods = (await cluster.core.listPodForAllNamespaces()).items.filter((p) => p.spec?.runtimeClassName === RUNTIME_HANDLER);
  if (pods.length > 0)
    throw new RuntimeHandlerRefused(
      `migbench agent uninstall: pods of RuntimeClass ${RUNTIME_HANDLER} still exist (${pods.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).join(', ')}): delete them first (their runtime is the wrapper this removes); nothing changed`,
    );
  const removed: string[] = [];
  const agents = new AgentClient(cluster);
  const nodes: string[] = [];
  for (const state of await runtimeHandlerStates(cluster).catch(() => [])) {
    if (!state.installed) continue;
    const result = await agents.json<RuntimeHandlerNodeState>(state.node, 'DELETE', HANDLER_PATH, undefined, timeoutMs);
    removed.push(...result.changes.map((c) => `${state.node}: ${c}`));
    if (result.restarted) nodes.push(state.node);
  }
  try {
    await cluster.kubeConfig.makeApiClient(NodeV1Api).deleteRuntimeClass({ name: RUNTIME_HANDLER });
    removed.push(`RuntimeClass ${RUNTIME_HANDLER}`);
  } catch (err) {
    if (apiStatus(err) !== 404) throw err;
  }
  await waitForRuntimeHandlers(cluster, nodes, false, timeoutMs);
  return removed;
}

/** Waits until each node's status.runtimeHandlers lists the handler (or no longer does). */
async function waitForRuntimeHandlers(cluster: Cluster, nodes: readonly string[], listed: boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const items = (await cluster.core.listNode()).items;
    const waiting = nodes.filter((name) => {
      const handlers = items.find((n) => n.metadata?.name === name)?.status?.runtimeHandlers ?? [];
      return handlers.some((h) => h.name === RUNTIME_HANDLER) !== listed;
    });
    if (waiting.length === 0) return;
    if (performance.now() > deadline)
      throw new Error(
        `migbench agent: node ${waiting.join(', ')} ${listed ? 'does not list' : 'still lists'} the runtime handler ${RUNTIME_HANDLER} in status.runtimeHandlers after ${Math.round(timeoutMs / 1000)} s (the kubelet reports what containerd's CRI status says: check containerd's log for its config and the drop-in)`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}
