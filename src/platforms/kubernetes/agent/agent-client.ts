// migbench's side of the node agent: its pods found through the API server, and each request to one
// sent through the API server's pod proxy (/api/v1/namespaces/<ns>/pods/<pod>:<port>/proxy/…) with
// the kubeconfig's credentials — never to a node's or pod's address directly. RBAC decides who may
// call it: `pods/proxy` in the agent's namespace, and `get` on the Secret holding the agent's token,
// which every request carries (deploy/kubernetes/clusterrole.yaml, agent/auth.go).
import { request, type RequestOptions } from 'node:https';
import type { V1Pod } from '@kubernetes/client-node';
import type { Cluster } from '../cluster.ts';
import { describeApiError } from '../cluster.ts';
import { AGENT_NAME, AGENT_NAMESPACE, AGENT_PORT, AGENT_SELECTOR, AGENT_TOKEN_HEADER, AGENT_TOKEN_SECRET } from './agent-manifests.ts';

export interface AgentPod {
  node: string;
  pod: string;
  /** The pod's address on the pod network: where another node's agent sends an archive. */
  podIp: string | undefined;
  ready: boolean;
  image: string;
}

export class AgentError extends Error {
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.name = 'AgentError';
    this.status = status;
  }
}

export interface AgentAnswer {
  status: number;
  body: Buffer;
}

/** How long a request waits for a node's agent pod that is gone or not ready to be replaced. */
const AGENT_REPLACED_WAIT_MS = 30_000;

/** An answer of the API server's own (a Status object: pod not found, proxy error), not of the agent (which answers {error}). */
function fromApiServer(answer: AgentAnswer): boolean {
  if (answer.status < 400) return false;
  try {
    return (JSON.parse(answer.body.toString('utf8')) as { kind?: string }).kind === 'Status';
  } catch {
    return answer.status === 502 || answer.status === 503;
  }
}

export class AgentClient {
  private readonly cluster: Cluster;
  private pods = new Map<string, AgentPod>();
  private token: Promise<string> | undefined;

  constructor(cluster: Cluster) {
    this.cluster = cluster;
  }

  /** The agent's bearer token, read once from its Secret (`migbench agent install` created it). */
  agentToken(): Promise<string> {
    this.token ??= this.cluster.core.readNamespacedSecret({ name: AGENT_TOKEN_SECRET, namespace: AGENT_NAMESPACE }).then(
      (secret) => {
        const token = Buffer.from(secret.data?.token ?? '', 'base64')
          .toString('utf8')
          .trim();
        if (!token)
          throw new AgentError(`the Secret ${AGENT_NAMESPACE}/${AGENT_TOKEN_SECRET} holds no token: install the agent again (\`migbench agent install\`)`);
        return token;
      },
      (err: unknown) => {
        this.token = undefined;
        throw new AgentError(
          `the node agent's token: cannot read Secret ${AGENT_NAMESPACE}/${AGENT_TOKEN_SECRET} (${describeApiError(err)}); install the agent with \`migbench agent install\` and bind the role migbench-agent-user in namespace ${AGENT_NAMESPACE} (deploy/kubernetes/clusterrole.yaml)`,
        );
      },
    );
    return this.token;
  }

  /** The agent pods, by node (read again on every call: a restarted agent is a new pod). */
  async list(): Promise<Map<string, AgentPod>> {
    const items: V1Pod[] = (await this.cluster.core.listNamespacedPod({ namespace: AGENT_NAMESPACE, labelSelector: AGENT_SELECTOR })).items;
    const pods = new Map<string, AgentPod>();
    for (const p of items) {
      const node = p.spec?.nodeName;
      if (!node || p.metadata?.deletionTimestamp) continue;
      const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      const agent: AgentPod = { node, pod: p.metadata!.name!, podIp: p.status?.podIP, ready, image: p.spec?.containers?.[0]?.image ?? '' };
      if (!pods.get(node)?.ready) pods.set(node, agent);
    }
    this.pods = pods;
    return pods;
  }

