// kubelet's own HTTPS API on a node (port 10250), which migbench calls for one thing: the
// checkpoint of a container (KEP-2008, `POST /checkpoint/{namespace}/{pod}/{container}`, feature gate
// ContainerCheckpoint, on by default since 1.30). It is reached as the API server reaches it: with
// the kubeconfig's credentials (client certificate or bearer token), verified against the
// kubeconfig's CA unless `kubernetes.kubeletInsecureTls` says the nodes' certificates are
// self-signed (kubelet's default without serverTLSBootstrap). The kubelet authorizes the call
// through the API server: RBAC's `create` on `nodes/checkpoint`.
import { request, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeletEndpoint } from './cluster.ts';

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
  async checkpoint(node: KubeletEndpoint, namespace: string, pod: string, container: string, timeoutMs: number, signal?: AbortSignal): Promise<string> {
    const path = `/checkpoint/${encodeURIComponent(namespace)}/${encodeURIComponent(pod)}/${encodeURIComponent(container)}?timeout=${Math.ceil(timeoutMs / 1000)}`;
    const answer = await this.post(node, path, timeoutMs, signal);
    if (answer.status !== 200)
      throw new KubeletApiError(
        `kubelet ${node.address}:${node.port} POST ${path.replace(/\?.*/, '')} answered ${answer.status}: ${answer.body.trim().slice(0, 400)}`,
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
  async checkpointApi(node: KubeletEndpoint, namespace: string, signal?: AbortSignal): Promise<CheckpointApiState> {
    const answer = await this.post(node, `/checkpoint/${encodeURIComponent(namespace)}/migbench-no-such-pod/none`, 10_000, signal);
    if (answer.status === 404 && /page not found/i.test(answer.body)) {
      return {
        enabled: false,
        reason: `kubelet on ${node.address} has no checkpoint API (feature gate ContainerCheckpoint off; it is on by default from Kubernetes 1.30)`,
      };
    }
    if (answer.status === 401 || answer.status === 403) {
      throw new KubeletApiError(
        `kubelet ${node.address}:${node.port} refused the checkpoint call (${answer.status}: ${answer.body.trim().slice(0, 200)}); the kubeconfig's user needs create on nodes/checkpoint (deploy/kubernetes/clusterrole.yaml, role migbench-nodes)`,
        answer.status,
      );
    }
    return { enabled: true };
  }

  private async post(node: KubeletEndpoint, path: string, timeoutMs: number, signal?: AbortSignal): Promise<{ status: number; body: string }> {
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
}
