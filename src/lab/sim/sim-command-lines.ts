// The control plane's command lines (etcd, kube-apiserver, kube-controller-manager, kube-scheduler)
// and the loopback ports they listen on. Every flag that opens a socket names 127.0.0.1.
import { createServer } from 'node:net';
import { join } from 'node:path';
import { FRONT_PROXY_CLIENT, type Pki } from './sim-certificates.ts';

const SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/16';
const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface SimClusterPorts {
  etcdClient: number;
  etcdPeer: number;
  apiServer: number;
  controllerManager: number;
  scheduler: number;
}

export function etcdArgs(dir: string, p: SimClusterPorts): string[] {
  const client = `http://127.0.0.1:${p.etcdClient}`;
  const peer = `http://127.0.0.1:${p.etcdPeer}`;
  return [
    '--name=sim',
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=sim=${peer}`,
    // A throw-away test cluster: losing its data on a power cut costs nothing, fsync costs every write.
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ];
}

export function apiServerArgs(dir: string, p: SimClusterPorts, pki: Pki): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${p.etcdClient}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${p.apiServer}`,
    `--cert-dir=${join(dir, 'pki')}`,
    `--tls-cert-file=${pki.apiServerCert}`,
    `--tls-private-key-file=${pki.apiServerKey}`,
    `--client-ca-file=${pki.caCert}`,
    // The aggregation layer's front proxy: without it every component logs, forever, that the
    // extension-apiserver-authentication config map has no request-header CA.
    `--requestheader-client-ca-file=${pki.caCert}`,
    `--requestheader-allowed-names=${FRONT_PROXY_CLIENT}`,
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${pki.frontProxyCert}`,
    `--proxy-client-key-file=${pki.frontProxyKey}`,
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    `--service-account-key-file=${pki.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    '--authorization-mode=Node,RBAC',
    // Its own calls to kubelets (kubectl logs and exec): the real nodes authorize every caller
    // through this API server (authorization mode Webhook) and admit nobody anonymous.
    `--kubelet-client-certificate=${pki.adminCert}`,
    `--kubelet-client-key=${pki.adminKey}`,
    // Reach a kubelet at its node's InternalIP only (the lab's nodes: their network namespace; the
    // simulated ones: loopback). The default tries the Hostname first, which no resolver here knows:
    // a DNS query leaving the host for every node proxy call (run.json's runtime record).
    '--kubelet-preferred-address-types=InternalIP',
    '--allow-privileged=true',
    // The "kubernetes" service's endpoint would be 127.0.0.1, which Endpoints refuse (loopback).
    '--endpoint-reconciler-type=none',
    '--profiling=false',
    '--v=1',
  ];
}

/** What kube-controller-manager and kube-scheduler share: their API client, and /healthz on loopback. */
function componentArgs(dir: string, name: string, port: number, kubeconfig: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${join(dir, 'pki', name)}`,
    // One instance: no leader election to wait for at start.
    '--leader-elect=false',
    '--profiling=false',
    '--v=1',
  ];
}

export function controllerManagerArgs(dir: string, p: SimClusterPorts, pki: Pki, kubeconfig: string): string[] {
  return [
    ...componentArgs(dir, 'kube-controller-manager', p.controllerManager, kubeconfig),
    // Check the nodes' heartbeats every second (default 5 s): new nodes lose their not-ready taint sooner.
    '--node-monitor-period=1s',
    // Each controller acts as its own service account, so RBAC is exercised as in a real cluster.
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${pki.serviceAccountKey}`,
    `--root-ca-file=${pki.caCert}`,
    `--cluster-signing-cert-file=${pki.caCert}`,
    `--cluster-signing-key-file=${pki.caKey}`,
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
  ];
}

export function schedulerArgs(dir: string, p: SimClusterPorts, kubeconfig: string): string[] {
  return componentArgs(dir, 'kube-scheduler', p.scheduler, kubeconfig);
}

/** Five distinct free ports on 127.0.0.1 (held open together, so no two are the same). */
export async function freeLoopbackPorts(): Promise<SimClusterPorts> {
  const servers = await Promise.all(
    Array.from(
      { length: 5 },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  const [etcdClient, etcdPeer, apiServer, controllerManager, scheduler] = ports as [number, number, number, number, number];
  return { etcdClient, etcdPeer, apiServer, controllerManager, scheduler };
}
