// What the node agents need to push checkpoint images to a registry that wants a login or speaks
// TLS with a private CA (kubelet-checkpoint `delivery: registry`; agent/registry_auth.go), chosen at
// `migbench agent install`: `--registry-secret [NAMESPACE/]NAME` names a Secret of type
// kubernetes.io/dockerconfigjson (the one the nodes pull with, as imagePullSecrets) which install
// copies into the agent's namespace, mounted read-only and root-only; `--registry-ca FILE` a PEM CA
// kept in a ConfigMap there, added to the agent's system roots. Copied, not read per trial: the
// agent has no API access and gets none. Both are checked before anything is created; an install
// without them removes what an earlier one copied, so no credential outlives the choice.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { V1Secret } from '@kubernetes/client-node';
import type { K8sObject } from '../api.ts';
import { apiStatus, type Cluster } from '../cluster.ts';
import { AGENT_NAMESPACE, AGENT_REGISTRY_CA, AGENT_REGISTRY_SECRET, DOCKER_CONFIG_KEY } from './agent-manifests.ts';

const DOCKER_CONFIG_TYPE = 'kubernetes.io/dockerconfigjson';
const SECRET_FIX =
  'create it with `kubectl -n NAMESPACE create secret docker-registry NAME --docker-server=HOST[:PORT] --docker-username=USER --docker-password=PASSWORD` (the secret your imagePullSecrets name)';

/** What install copies into the agent's namespace. */
export interface RegistryAccess {
  /** The Secret's `.dockerconfigjson`, base64 as the API gives it, and where it came from. */
  dockerConfig?: { data: string; from: string };
  /** The CA's PEM text. */
  caPem?: string;
}

export function parseSecretName(value: string): { namespace: string; name: string } {
  const [namespace, name] = value.includes('/') ? (value.split('/', 2) as [string, string]) : ['default', value];
  return { namespace, name };
}

/** Why a Secret cannot give the agents their registry logins, or undefined. */
export function registrySecretProblem(given: string, secret: V1Secret | undefined): string | undefined {
  const { namespace, name } = parseSecretName(given);
  if (!secret) return `--registry-secret ${given}: no Secret ${name} in namespace ${namespace}; ${SECRET_FIX}`;
  if (secret.type !== DOCKER_CONFIG_TYPE)
    return `--registry-secret ${given}: Secret ${namespace}/${name} is of type ${secret.type ?? 'Opaque'}, not ${DOCKER_CONFIG_TYPE}; ${SECRET_FIX}`;
  const data = secret.data?.[DOCKER_CONFIG_KEY];
  let auths: unknown;
  try {
    auths = data ? (JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { auths?: unknown }).auths : undefined;
  } catch {
    // The content is a credential: never repeated.
  }
  if (typeof auths !== 'object' || auths === null || Object.keys(auths).length === 0)
    return `--registry-secret ${given}: Secret ${namespace}/${name} has no ${DOCKER_CONFIG_KEY} with registries under "auths"; ${SECRET_FIX}`;
  return undefined;
}

/** The PEM text of --registry-ca's file, or why it cannot be a CA. */
export async function readRegistryCa(file: string): Promise<{ pem: string } | { problem: string }> {
  const fix = 'give the PEM file of the CA that signed the registry\'s certificate ("-----BEGIN CERTIFICATE-----")';
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { problem: `--registry-ca ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); ${fix}` };
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return { problem: `--registry-ca ${file}: holds no PEM certificate; ${fix}` };
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      return { problem: `--registry-ca ${file}: a certificate in it does not parse (${(err as Error).message}); ${fix}` };
    }
  }
  return { pem: `${blocks.join('\n')}\n` };
}

/** Checks --registry-secret, reading (never changing) the cluster; its problem, or what install copies with the CA read before (readRegistryCa). */
export async function registryAccessOf(
  cluster: Cluster,
  secretName: string | undefined,
  caPem: string | undefined,
): Promise<{ problems: string[]; access: RegistryAccess }> {
  const access: RegistryAccess = caPem ? { caPem } : {};
  if (secretName === undefined) return { problems: [], access };
  const { namespace, name } = parseSecretName(secretName);
  let secret: V1Secret | undefined;
  try {
    secret = await cluster.core.readNamespacedSecret({ name, namespace });
  } catch (err) {
    if (apiStatus(err) !== 404) throw err;
  }
  const problem = registrySecretProblem(secretName, secret);
  if (problem) return { problems: [problem], access };
  return { problems: [], access: { ...access, dockerConfig: { data: secret!.data![DOCKER_CONFIG_KEY]!, from: `${namespace}/${name}` } } };
}

const labels = { 'app.kubernetes.io/part-of': 'migbench' };

/** The copies in the agent's namespace: the Secret (same type and key) and the CA's ConfigMap. */
export function registryAccessObjects(access: RegistryAccess): (K8sObject & { type?: string; data?: Record<string, string> })[] {
  return [
    ...(access.dockerConfig
      ? [
          {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: AGENT_REGISTRY_SECRET, namespace: AGENT_NAMESPACE, labels, annotations: { 'migbench.io/copied-from': access.dockerConfig.from } },
            type: DOCKER_CONFIG_TYPE,
            data: { [DOCKER_CONFIG_KEY]: access.dockerConfig.data },
          },
        ]
      : []),
    ...(access.caPem
      ? [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: AGENT_REGISTRY_CA, namespace: AGENT_NAMESPACE, labels }, data: { 'ca.crt': access.caPem } }]
      : []),
  ];
}

/** Removes the copies an earlier install made that this one does not keep. */
export async function removeUnusedRegistryAccess(cluster: Cluster, access: RegistryAccess): Promise<void> {
  const gone = (err: unknown) => {
    if (apiStatus(err) !== 404) throw err;
  };
  if (!access.dockerConfig) await cluster.core.deleteNamespacedSecret({ name: AGENT_REGISTRY_SECRET, namespace: AGENT_NAMESPACE }).catch(gone);
  if (!access.caPem) await cluster.core.deleteNamespacedConfigMap({ name: AGENT_REGISTRY_CA, namespace: AGENT_NAMESPACE }).catch(gone);
}

/** Which of the registry's logins and CA an installed agent DaemonSet mounts. */
export function registryAccessOfDaemonSet(daemonSet: K8sObject): { logins: boolean; ca: boolean } {
  const volumes = (daemonSet.spec?.template?.spec?.volumes ?? []) as { secret?: { secretName?: string }; configMap?: { name?: string } }[];
  return {
    logins: volumes.some((v) => v.secret?.secretName === AGENT_REGISTRY_SECRET),
    ca: volumes.some((v) => v.configMap?.name === AGENT_REGISTRY_CA),
  };
}