  /** Why the agent cannot serve these nodes (none installed, not ready on one), naming the fix; undefined when it can. */
  async problem(nodes: readonly string[]): Promise<string | undefined> {
    let pods: Map<string, AgentPod>;
    try {
      pods = await this.list();
    } catch (err) {
      return `the node agent: cannot list its pods in namespace ${AGENT_NAMESPACE} (${describeApiError(err)}); install it with \`migbench agent install\` and bind the role migbench-agent-user (deploy/kubernetes/clusterrole.yaml)`;
    }
    if (pods.size === 0)
      return `the node agent (${AGENT_NAME}) is not installed: kubelet-checkpoint's node steps run in it; install it with \`migbench agent install\``;
    for (const node of nodes) {
      const pod = pods.get(node);
      if (!pod) return `the node agent has no pod on node ${node}: check the DaemonSet ${AGENT_NAMESPACE}/${AGENT_NAME} (\`migbench agent status\`)`;
      if (!pod.ready) return `the node agent's pod ${pod.pod} on node ${node} is not ready (\`migbench agent status\`)`;
    }
    try {
      await this.agentToken();
    } catch (err) {
      return (err as Error).message;
    }
    return undefined;
  }

  /** The agent pod on `node` (from the last list, else a fresh one). */
  async on(node: string): Promise<AgentPod> {
    let pod = this.pods.get(node);
    if (!pod) pod = (await this.list()).get(node);
    if (!pod) throw new AgentError(`no node agent on ${node} (\`migbench agent status\`)`);
    return pod;
  }

  /** One request to the agent on `node` through the pod proxy; a non-2xx answer throws with the agent's error. */
  async call(
    node: string,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    body?: unknown,
    timeoutMs = 10 * 60_000,
    signal?: AbortSignal,
  ): Promise<AgentAnswer> {
    let agent = await this.on(node);
    let answer = await this.proxy(agent.pod, method, path, body, timeoutMs, signal);
    // The API server, not the agent, answered (the pod is gone or not serving: a restarted agent is
    // a new pod): the node's agent found again, for as long as a DaemonSet takes to replace it.
    const deadline = performance.now() + AGENT_REPLACED_WAIT_MS;
    while (fromApiServer(answer) && performance.now() < deadline && !signal?.aborted) {
      await new Promise((r) => setTimeout(r, 500));
      const replaced = (await this.list()).get(node);
      if (!replaced?.ready) continue;
      agent = replaced;
      answer = await this.proxy(agent.pod, method, path, body, timeoutMs, signal);
    }
    if (answer.status < 200 || answer.status >= 300) {
      let message = answer.body.toString('utf8').trim();
      try {
        message = (JSON.parse(message) as { error?: string }).error ?? message;
      } catch {
        /* the API server's own answer (pod gone, proxy refused), as text */
      }
      throw new AgentError(
        `node agent on ${node} (${agent.pod}): ${method} ${path.replace(/\?.*/, '')}: ${answer.status} ${message.slice(0, 600)}`,
        answer.status,
      );
    }
    return answer;
  }

  async json<T>(node: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, timeoutMs?: number, signal?: AbortSignal): Promise<T> {
    const answer = await this.call(node, method, path, body, timeoutMs, signal);
    return JSON.parse(answer.body.toString('utf8')) as T;
  }

  private async proxy(pod: string, method: string, path: string, body: unknown, timeoutMs: number, signal?: AbortSignal): Promise<AgentAnswer> {
    const server = this.cluster.kubeConfig.getCurrentCluster()?.server;
    if (!server) throw new AgentError('the kubeconfig names no API server');
    const url = new URL(`${server.replace(/\/+$/, '')}/api/v1/namespaces/${AGENT_NAMESPACE}/pods/${encodeURIComponent(pod)}:${AGENT_PORT}/proxy${path}`);
    const options: RequestOptions & { headers: Record<string, string> } = {
      method,
      headers: { [AGENT_TOKEN_HEADER]: await this.agentToken() },
      timeout: timeoutMs,
      ...(signal ? { signal } : {}),
    };
    await this.cluster.kubeConfig.applyToHTTPSOptions(options);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    if (payload) Object.assign(options.headers, { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) });
    return new Promise((resolve, reject) => {
      const req = request(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new AgentError(`node agent ${pod}: no answer to ${method} ${path.replace(/\?.*/, '')} within ${timeoutMs} ms`)));
      req.on('error', (err) =>
        reject(err instanceof AgentError ? err : new AgentError(`node agent ${pod}: ${method} ${path.replace(/\?.*/, '')}: ${err.message}`)),
      );
      req.end(payload);
    });
  }
}
