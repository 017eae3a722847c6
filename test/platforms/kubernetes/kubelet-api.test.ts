// migbench's client of kubelet's API against an HTTPS server on loopback that answers as a kubelet
// does: with the certificate checked against the kubeconfig's CA (and a self-signed one refused,
// naming kubernetes.kubeletInsecureTls), the kubeconfig's client certificate presented, the
// checkpoint's archive path read from the answer, and the checkpoint API's presence told from the
// answer to a pod that does not exist.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeletApi, kubeletReachable, kubeletRoute } from '../../../src/platforms/kubernetes/kubelet-api.ts';

const dir = mkdtempSync(join(tmpdir(), 'migbench-kubelet-api-'));
const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
let server: Server;
let port: number;
const seen: { path: string; clientCn: string | undefined }[] = [];
let gateOn = true;

/** A CA, a serving certificate for 127.0.0.1 signed by it, a client certificate signed by it, and a self-signed one. */
function certificates(): void {
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/CN=test-ca',
    '-days',
    '1',
  ]);
  for (const [name, cn, ext] of [
    ['server', 'system:node:worker-a', 'server.ext'],
    ['client', 'migbench-runner', 'client.ext'],
  ] as const) {
    openssl([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
    ]);
    openssl([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-extfile',
      ext,
    ]);
  }
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'self.key',
    '-out',
    'self.crt',
    '-subj',
    '/CN=self-signed',
    '-days',
    '1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
}

const file = (name: string) => readFileSync(join(dir, name));
const b64 = (name: string) => file(name).toString('base64');

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1', caData: b64('ca.crt'), skipTLSVerify: false, tlsServerName: 'localhost' }],
    users: [{ name: 'u', certData: b64('client.crt'), keyData: b64('client.key') }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function listen(cert: string, key: string): Promise<void> {
  server = createServer({ cert: file(cert), key: file(key), ca: file('ca.crt'), requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
    seen.push({ path: req.url ?? '', clientCn: peer?.subject?.CN as string | undefined });
    // As the API server's node proxy: its own path before the kubelet's (only worker-a's node proxy exists here).
    const proxied = req.url?.startsWith('/api/v1/nodes/') ? req.url.replace(/^\/api\/v1\/nodes\/worker-a\/proxy/, '') : req.url;
    if (proxied?.startsWith('/api/v1/nodes/')) return res.writeHead(404).end('{"kind":"Status","reason":"NotFound"}');
    if (!gateOn) return res.writeHead(404).end('404 page not found\n');
    if (req.method === 'POST' && proxied?.startsWith('/checkpoint/migbench/migbench-redis/redis'))
      return res.writeHead(200).end('{"items":["/var/lib/kubelet/checkpoints/checkpoint-migbench-redis_migbench-redis-2026-12-02T18:00:00Z.tar"]}');
    res.writeHead(404).end('pod does not exist\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  certificates();
  await listen('server.crt', 'server.key');
});
afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

it("checkpoints with the kubeconfig's client certificate, verifying the kubelet against its CA, and returns the archive's path", async () => {
  const api = new KubeletApi(kubeConfig(), { insecureTls: false });
  const archive = await api.checkpoint({ address: '127.0.0.1', port }, 'migbench', 'migbench-redis', 'redis', 30_000);
  expect(archive).toBe('/var/lib/kubelet/checkpoints/checkpoint-migbench-redis_migbench-redis-2026-12-02T18:00:00Z.tar');
  expect(seen.at(-1)).toEqual({ path: '/checkpoint/migbench/migbench-redis/redis?timeout=30', clientCn: 'migbench-runner' });
});

it('tells a kubelet with the checkpoint API from one without it, and reports a refused checkpoint with its answer', async () => {
  const api = new KubeletApi(kubeConfig(), { insecureTls: false });
  expect(await api.checkpointApi({ address: '127.0.0.1', port }, 'migbench')).toEqual({ enabled: true });
  gateOn = false;
  try {
    expect(await api.checkpointApi({ address: '127.0.0.1', port }, 'migbench')).toEqual({
      enabled: false,
      reason: expect.stringMatching(/feature gate ContainerCheckpoint off/),
    });
    await expect(api.checkpoint({ address: '127.0.0.1', port }, 'migbench', 'migbench-redis', 'redis', 5000)).rejects.toThrow(
      /answered 404: 404 page not found/,
    );
  } finally {
    gateOn = true;
  }
});

it('refuses a self-signed kubelet certificate, naming kubernetes.kubeletInsecureTls, and accepts it with that option', async () => {
  server.close();
  await listen('self.crt', 'self.key');
  await expect(new KubeletApi(kubeConfig(), { insecureTls: false }).checkpointApi({ address: '127.0.0.1', port }, 'migbench')).rejects.toThrow(
    /kubernetes\.kubeletInsecureTls: true/,
  );
  expect(await new KubeletApi(kubeConfig(), { insecureTls: true }).checkpointApi({ address: '127.0.0.1', port }, 'migbench')).toEqual({ enabled: true });
});

it("reaches the kubelet through the API server's node proxy, and auto takes it only where the kubelet's port does not answer", async () => {
  server.close();
  await listen('server.crt', 'server.key');
  const kc = kubeConfig();
  kc.clusters[0] = { ...kc.clusters[0]!, server: `https://127.0.0.1:${port}`, tlsServerName: undefined } as (typeof kc.clusters)[0];
  const api = new KubeletApi(kc, { insecureTls: false });
  // The kubelet's own address is a port nothing listens on: only the API server's path can work.
  const closed = { address: '127.0.0.1', port: 9, node: 'worker-a' };
  expect(await kubeletReachable(closed)).toBe(false);
  expect(await kubeletRoute(closed, 'auto')).toBe('apiServer');
  expect(await kubeletRoute(closed, 'direct')).toBe('direct');
  expect(await kubeletRoute({ address: '127.0.0.1', port }, 'auto')).toBe('direct');
  const archive = await api.checkpoint(closed, 'migbench', 'migbench-redis', 'redis', 30_000, undefined, 'apiServer');
  expect(archive).toMatch(/checkpoint-migbench-redis_migbench-redis-/);
  expect(seen.at(-1)).toEqual({ path: '/api/v1/nodes/worker-a/proxy/checkpoint/migbench/migbench-redis/redis?timeout=30', clientCn: 'migbench-runner' });
  expect(await api.checkpointApi(closed, 'migbench', undefined, 'apiServer')).toEqual({ enabled: true });
  // Another node's proxy is the API server's own 404, not a kubelet's.
  await expect(api.checkpoint({ ...closed, node: 'worker-b' }, 'migbench', 'migbench-redis', 'redis', 5000, undefined, 'apiServer')).rejects.toThrow(
    /on worker-b through the API server's node proxy POST \/checkpoint\/migbench\/migbench-redis\/redis answered 404/,
  );
});
