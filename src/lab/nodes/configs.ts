// The configuration files of one real node: containerd's config.toml, its CNI network, kubelet's
// KubeletConfiguration, kube-proxy's KubeProxyConfiguration, and their client certificates
// (signed by the control plane's CA: system:node:<name> for the Node authorizer, system:kube-proxy
// for the default system:node-proxier binding).
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { PAUSE_IMAGE, type NodeBinaries } from '../build/node-build.ts';
import { exec } from '../../system/exec.ts';
import { CLUSTER_CIDR, HOST_ADDRESS, type NodeLayout } from './layout.ts';
import { goDuration, STOCK_CLUSTER_SETTINGS, type ClusterSettings } from './cluster-settings.ts';

/** toml string: JSON's escaping is a subset of toml's basic strings. */
const q = (s: string) => JSON.stringify(s);

/** `registryConfigPath`: containerd's hosts.toml directory (lab-registry.ts writes the lab registry's there). */
export function containerdConfig(node: NodeLayout, binaries: NodeBinaries, cniConfDir: string, registryConfigPath: string): string {
  return `# migbench cluster node ${node.name}; generated, rewritten at every start
version = 3
root = ${q(node.containerdRoot)}
# Drop-ins merged over this file (the runtime handler's runtime: runtime-handler.ts).
imports = [${q(join(node.runDir, 'containerd.d', '*.toml'))}]
state = ${q(node.containerdState)}
# Two containerds on one host: each plugin that would use a fixed host path gets its own, or is off
# (NRI listens on /var/run/nri/nri.sock; the btrfs/zfs/devmapper snapshotters are not built or used).
disabled_plugins = ["io.containerd.nri.v1.nri", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.erofs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[plugins."io.containerd.server.v1.grpc"]
  address = ${q(node.containerdSocket)}

[plugins."io.containerd.server.v1.ttrpc"]
  address = ${q(`${node.containerdSocket}.ttrpc`)}

[plugins."io.containerd.server.v1.debug"]
  address = ""

[plugins."io.containerd.shim.v1.manager"]
  # The shims' sockets beside this node's, not in /run/containerd/s.
  socket_dir = ${q(join(node.runDir, 's'))}

[plugins."io.containerd.internal.v1.opt"]
  path = ${q(join(node.dataDir, 'opt'))}

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  # The pause image and the lab's own workload images are imported with ctr (nothing outside the
  # host is reachable); images from the lab's registry are pulled over plain HTTP (hosts.toml).
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = ${q(PAUSE_IMAGE)}
  [plugins."io.containerd.cri.v1.images".registry]
    config_path = ${q(registryConfigPath)}

[plugins."io.containerd.cri.v1.runtime"]
  # Pod network namespaces under this node's state dir, not /var/run/netns shared by every containerd.
  netns_mounts_under_state_dir = true
  # This host withholds CAP_SYS_RESOURCE (it runs in a sandbox), so no process may lower an
  # oom_score_adj: kubelet's -998 for the sandbox (and -997 for Guaranteed pods) fails in runc init.
  # containerd then keeps the current score instead (the setting made for rootless containerd).
  restrict_oom_score_adj = true
${restoreViaCreate(binaries)}  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      # runc reads the CRIU configuration file a pod names in this annotation for its checkpoint
      # and restore (instead of the host-wide /etc/criu/runc.conf): the kubelet-checkpoint
      # strategy's pods name one that lets CRIU handle their established TCP connections.
      pod_annotations = ["org.criu.config"]
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = ${q(binaries.runc)}
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = [${q(binaries.cniBinDir)}]
    conf_dir = ${q(cniConfDir)}
    max_conf_num = 1

[plugins."io.containerd.grpc.v1.cri"]
  # kubectl exec/logs streaming, inside the node's namespace.
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
`;
}

/**
 * Restore from a checkpoint image by creating a container whose image it is (KEP-2008's restore
 * path; experimental in containerd 2.x, removed in 2.4 — its key is gone from 2.4's CRI config, which
 * would only warn about it): what the kubelet-checkpoint strategy uses.
 */
const restoreViaCreate = (binaries: NodeBinaries) =>
  binaries.containerdVersion !== '2.4.2'
    ? '  # kubelet-checkpoint restores by creating a container from a checkpoint image (removed in 2.4).\n  enable_experimental_restore_via_create = true\n'
    : '  # containerd 2.4: no restore from a checkpoint image (kubelet-checkpoint is unsupported here).\n';

/** The pod network: a bridge inside the node's namespace, the node's own /24, routed by the node. */
export function cniConfig(node: NodeLayout): string {
  return `${JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: `mbk-${node.name}`,
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: false,
          // A pod reaching its own Service (and so maybe itself) through kube-proxy's DNAT.
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: node.podCidr, gateway: node.podGateway }]],
            routes: [{ dst: '0.0.0.0/0' }],
            // Not /var/lib/cni/networks, which every CNI user on the host shares.
            dataDir: join(node.dataDir, 'cni-ipam'),
          },
        },
      ],
    },
    null,
    2,
  )}\n`;
}

/** A certificate and its key, as files (writeServingCertificate, signCertificate). */
export interface CertificateFiles {
  crt: string;
  key: string;
}

