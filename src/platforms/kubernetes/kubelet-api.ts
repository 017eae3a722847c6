// kubelet's own HTTPS API on a node (port 10250), which migbench calls for one thing: the
// checkpoint of a container (KEP-2008, `POST /checkpoint/{namespace}/{pod}/{container}`, feature gate
// ContainerCheckpoint, on by default since 1.30). It is reached as the API server reaches it: with
// the kubeconfig's credentials (client certificate or bearer token), verified against the
// kubeconfig's CA unless `kubernetes.kubeletInsecureTls` says the nodes' certificates are
// self-signed (kubelet's default without serverTLSBootstrap). The kubelet authorizes the call
// through the API server: RBAC's `create` on `nodes/checkpoint`.
// Where the kubelet's port cannot be reached from where migbench runs (a cluster behind its API
// server), the same call goes through the API server's node proxy
// (`POST /api/v1/nodes/<node>/proxy/checkpoint/…`): the API server authorizes `create` on
// `nodes/proxy` and calls the kubelet as itself. Which of the two a node gets is decided once per
// node (a TCP connect with a short timeout), or forced by kubelet-checkpoint's `kubeletAccess`.
import { connect } from 'node:net';
import { request, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeletEndpoint } from './cluster.ts';

/** How migbench reaches a node's kubelet: at its own address, or through the API server's node proxy. */
export type KubeletRoute = 'direct' | 'apiServer';
/** What a scenario asks for: a route, or `auto` (direct where the kubelet's port answers). */
export type KubeletAccess = KubeletRoute | 'auto';

/** A kubelet port that does not accept a connection this soon is taken as unreachable. */
const REACH_TIMEOUT_MS = 2_000;
/** Per kubelet address, once per process: whether its port accepted a TCP connection. */
const reachability = new Map<string, Promise<boolean>>();

