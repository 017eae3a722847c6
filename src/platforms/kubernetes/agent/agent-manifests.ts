// The node agent's objects (agent/, `migbench-agent`), as `migbench agent install` applies them: its
// own namespace and a DaemonSet of privileged pods on the pod network (no hostPort, no hostNetwork:
// only the API server's pod proxy and the other nodes' agents reach it), with the node mounts its
// steps need — the kubelet's checkpoint directory, the runtime's socket, cgroupfs, and its state
// directory (the CRIU options pods name in org.criu.config, received archives: root-only). hostPID
// so it can signal the stopped processes it finds in cgroupfs. No service account token: it never
// calls the API server. Every request must carry the token of the Secret AGENT_TOKEN_SECRET, mounted
// into its pods (agent/auth.go); a NetworkPolicy admits its port only from the API server's
// addresses and the other agents — where the CNI enforces NetworkPolicy (the lab's bridge plugin
// does not: there the token is the guard). A registry's logins and CA (`--registry-secret`,
// `--registry-ca`; agent-registry-access.ts) are mounted read-only when install copied them.
import type { K8sObject } from '../api.ts';

export const AGENT_NAMESPACE = 'migbench-agent';
export const AGENT_NAME = 'migbench-agent';
export const AGENT_PORT = 9440;
/** Agent pods carry this label (not app.kubernetes.io/managed-by=migbench: a run's cleanup must never take them). */
export const AGENT_LABEL = 'app.kubernetes.io/name';
export const AGENT_SELECTOR = `${AGENT_LABEL}=${AGENT_NAME}`;
/** The Secret holding the agent's bearer token (key `token`): created by `migbench agent install`, read by migbench, mounted into the agent pods. */
export const AGENT_TOKEN_SECRET = 'migbench-agent-token';
/** The header the token travels in (the API server drops Authorization before its proxy forwards a request). */
export const AGENT_TOKEN_HEADER = 'X-Migbench-Agent-Token';
const TOKEN_DIR = '/etc/migbench-agent';
/** The copy of --registry-secret's dockerconfigjson Secret in the agent's namespace (agent-registry-access.ts), and its key. */
export const AGENT_REGISTRY_SECRET = 'migbench-agent-registry';
export const DOCKER_CONFIG_KEY = '.dockerconfigjson';
/** The ConfigMap of --registry-ca's PEM (key ca.crt). */
export const AGENT_REGISTRY_CA = 'migbench-agent-registry-ca';
const REGISTRY_AUTH_DIR = '/etc/migbench-registry-auth';
const REGISTRY_CA_DIR = '/etc/migbench-registry-ca';
/** The shared ReadWriteMany volume's name in the DaemonSet and its mount in the agent pods (the agent's SHARED_DIR; agent-shared-volume.ts). */
export const SHARED_VOLUME = 'shared';
export const SHARED_MOUNT = '/var/lib/migbench-shared';

/** Node paths; `{node}` stands for the node's name (the lab's nodes keep theirs in a directory per node). */
export interface AgentNodePaths {
  kubeletCheckpointDir: string;
  runtimeSocket: string;
  stateDir: string;
  /** containerd's main config as containerd reads it (only read: the runtime handler's drop-in goes to the directory it imports). */
  containerdConfig?: string;
}

export const DEFAULT_AGENT_NODE_PATHS: AgentNodePaths = {
  kubeletCheckpointDir: '/var/lib/kubelet/checkpoints',
  runtimeSocket: '/run/containerd/containerd.sock',
  stateDir: '/var/lib/migbench-agent',
  containerdConfig: '/etc/containerd/config.toml',
};

/** A trial's CRIU options files, which the agent writes and the trial's pods name in org.criu.config (agent/criu.go criuOptionsPath): one pair per trial, so two runs on one node never share one. */
export function criuConfigFiles(paths: AgentNodePaths, agentKey: string): { checkpoint: string; restore: string } {
  return { checkpoint: `${paths.stateDir}/criu/trials/${agentKey}/checkpoint.conf`, restore: `${paths.stateDir}/criu/trials/${agentKey}/restore.conf` };
}