export function kubeletConfig(node: NodeLayout, caFile: string, serving: CertificateFiles, settings: ClusterSettings = STOCK_CLUSTER_SETTINGS): string {
  return stringify({
    // Evented PLEG (cluster-settings.ts): container changes from containerd's CRI event stream, not only the relist.
    ...(settings.eventedPleg ? { featureGates: { EventedPLEG: true } } : {}),
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // This host has cgroup v1 (hybrid, with an empty unified tree); kubelet ≥ 1.35 refuses it by default.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: node.cgroupRoot,
    address: node.address,
    // kubelet's ports are in the node's namespace: both nodes use the defaults without a clash.
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    containerRuntimeEndpoint: `unix://${node.containerdSocket}`,
    podLogsDir: node.podLogsDir,
    // A certificate the cluster's CA signed for the node's address, so a client of kubelet's API
    // (the kubelet-checkpoint strategy's checkpoint call) verifies it as it verifies the API server.
    tlsCertFile: serving.crt,
    tlsPrivateKeyFile: serving.key,
    // As kubeadm sets a node up: client certificates of the cluster's CA or bearer tokens, nobody
    // anonymous, and every request authorized by the API server (SubjectAccessReview): a checkpoint
    // needs RBAC's `create` on `nodes/checkpoint`, as on any real cluster.
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: caFile } },
    authorization: { mode: 'Webhook' },
    // The images were imported, not pulled, and cannot be pulled again: image GC stays off (100 %).
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    // Evictions for a busy shared disk would end a trial for reasons not its own.
    evictionHard: { 'memory.available': '0%', 'nodefs.available': '0%', 'nodefs.inodesFree': '0%', 'imagefs.available': '0%', 'imagefs.inodesFree': '0%' },
    failSwapOn: false,
    resolvConf: '/etc/resolv.conf',
    serializeImagePulls: false,
    // Status reported often, so a stopped node turns NotReady within seconds, as the tests expect.
    nodeStatusUpdateFrequency: '2s',
    syncFrequency: '10s',
    fileCheckFrequency: '0s',
    localStorageCapacityIsolation: false,
  });
}

export function kubeProxyConfig(node: NodeLayout, kubeconfig: string, settings: ClusterSettings = STOCK_CLUSTER_SETTINGS): string {
  const sync = { minSyncPeriod: goDuration(settings.proxyMinSyncMs), syncPeriod: '30s' };
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: settings.proxyMode,
    // How soon after an endpoint change the rules are rewritten (stock 1 s): the outage's `proxy` part.
    [settings.proxyMode]: sync,
    clientConnection: { kubeconfig },
    hostnameOverride: node.name,
    bindAddress: node.address,
    healthzBindAddress: '127.0.0.1:10256',
    // On the node's address, so the API server's node proxy reaches kube-proxy's metrics (its rule
    // syncs' timestamps: the outage breakdown's `proxy_synced`), as a cluster scraped by Prometheus has it.
    metricsBindAddress: `${node.address}:10249`,
    clusterCIDR: CLUSTER_CIDR,
    // 0 = leave as is: nf_conntrack_max is one value for the whole host.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    nodePortAddresses: [`${node.address}/32`],
  });
}

/** kubelet's serving certificate, signed by the control plane's CA, naming the node's address. */
export function writeServingCertificate(openssl: string, pkiDir: string, outDir: string, node: NodeLayout): Promise<CertificateFiles> {
  return signCertificate(
    openssl,
    pkiDir,
    outDir,
    'kubelet-serving',
    `/CN=system:node:${node.name}/O=system:nodes`,
    `extendedKeyUsage=serverAuth\nsubjectAltName=IP:${node.address},DNS:${node.name}`,
  );
}

/** A key and a certificate for `subject` with `extensions`, signed by the CA in pkiDir, as outDir/<name>.{key,crt}. */
export async function signCertificate(
  openssl: string,
  pkiDir: string,
  outDir: string,
  name: string,
  subject: string,
  extensions: string,
): Promise<CertificateFiles> {
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const key = join(outDir, `${name}.key`);
  const csr = join(outDir, `${name}.csr`);
  const crt = join(outDir, `${name}.crt`);
  const ext = join(outDir, `${name}.ext`);
  const run = (args: string[]) => exec(openssl, args, { cwd: outDir, timeoutMs: 30_000 });
  await writeFile(ext, `[v3]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n${extensions}\n`);
  await run(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', subject]);
  const serial = randomBytes(16)
    .toString('hex')
    .replace(/^[89a-f]/, '1');
  await run([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    join(pkiDir, 'ca.crt'),
    '-CAkey',
    join(pkiDir, 'ca.key'),
    '-set_serial',
    `0x${serial}`,
    '-days',
    '3650',
    '-out',
    crt,
    '-extfile',
    ext,
    '-extensions',
    'v3',
  ]);
  return { crt, key };
}

/** A client kubeconfig for `cn` (groups `o`), signed by the control plane's CA, for the API server as the node sees it. */
export async function writeClientKubeconfig(
  openssl: string,
  pkiDir: string,
  outDir: string,
  name: string,
  cn: string,
  groups: string[],
  apiPort: number,
): Promise<string> {
  const { crt, key } = await signCertificate(openssl, pkiDir, outDir, name, `/CN=${cn}${groups.map((g) => `/O=${g}`).join('')}`, 'extendedKeyUsage=clientAuth');
  const b64 = async (path: string) => (await readFile(path)).toString('base64');
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'migbench',
        cluster: {
          // The API server listens on 127.0.0.1; the host forwards the bridge address to it (host-network.ts).
          server: `https://${HOST_ADDRESS}:${apiPort}`,
          'certificate-authority-data': await b64(join(pkiDir, 'ca.crt')),
          // Its certificate names 127.0.0.1 and localhost, not the bridge address.
          'tls-server-name': 'localhost',
        },
      },
    ],
    users: [{ name: cn, user: { 'client-certificate-data': await b64(crt), 'client-key-data': await b64(key) } }],
    contexts: [{ name: 'migbench', context: { cluster: 'migbench', user: cn } }],
    'current-context': 'migbench',
  };
  const file = join(outDir, `${name}.kubeconfig`);
  await writeFile(file, stringify(kubeconfig), { mode: 0o600 });
  return file;
}