/** Whether the kubelet's port accepts a connection from here (asked once per address and port). */
export function kubeletReachable(node: KubeletEndpoint, timeoutMs = REACH_TIMEOUT_MS): Promise<boolean> {
  const key = `${node.address}:${node.port}`;
  let known = reachability.get(key);
  if (!known) {
    known = new Promise<boolean>((resolve) => {
      const socket = connect({ host: node.address, port: node.port });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(timeoutMs, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
    reachability.set(key, known);
  }
  return known;
}

/** The route a node's kubelet gets for `access`: `auto` → direct where its port answers, else the API server's node proxy. */
export async function kubeletRoute(node: KubeletEndpoint, access: KubeletAccess): Promise<KubeletRoute> {
  if (access !== 'auto') return access;
  return (await kubeletReachable(node)) ? 'direct' : 'apiServer';
}

class KubeletApiError extends Error {
  /** The HTTP status kubelet answered; undefined when no answer came (connection, TLS, timeout). */
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.name = 'KubeletApiError';
    this.status = status;
  }
}

/** What a checkpoint probe found on a node (see `checkpointApi`). */
export type CheckpointApiState = { enabled: true } | { enabled: false; reason: string };

export class KubeletApi {
  private readonly kubeConfig: KubeConfig;
  private readonly insecureTls: boolean;

  constructor(kubeConfig: KubeConfig, options: { insecureTls: boolean }) {
    this.kubeConfig = kubeConfig;
    this.insecureTls = options.insecureTls;
  }

  /**
   * Checkpoints one container (the kubelet asks its runtime, which dumps it with CRIU and leaves it
   * running) and returns the archive's path on the node, as the kubelet reports it.
   */
  async checkpoint(
    node: KubeletEndpoint,
    namespace: string,
    pod: string,
    container: string,
    timeoutMs: number,
    signal?: AbortSignal,
    route: KubeletRoute = 'direct',
  ): Promise<string> {
    const path = `/checkpoint/${encodeURIComponent(namespace)}/${encodeURIComponent(pod)}/${encodeURIComponent(container)}?timeout=${Math.ceil(timeoutMs / 1000)}`;
    const answer = await this.post(node, path, timeoutMs, signal, route);
    if (answer.status !== 200)
      throw new KubeletApiError(
        `kubelet ${describeRoute(node, route)} POST ${path.replace(/\?.*/, '')} answered ${answer.status}: ${answer.body.trim().slice(0, 400)}${answer.status === 403 && route === 'apiServer' ? "; through the API server's node proxy the user needs create on nodes/proxy (deploy/kubernetes/clusterrole.yaml, role migbench-kubelet-proxy)" : ''}`,
        answer.status,
      );
    let items: unknown;
    try {
      items = (JSON.parse(answer.body) as { items?: unknown }).items;
    } catch {
      items = undefined;
    }
    if (!Array.isArray(items) || typeof items[0] !== 'string')
      throw new KubeletApiError(`kubelet ${node.address}:${node.port}: checkpoint answer names no archive: ${answer.body.slice(0, 200)}`);
    return items[0];
  }

  /**
   * Whether the node's kubelet serves the checkpoint API, without checkpointing anything: a
   * checkpoint of a pod that does not exist answers "pod does not exist" (404) where the
   * ContainerCheckpoint gate is on, and the router's "404 page not found" where it is off.
   */
  async checkpointApi(node: KubeletEndpoint, namespace: string, signal?: AbortSignal, route: KubeletRoute = 'direct'): Promise<CheckpointApiState> {
    const answer = await this.post(node, `/checkpoint/${encodeURIComponent(namespace)}/migbench-no-such-pod/none`, 10_000, signal, route);
    if (answer.status === 404 && /page not found/i.test(answer.body)) {
      return {
        enabled: false,
        reason: `kubelet on ${node.address} has no checkpoint API (feature gate ContainerCheckpoint off; it is on by default from Kubernetes 1.30)`,
      };
    }
    if (answer.status === 401 || answer.status === 403) {
      throw new KubeletApiError(
        `kubelet ${describeRoute(node, route)} refused the checkpoint call (${answer.status}: ${answer.body.trim().slice(0, 200)}); the kubeconfig's user needs ${route === 'apiServer' ? 'create on nodes/proxy (deploy/kubernetes/clusterrole.yaml, role migbench-kubelet-proxy)' : 'create on nodes/checkpoint (deploy/kubernetes/clusterrole.yaml, role migbench-nodes)'}`,
        answer.status,
      );
    }
    return { enabled: true };
  }

  private async post(
    node: KubeletEndpoint,
    path: string,
    timeoutMs: number,
    signal?: AbortSignal,
    route: KubeletRoute = 'direct',
  ): Promise<{ status: number; body: string }> {
    if (route === 'apiServer') return this.postThroughApiServer(node, path, timeoutMs, signal);
    const credentials: RequestOptions & { headers?: Record<string, string> } = {};
    await this.kubeConfig.applyToHTTPSOptions(credentials);
    const options: RequestOptions = {
      host: node.address,
      port: node.port,
      path,
      method: 'POST',
      ca: credentials.ca,
      cert: credentials.cert,
      key: credentials.key,
      // Impersonation is the API server's; kubelet authorizes the credentials themselves.
      headers: Object.fromEntries(Object.entries(credentials.headers ?? {}).filter(([k]) => !k.toLowerCase().startsWith('impersonate-'))),
      // The node's own certificate names its address, not the API server's tls-server-name.
      rejectUnauthorized: !this.insecureTls,
      timeout: timeoutMs,
      ...(signal ? { signal } : {}),
    };
    if (credentials.auth) options.auth = credentials.auth;
    return new Promise((resolve, reject) => {
      const req = request(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () =>
        req.destroy(new KubeletApiError(`kubelet ${node.address}:${node.port}: no answer to POST ${path.replace(/\?.*/, '')} within ${timeoutMs} ms`)),
      );
      req.on('error', (err: Error & { code?: string }) => {
        if (err instanceof KubeletApiError) return reject(err);
        const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(err.code ?? '') || /certificate/i.test(err.message);
        reject(
          new KubeletApiError(
            `kubelet ${node.address}:${node.port}: ${err.message}${tls ? "; the kubelet's serving certificate is not signed by the kubeconfig's CA: set kubernetes.kubeletInsecureTls: true for self-signed kubelet certificates" : ''}`,
          ),
        );
      });
      req.end();
    });
  }

  /** The same request through the API server's node proxy, with the kubeconfig's credentials as the API server takes them (impersonation included). */
  private async postThroughApiServer(node: KubeletEndpoint, path: string, timeoutMs: number, signal?: AbortSignal): Promise<{ status: number; body: string }> {
    const server = this.kubeConfig.getCurrentCluster()?.server;
    if (!server) throw new KubeletApiError('the kubeconfig names no API server');
    if (!node.node) throw new KubeletApiError(`kubelet ${node.address}: no node name to reach it through the API server's node proxy`);
    const url = new URL(`${server.replace(/\/+$/, '')}/api/v1/nodes/${encodeURIComponent(node.node)}/proxy${path}`);
    const options: RequestOptions & { headers: Record<string, string> } = { method: 'POST', headers: {}, timeout: timeoutMs, ...(signal ? { signal } : {}) };
    await this.kubeConfig.applyToHTTPSOptions(options);
    return new Promise((resolve, reject) => {
      const req = request(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () =>
        req.destroy(new KubeletApiError(`kubelet ${describeRoute(node, 'apiServer')}: no answer to POST ${path.replace(/\?.*/, '')} within ${timeoutMs} ms`)),
      );
      req.on('error', (err) =>
        reject(err instanceof KubeletApiError ? err : new KubeletApiError(`kubelet ${describeRoute(node, 'apiServer')}: ${err.message}`)),
      );
      req.end();
    });
  }
}

/** Where a kubelet call went, for messages and events. */
export function describeRoute(node: KubeletEndpoint, route: KubeletRoute): string {
  return route === 'apiServer' ? `on ${node.node ?? node.address} through the API server's node proxy` : `${node.address}:${node.port}`;
}