/** The host path to mount for a node path: the part before `{node}` when it has one, else the path (a socket: its directory). */
function mountOf(path: string, socket = false): string {
  const i = path.indexOf('{node}');
  if (i >= 0) return path.slice(0, i).replace(/\/+$/, '') || '/';
  return socket ? path.slice(0, path.lastIndexOf('/')) || '/' : path;
}

/**
 * `nodeSelector`: only nodes with these labels (default: every node, tainted ones included).
 * `apiServerAddresses`: where the API server's proxy connects from (the `kubernetes` Service's
 * endpoints): the NetworkPolicy admits the agent's port from these and from the other agents only.
 * `sharedClaim`: a ReadWriteMany claim in the agent's namespace every agent pod mounts, for archives
 * that travel through it (a strategy's transfer: shared-volume).
 * `registry`: whether the agents mount the registry's logins (AGENT_REGISTRY_SECRET; read on every push) and
 * the CA (AGENT_REGISTRY_CA; its sha256, in the pod template, so that another CA restarts the agents, which read it once).
 */
export function agentObjects(
  image: string,
  paths: AgentNodePaths = DEFAULT_AGENT_NODE_PATHS,
  nodeSelector?: Record<string, string>,
  apiServerAddresses: readonly string[] = [],
  sharedClaim?: string,
  registry: { logins?: boolean; caSha256?: string } = {},
): K8sObject[] {
  const labels = { [AGENT_LABEL]: AGENT_NAME, 'app.kubernetes.io/part-of': 'migbench' };
  const mounts = [
    { name: 'kubelet-checkpoints', path: mountOf(paths.kubeletCheckpointDir), type: 'DirectoryOrCreate' },
    { name: 'runtime-socket', path: mountOf(paths.runtimeSocket, true), type: 'Directory' },
    { name: 'state', path: mountOf(paths.stateDir), type: 'DirectoryOrCreate' },
    { name: 'cgroup', path: '/sys/fs/cgroup', type: 'Directory', at: '/host/sys/fs/cgroup' },
  ];
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: AGENT_NAMESPACE, labels } },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: AGENT_NAME, namespace: AGENT_NAMESPACE, labels },
      spec: {
        selector: { matchLabels: { [AGENT_LABEL]: AGENT_NAME } },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '100%' } },
        template: {
          metadata: { labels, ...(registry.caSha256 ? { annotations: { 'migbench.io/registry-ca-sha256': registry.caSha256 } } : {}) },
          spec: {
            automountServiceAccountToken: false,
            hostPID: true,
            enableServiceLinks: false,
            // Every node, tainted ones included (a control-plane node may run workloads too).
            tolerations: [{ operator: 'Exists' }],
            ...(nodeSelector ? { nodeSelector } : {}),
            terminationGracePeriodSeconds: 5,
            containers: [
              {
                name: 'agent',
                image,
                imagePullPolicy: 'IfNotPresent',
                ports: [{ name: 'agent', containerPort: AGENT_PORT, protocol: 'TCP' }],
                env: [
                  { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                  { name: 'AGENT_LISTEN', value: `:${AGENT_PORT}` },
                  { name: 'KUBELET_CHECKPOINT_DIR', value: paths.kubeletCheckpointDir },
                  { name: 'RUNTIME_SOCKET', value: paths.runtimeSocket },
                  { name: 'STATE_DIR', value: paths.stateDir },
                  { name: 'CONTAINERD_CONFIG', value: paths.containerdConfig ?? DEFAULT_AGENT_NODE_PATHS.containerdConfig },
                  { name: 'CGROUP_ROOT', value: '/host/sys/fs/cgroup' },
                  { name: 'AGENT_TOKEN_FILE', value: `${TOKEN_DIR}/token` },
                  ...(sharedClaim ? [{ name: 'SHARED_DIR', value: SHARED_MOUNT }] : []),
                  ...(registry.logins ? [{ name: 'REGISTRY_AUTH_FILE', value: `${REGISTRY_AUTH_DIR}/config.json` }] : []),
                  ...(registry.caSha256 ? [{ name: 'REGISTRY_CA_FILE', value: `${REGISTRY_CA_DIR}/ca.crt` }] : []),
                ],
                securityContext: { privileged: true },
                // The one path the agent answers without its token (and with nothing but "ok").
                readinessProbe: { httpGet: { path: '/readyz', port: AGENT_PORT }, periodSeconds: 2 },
                resources: { requests: { cpu: '10m', memory: '32Mi' } },
                volumeMounts: [
                  ...mounts.map((m) => ({ name: m.name, mountPath: m.at ?? m.path, ...(m.name === 'cgroup' ? { readOnly: false } : {}) })),
                  { name: 'token', mountPath: TOKEN_DIR, readOnly: true },
                  ...(sharedClaim ? [{ name: SHARED_VOLUME, mountPath: SHARED_MOUNT }] : []),
                  ...(registry.logins ? [{ name: 'registry-auth', mountPath: REGISTRY_AUTH_DIR, readOnly: true }] : []),
                  ...(registry.caSha256 ? [{ name: 'registry-ca', mountPath: REGISTRY_CA_DIR, readOnly: true }] : []),
                ],
              },
            ],
            volumes: [
              ...mounts.map((m) => ({ name: m.name, hostPath: { path: m.path, type: m.type } })),
              { name: 'token', secret: { secretName: AGENT_TOKEN_SECRET, defaultMode: 0o400 } },
              ...(sharedClaim ? [{ name: SHARED_VOLUME, persistentVolumeClaim: { claimName: sharedClaim } }] : []),
              // Credentials: readable by root only, as the agent's token.
              ...(registry.logins
                ? [
                    {
                      name: 'registry-auth',
                      secret: { secretName: AGENT_REGISTRY_SECRET, defaultMode: 0o400, items: [{ key: DOCKER_CONFIG_KEY, path: 'config.json' }] },
                    },
                  ]
                : []),
              ...(registry.caSha256 ? [{ name: 'registry-ca', configMap: { name: AGENT_REGISTRY_CA, defaultMode: 0o444 } }] : []),
            ],
          },
        },
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: AGENT_NAME, namespace: AGENT_NAMESPACE, labels },
      spec: {
        podSelector: { matchLabels: { [AGENT_LABEL]: AGENT_NAME } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              // The other nodes' agents (an archive's upload).
              { podSelector: { matchLabels: { [AGENT_LABEL]: AGENT_NAME } } },
              // The API server's pod proxy (every request of migbench's).
              ...apiServerAddresses.map((a) => ({ ipBlock: { cidr: a.includes('/') ? a : a.includes(':') ? `${a}/128` : `${a}/32` } })),
            ],
            ports: [{ protocol: 'TCP', port: AGENT_PORT }],
          },
        ],
      },
    },
  ];
}

/** The node paths an installed DaemonSet was given (its container's environment), to name the CRIU options files in pods. */
export function agentPathsOf(daemonSet: K8sObject): AgentNodePaths {
  const env = (daemonSet.spec?.template?.spec?.containers?.[0]?.env ?? []) as { name: string; value?: string }[];
  const get = (name: string, fallback: string) => env.find((e) => e.name === name)?.value ?? fallback;
  return {
    kubeletCheckpointDir: get('KUBELET_CHECKPOINT_DIR', DEFAULT_AGENT_NODE_PATHS.kubeletCheckpointDir),
    runtimeSocket: get('RUNTIME_SOCKET', DEFAULT_AGENT_NODE_PATHS.runtimeSocket),
    stateDir: get('STATE_DIR', DEFAULT_AGENT_NODE_PATHS.stateDir),
    containerdConfig: get('CONTAINERD_CONFIG', DEFAULT_AGENT_NODE_PATHS.containerdConfig ?? ''),
  };
}
