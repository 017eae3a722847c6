// Waiting for the sim cluster's components: a check polled until it passes or its time is up, and the
// checks themselves (etcd's /health, the API server's /readyz, the other components' /healthz).
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { Pki } from './sim-certificates.ts';
import { SimClusterError } from './sim-processes.ts';

export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>, signal: AbortSignal): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    if (signal.aborted) throw new SimClusterError(`migbench sim-cluster: ${what}: no longer waited for`);
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (performance.now() >= deadline) {
      throw new SimClusterError(`migbench sim-cluster: ${what}: not reached after ${timeoutMs / 1000} s${lastError ? ` (last error: ${lastError})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function etcdHealthy(port: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
  return response.ok && ((await response.json()) as { health?: string }).health === 'true';
}

export function apiReady(server: string, pki: Pki): Promise<boolean> {
  return httpsGet(`${server}/readyz`, { ca: readFileSync(pki.caCert), cert: readFileSync(pki.adminCert), key: readFileSync(pki.adminKey) }).then(
    (r) => r.status === 200 && r.body.trim() === 'ok',
  );
}

/** kube-controller-manager's and kube-scheduler's /healthz (self-signed serving certificates, loopback only). */
export function healthz(port: number): Promise<boolean> {
  return httpsGet(`https://127.0.0.1:${port}/healthz`, { rejectUnauthorized: false }).then((r) => r.status === 200);
}

function httpsGet(url: string, tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...tls, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer in 2 s`)));
    req.on('error', reject);
    req.end();
  });
}
