// The sim cluster's certificates and kubeconfigs: a CA (openssl, ECDSA P-256), the API server's
// serving certificate, a client certificate per component and for the admin (user = CN, groups = O),
// the service-account key pair, and kubeconfigs with the credentials embedded.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { aptInstall, lookPath, type Progress } from '../../setup/apt.ts';
import { exec } from '../../system/exec.ts';
import { SIM_CLUSTER_DIR, SimClusterError } from './sim-processes.ts';

/** The admin user's name in the kubeconfig and its client certificate (group system:masters). */
const SIM_ADMIN_USER = 'migbench-admin';
const CONTEXT = 'migbench-sim';
export const kubeconfigPath = (dir: string = SIM_CLUSTER_DIR) => join(dir, 'kubeconfig');

export interface Pki {
  caCert: string;
  caKey: string;
  apiServerCert: string;
  apiServerKey: string;
  serviceAccountKey: string;
  serviceAccountPublicKey: string;
  adminCert: string;
  adminKey: string;
  frontProxyCert: string;
  frontProxyKey: string;
}

export const FRONT_PROXY_CLIENT = 'front-proxy-client';
/** Client identities: the user name is the certificate's CN, the groups its O fields. */
const CLIENTS = {
  admin: { cn: SIM_ADMIN_USER, groups: ['system:masters'] },
  controllerManager: { cn: 'system:kube-controller-manager', groups: [] },
  scheduler: { cn: 'system:kube-scheduler', groups: [] },
  // kwok writes every managed node's and pod's status and the node leases.
  kwok: { cn: 'kwok', groups: ['system:masters'] },
  frontProxy: { cn: FRONT_PROXY_CLIENT, groups: [] },
} as const;
type Client = keyof typeof CLIENTS;

export function pkiPaths(pkiDir: string): Pki {
  const at = (name: string) => join(pkiDir, name);
  return {
    caCert: at('ca.crt'),
    caKey: at('ca.key'),
    apiServerCert: at('apiserver.crt'),
    apiServerKey: at('apiserver.key'),
    serviceAccountKey: at('sa.key'),
    serviceAccountPublicKey: at('sa.pub'),
    adminCert: at('admin.crt'),
    adminKey: at('admin.key'),
    frontProxyCert: at('frontProxy.crt'),
    frontProxyKey: at('frontProxy.key'),
  };
}

export async function ensureOpenssl(progress: Progress): Promise<string> {
  const found = await lookPath('openssl');
  if (found) return found;
  progress('migbench: installing openssl (apt-get) ...');
  await aptInstall(['openssl']);
  const installed = await lookPath('openssl');
  if (!installed) throw new SimClusterError('migbench sim-cluster: openssl is missing and could not be installed: apt-get install -y openssl');
  return installed;
}

export async function writePki(openssl: string, pkiDir: string): Promise<Pki> {
  const pki = pkiPaths(pkiDir);
  const run = (args: string[]) => exec(openssl, args, { cwd: pkiDir, timeoutMs: 30_000 });
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run(['req', '-x509', '-new', ...ecKey, '-keyout', pki.caKey, '-out', pki.caCert, '-days', '3650', '-subj', '/CN=migbench-sim-ca']);
  const sign = async (name: string, subject: string, extensions: string) => {
    await writeFile(
      join(pkiDir, `${name}.ext`),
      `[v3]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n${extensions}\n`,
    );
    await run(['req', '-new', ...ecKey, '-keyout', join(pkiDir, `${name}.key`), '-out', join(pkiDir, `${name}.csr`), '-subj', subject]);
    await run([
      'x509',
      '-req',
      '-in',
      join(pkiDir, `${name}.csr`),
      '-CA',
      pki.caCert,
      '-CAkey',
      pki.caKey,
      '-set_serial',
      `0x${randomSerial()}`,
      '-days',
      '3650',
      '-out',
      join(pkiDir, `${name}.crt`),
      '-extfile',
      join(pkiDir, `${name}.ext`),
      '-extensions',
      'v3',
    ]);
  };
  const sans = [
    'IP:127.0.0.1',
    'IP:10.96.0.1',
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
  ];
  await sign('apiserver', '/CN=kube-apiserver', `extendedKeyUsage=serverAuth\nsubjectAltName=${sans.join(',')}`);
  for (const [client, id] of Object.entries(CLIENTS)) {
    await sign(client, `/CN=${id.cn}${id.groups.map((g) => `/O=${g}`).join('')}`, 'extendedKeyUsage=clientAuth');
  }
  await run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', pki.serviceAccountKey]);
  await run(['pkey', '-in', pki.serviceAccountKey, '-pubout', '-out', pki.serviceAccountPublicKey]);
  return pki;
}

/** 128 random bits, positive (a leading bit of 1 would make the DER integer negative). */
function randomSerial(): string {
  return randomBytes(16)
    .toString('hex')
    .replace(/^[89a-f]/, '1');
}

/** The admin kubeconfig at <dir>/kubeconfig, and one per component (credentials embedded: self-contained files). */
export async function writeKubeconfigs(dir: string, server: string, pki: Pki): Promise<Record<'controllerManager' | 'scheduler' | 'kwok', string>> {
  const write = async (file: string, client: Client) => {
    const pkiDir = join(dir, 'pki');
    const b64 = async (path: string) => (await readFile(path)).toString('base64');
    const kubeconfig = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: CONTEXT, cluster: { server, 'certificate-authority-data': await b64(pki.caCert) } }],
      users: [
        {
          name: CLIENTS[client].cn,
          user: { 'client-certificate-data': await b64(join(pkiDir, `${client}.crt`)), 'client-key-data': await b64(join(pkiDir, `${client}.key`)) },
        },
      ],
      contexts: [{ name: CONTEXT, context: { cluster: CONTEXT, user: CLIENTS[client].cn, namespace: 'default' } }],
      'current-context': CONTEXT,
    };
    await writeFile(file, stringify(kubeconfig), { mode: 0o600 });
    return file;
  };
  await write(kubeconfigPath(dir), 'admin');
  return {
    controllerManager: await write(join(dir, 'pki', 'kube-controller-manager.kubeconfig'), 'controllerManager'),
    scheduler: await write(join(dir, 'pki', 'kube-scheduler.kubeconfig'), 'scheduler'),
    kwok: await write(join(dir, 'pki', 'kwok.kubeconfig'), 'kwok'),
  };
}

/**
 * A kubeconfig that acts as `user` (the admin impersonating it: `as:` in the kubeconfig, honoured by
 * client-go and @kubernetes/client-node): to test what RBAC lets a ServiceAccount or user do, e.g.
 * "system:serviceaccount:<namespace>:<name>". Written to <dir>/kubeconfig-as-<user>.
 */
export async function writeImpersonatingKubeconfig(dir: string, user: string): Promise<string> {
  const admin = parse(await readFile(kubeconfigPath(dir), 'utf8')) as { users: Array<{ user: Record<string, string> }> };
  for (const u of admin.users) u.user.as = user;
  const file = join(dir, `kubeconfig-as-${user.replace(/[^\w.-]+/g, '_')}`);
  await writeFile(file, stringify(admin), { mode: 0o600 });
  return file;
}
