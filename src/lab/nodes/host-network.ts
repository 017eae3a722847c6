// The real nodes' network: a bridge mbk0 on the host (198.19.240.1/24), one network namespace per
// node joined to it by a veth (kubelet refuses a loopback node address, and each node needs its own
// kube-proxy rules and ports), routes between the nodes' pod subnets (and from the host to them, for
// the API server's pod proxy), and one host rule that lets
// the nodes reach the API server, which listens on 127.0.0.1 only.
//
// API server access: a DNAT in the host's nat PREROUTING for packets that come in on mbk0 for
// 198.19.240.1:<api port>, to 127.0.0.1:<api port>. The kernel drops packets to or from 127/8 on any
// interface but lo unless route_localnet is set on it: set on mbk0 only (goes with the bridge),
// never on "all". No process in between, nothing listening on a non-loopback host address.
import { existsSync, readdirSync } from 'node:fs';
import { exec } from '../../system/exec.ts';
import { API_CHAIN, BRIDGE, HOST_ADDRESS, NAME_PREFIX, NODE_NETWORK_PREFIX, type NodeLayout } from './layout.ts';

export async function createNodeNetwork(nodes: readonly NodeLayout[], apiPort: number): Promise<void> {
  if (!existsSync(`/sys/class/net/${BRIDGE}`)) {
    await exec('ip', ['-batch', '-'], {
      input: [`link add ${BRIDGE} type bridge`, `addr add ${HOST_ADDRESS}/${NODE_NETWORK_PREFIX} dev ${BRIDGE}`, `link set ${BRIDGE} up`, ''].join('\n'),
    });
  }
  await exec('sysctl', ['-q', '-w', `net.ipv4.conf.${BRIDGE}.route_localnet=1`]);
  await exec('iptables', ['-w', '-t', 'nat', '-N', API_CHAIN], { allowFailure: true });
  await exec('iptables', ['-w', '-t', 'nat', '-F', API_CHAIN]);
  await exec('iptables', [
    '-w',
    '-t',
    'nat',
    '-A',
    API_CHAIN,
    '-i',
    BRIDGE,
    '-d',
    `${HOST_ADDRESS}/32`,
    '-p',
    'tcp',
    '--dport',
    String(apiPort),
    '-j',
    'DNAT',
    '--to-destination',
    `127.0.0.1:${apiPort}`,
  ]);
  const jump = ['PREROUTING', '-i', BRIDGE, '-j', API_CHAIN];
  if ((await exec('iptables', ['-w', '-t', 'nat', '-C', ...jump], { allowFailure: true })).exitCode !== 0)
    await exec('iptables', ['-w', '-t', 'nat', '-I', ...jump]);

  for (const node of nodes) {
    await exec('ip', ['netns', 'delete', node.netns], { allowFailure: true });
    await exec('ip', ['-batch', '-'], {
      input: [
        `netns add ${node.netns}`,
        `link add ${node.hostVeth} type veth peer name eth0 netns ${node.netns}`,
        `link set ${node.hostVeth} master ${BRIDGE}`,
        `link set ${node.hostVeth} up`,
        '',
      ].join('\n'),
    });
    const routes = nodes.filter((other) => other !== node).map((other) => `route add ${other.podCidr} via ${other.address}`);
    await exec('ip', ['-n', node.netns, '-batch', '-'], {
      input: ['link set lo up', `addr add ${node.address}/${NODE_NETWORK_PREFIX} dev eth0`, 'link set eth0 up', ...routes, ''].join('\n'),
    });
    // Per namespace: the node routes its pods' traffic, as a real node does; the host's stays as it is.
    await exec('ip', ['netns', 'exec', node.netns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    // The host (where the API server runs, as on a control-plane node) reaches the node's pods
    // through the node: the API server's pod proxy (the node agent) dials pod addresses. Through the
    // bridge, so the route goes with it.
    await exec('ip', ['route', 'replace', node.podCidr, 'via', node.address, 'dev', BRIDGE]);
  }
}

/** Removes the node namespaces (their veths and kube-proxy rules go with them), the bridge and the API rule. Idempotent. */
export async function removeNodeNetwork(): Promise<string[]> {
  const removed: string[] = [];
  const namespaces = existsSync('/run/netns') ? readdirSync('/run/netns').filter((ns) => ns.startsWith(`${NAME_PREFIX}-`)) : [];
  for (const ns of namespaces) {
    await exec('ip', ['netns', 'delete', ns], { allowFailure: true });
    removed.push(`netns ${ns}`);
  }
  if (existsSync('/sys/class/net')) {
    for (const link of readdirSync('/sys/class/net')) {
      if (new RegExp(`^${NAME_PREFIX}v\\d+$`).test(link) || link === BRIDGE) {
        await exec('ip', ['link', 'del', link], { allowFailure: true });
        removed.push(`link ${link}`);
      }
    }
  }
  const jump = ['PREROUTING', '-i', BRIDGE, '-j', API_CHAIN];
  while ((await exec('iptables', ['-w', '-t', 'nat', '-C', ...jump], { allowFailure: true })).exitCode === 0) {
    await exec('iptables', ['-w', '-t', 'nat', '-D', ...jump]);
    removed.push(`iptables nat PREROUTING → ${API_CHAIN}`);
  }
  if ((await exec('iptables', ['-w', '-t', 'nat', '-F', API_CHAIN], { allowFailure: true })).exitCode === 0) {
    await exec('iptables', ['-w', '-t', 'nat', '-X', API_CHAIN], { allowFailure: true });
    removed.push(`iptables chain ${API_CHAIN}`);
  }
  return removed;
}
