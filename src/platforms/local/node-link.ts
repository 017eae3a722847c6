// An emulated node-to-node network for CRIU's transfers. On one host every transfer would otherwise
// run over loopback at memory speed; a real cluster moves checkpoints over a 1–25 Gbit/s link. Each
// node gets a network namespace (`migbench-node-<node>`) joined to the host by a veth pair whose
// two ends are shaped with a token bucket (tc tbf) to the scenario's bandwidth. The target node's
// CRIU helpers (page server, lazy-pages daemon, the receiver of a copied checkpoint) run in its
// namespace, so every byte they get crosses the shaped link; the source side stays on the host.
import { createServer, type AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { exec } from '../../system/exec.ts';
import { OBJECT_PREFIX } from './names.ts';

export interface NodeLink {
  readonly node: string;
  readonly netns: string;
  /** The host's end: where the target reaches a source-side server (lazy dump's page server, image copy). */
  readonly hostAddress: string;
  /** The node's end: where the source reaches a server on the target (page server). */
  readonly nodeAddress: string;
  readonly bandwidthMbit: number;
}

/** Host ends of node links (`mbn<n>`); a deleted namespace takes the pair with it. */
const NODE_LINK_PREFIX = 'mbn';

/** 198.19.0.0/16 (the second half of RFC 2544's benchmarking range): one /30 per node. */
const linkAddress = (index: number, host: 1 | 2) => `198.19.${index}.${host}`;

/**
 * Token bucket: the rate, a burst of one scheduler tick's worth at that rate (at least 64 KiB so a
 * few full-size segments pass at once), and a queue of 50 ms before packets drop.
 */
function tbfArgs(dev: string, bandwidthMbit: number): string[] {
  const burstBytes = Math.max(65_536, Math.ceil((bandwidthMbit * 1e6) / 8 / 250));
  return ['qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', `${bandwidthMbit}mbit`, 'burst', String(burstBytes), 'latency', '50ms'];
}

export async function createNodeLinks(ip: string, tc: string, nodes: readonly string[], bandwidthMbit: number): Promise<Map<string, NodeLink>> {
  const links = new Map<string, NodeLink>();
  for (const [index, node] of nodes.entries()) {
    const netns = `${OBJECT_PREFIX}node-${node}`;
    const veth = `${NODE_LINK_PREFIX}${index}`;
    await exec(ip, ['netns', 'delete', netns], { allowFailure: true });
    await exec(ip, ['-batch', '-'], {
      input: [
        `netns add ${netns}`,
        `link add ${veth} type veth peer name link0 netns ${netns}`,
        `addr add ${linkAddress(index, 1)}/30 dev ${veth}`,
        `link set ${veth} up`,
        '',
      ].join('\n'),
    });
    await exec(ip, ['-n', netns, '-batch', '-'], {
      input: ['link set lo up', `addr add ${linkAddress(index, 2)}/30 dev link0`, 'link set link0 up', ''].join('\n'),
    });
    await exec(tc, tbfArgs(veth, bandwidthMbit));
    await exec(ip, ['netns', 'exec', netns, tc, ...tbfArgs('link0', bandwidthMbit)]);
    links.set(node, { node, netns, hostAddress: linkAddress(index, 1), nodeAddress: linkAddress(index, 2), bandwidthMbit });
  }
  return links;
}

export async function removeNodeLinks(ip: string, links: Iterable<NodeLink>): Promise<void> {
  for (const link of links) await exec(ip, ['netns', 'delete', link.netns], { allowFailure: true });
}

/** A command line that runs `file args` in the node's namespace. */
export function inNode(link: NodeLink, file: string, args: readonly string[]): [string, string[]] {
  return ['ip', ['netns', 'exec', link.netns, file, ...args]];
}

/**
 * Copies a directory to the target node over its link, as a stop-and-copy migration moves its images
 * over the network to the target's storage (NFS in the original setup): the host serves a tar stream
 * on its end of the link, a receiver in the node's namespace connects and unpacks it.
 */
export async function copyOverLink(link: NodeLink, fromDir: string, toDir: string, timeoutMs = 600_000): Promise<void> {
  const server = createServer((socket) => {
    const tar = spawn('tar', ['-c', '-C', fromDir, '.'], { stdio: ['ignore', 'pipe', 'ignore'] });
    tar.stdout.pipe(socket);
    socket.on('error', () => tar.kill('SIGKILL'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, link.hostAddress, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  try {
    // bash's /dev/tcp: no netcat needed in the namespace, only what the host already has.
    const receive = `mkdir -p "$1" && exec 3<>/dev/tcp/${link.hostAddress}/${port} && tar -x -C "$1" <&3`;
    const [file, args] = inNode(link, 'bash', ['-c', receive, 'migbench-receive', toDir]);
    await exec(file, args, { timeoutMs });
  } finally {
    server.close();
  }
}
