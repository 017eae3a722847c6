// Names, paths and addresses of the real-node cluster (`migbench cluster`). Every host object it
// creates carries the `mbk` prefix (netns mbk-<node>, veths mbkv<n>, bridge mbk0, iptables chain
// MBK-API, cgroup roots /mbk-<node>) and every file lives under CLUSTER_RUN_DIR or CLUSTER_DATA_DIR,
// so its cleanup finds all of it without a state file and never touches the local platform's
// objects (migbench-*, mbv*, migbench0, MIGBENCH-*, cgroup parent migbench), nor they it.
import { join } from 'node:path';

/** Runtime state: the control plane's directory, sockets, containerd state, logs, state.json. */
export const CLUSTER_RUN_DIR = '/run/migbench-cluster';
/** Disk-backed: containerd's images and snapshots, kubelet's root dir, the shared volume. */
export const CLUSTER_DATA_DIR = '/var/lib/migbench-cluster';
/** The host directory both nodes mount (hostPath) for Redis' AOF: the seed's NFS share. */
export const SHARED_VOLUME_DIR = join(CLUSTER_DATA_DIR, 'shared');
/** Original values of the host sysctls kubelet overwrites, written before the first kubelet starts. */
export const SAVED_SYSCTLS_FILE = join(CLUSTER_DATA_DIR, 'host-sysctls.json');
export const CONTROL_PLANE_DIR = join(CLUSTER_RUN_DIR, 'control-plane');
export const NAME_PREFIX = 'mbk';
/** Label kubelet puts on every node of this cluster: a run seeing it adapts the manifests (realNodeManifests). */
export const REAL_NODE_LABEL = 'migbench.io/real-node';
export const BRIDGE = 'mbk0';
export const API_CHAIN = 'MBK-API';
/**
 * 198.19.240.0/21 (RFC 2544 benchmarking range): the node network .240 (host bridge .1, node i at
 * .10+i), node i's pods in 198.19.(241+i).0/24. The local platform uses 198.18.0.0/24 and
 * 198.19.<i>.0/30 for its first nodes' links.
 */
export const NODE_NETWORK_PREFIX = 24;
export const HOST_ADDRESS = '198.19.240.1';
export const CLUSTER_CIDR = '198.19.240.0/21';
export const MAX_NODES = 6;

/**
 * The kubelet-written host sysctls (pkg/kubelet/cm/container_manager_linux.go setupKernelTunables):
 * kubelet has no setting that leaves them alone (protectKernelDefaults only turns a difference into
 * a start failure), so their values are saved before the first kubelet starts and restored by stop
 * and cleanup. The network ones kubelet and kube-proxy write are per network namespace: the node's.
 */
export const KUBELET_HOST_SYSCTLS = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
] as const;

export interface NodeLayout {
  name: string;
  index: number;
  netns: string;
  /** Host end of the node's veth (on the bridge); the node's end is eth0. */
  hostVeth: string;
  address: string;
  podCidr: string;
  podGateway: string;
  /** kubelet's cgroupRoot, in every cgroup v1 hierarchy: the two nodes' pods never share a parent. */
  cgroupRoot: string;
  runDir: string;
  dataDir: string;
  containerdSocket: string;
  containerdRoot: string;
  containerdState: string;
  kubeletRoot: string;
  podLogsDir: string;
  logDir: string;
}

export function nodeLayout(name: string, index: number): NodeLayout {
  if (index < 0 || index >= MAX_NODES) throw new Error(`migbench cluster: at most ${MAX_NODES} nodes`);
  const runDir = join(CLUSTER_RUN_DIR, 'nodes', name);
  const dataDir = join(CLUSTER_DATA_DIR, 'nodes', name);
  return {
    name,
    index,
    netns: `${NAME_PREFIX}-${name}`,
    hostVeth: `${NAME_PREFIX}v${index}`,
    address: `198.19.240.${10 + index}`,
    podCidr: `198.19.${241 + index}.0/24`,
    podGateway: `198.19.${241 + index}.1`,
    cgroupRoot: `/${NAME_PREFIX}-${name}`,
    runDir,
    dataDir,
    containerdSocket: join(runDir, 'containerd.sock'),
    containerdRoot: join(dataDir, 'containerd'),
    containerdState: join(runDir, 'containerd'),
    kubeletRoot: join(dataDir, 'kubelet'),
    podLogsDir: join(dataDir, 'pod-logs'),
    logDir: join(CLUSTER_RUN_DIR, 'logs'),
  };
}

export const netnsPath = (node: NodeLayout) => `/run/netns/${node.netns}`;
