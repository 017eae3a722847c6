// Every host object the local platform creates carries one of these names or prefixes, so that
// `migbench cleanup` can find and remove them after a crash without any state file.
export const RUN_DIR = '/run/migbench';
export const PODS_DIR = `${RUN_DIR}/pods`;
export const ROOTFS_DIR = `${RUN_DIR}/rootfs`;
export const LOCK_FILE = `${RUN_DIR}/lock`;

/** runc container ids and network namespaces: `migbench-<pod>`. */
export const OBJECT_PREFIX = 'migbench-';
/** The host bridge of the pod network. */
export const BRIDGE = 'migbench0';
/** Host ends of the pods' veth pairs: `mbv<n>` (interface names are at most 15 bytes). */
export const VETH_PREFIX = 'mbv';
/** iptables nat chains: the dispatch chain and one chain per service. */
export const SERVICES_CHAIN = 'MIGBENCH-SERVICES';
export const SERVICE_CHAIN_PREFIX = 'MIGBENCH-SVC-';
/** iptables filter chain that resets connections to a service without an endpoint. */
export const REJECT_CHAIN = 'MIGBENCH-REJECT';
/** cgroup parent of every pod (in each cgroup v1 hierarchy, or the v2 tree). */
export const CGROUP_PARENT = 'migbench';

export const containerId = (pod: string) => `${OBJECT_PREFIX}${pod}`;
export const netnsName = (pod: string) => `${OBJECT_PREFIX}${pod}`;
