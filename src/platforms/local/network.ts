// The pod network: a host bridge, and per pod a network namespace joined to it by a veth pair.
// The host owns the bridge's address (.1), so the host reaches every pod directly, as a node
// reaches pods on its own pod network.
import { existsSync } from 'node:fs';
import { exec, run } from '../../system/exec.ts';
import { BRIDGE, VETH_PREFIX, netnsName } from './names.ts';

export interface PodNetwork {
  netns: string;
  /** Path runc is given for the pod's network namespace. */
  netnsPath: string;
  veth: string;
  ip: string;
}

export class Subnet {
  readonly prefix: string;
  constructor(cidr: string) {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/.exec(cidr);
    if (!m || [m[1], m[2], m[3]].some((o) => Number(o) > 255)) throw new Error(`subnet must be an IPv4 /24 (a.b.c.0/24), got ${cidr}`);
    this.prefix = `${m[1]}.${m[2]}.${m[3]}`;
  }
  get gateway(): string {
    return `${this.prefix}.1`;
  }
  address(octet: number): string {
    return `${this.prefix}.${octet}`;
  }
}

/**
 * Hands out pod addresses .10–.254 round-robin. Never hands back the address just released:
 * the host's neighbour (ARP) cache and conntrack still remember the old pod for a while, and a new
 * pod on the same address would inherit a stale entry and measure it.
 */
export class AddressPool {
  static readonly FIRST = 10;
  static readonly LAST = 254;
  private next = AddressPool.FIRST;
  private readonly inUse = new Set<number>();

  allocate(): number {
    for (let i = 0; i <= AddressPool.LAST - AddressPool.FIRST; i++) {
      const octet = this.next;
      this.next = octet >= AddressPool.LAST ? AddressPool.FIRST : octet + 1;
      if (!this.inUse.has(octet)) {
        this.inUse.add(octet);
        return octet;
      }
    }
    throw new Error(`pod network full: ${AddressPool.LAST - AddressPool.FIRST + 1} pods at once`);
  }

  release(octet: number): void {
    this.inUse.delete(octet);
  }
}

/**
 * The bridge's own MAC, fixed (locally administered, "mb"). A Linux bridge without an explicit
 * address takes the lowest MAC of its ports, so removing a pod's veth can change it; pods that had
 * resolved the gateway then send to a MAC nobody owns until their ARP entry is re-validated.
 * Seen before this, and not since: Redis drain trials whose replacement was reachable 1–1.7 s after
 * it had logged "Ready" — a drain removes the evicted pod's veth while the replacement starts.
 */
export const BRIDGE_MAC = '02:6d:62:00:00:01';

export async function ensureBridge(ip: string, subnet: Subnet): Promise<void> {
  if (!existsSync(`/sys/class/net/${BRIDGE}`)) {
    await exec('ip', ['link', 'add', BRIDGE, 'address', BRIDGE_MAC, 'type', 'bridge'], { allowFailure: true });
  }
  await run(ip, ['link', 'set', BRIDGE, 'address', BRIDGE_MAC]);
  const addrs = await run(ip, ['-4', '-o', 'addr', 'show', 'dev', BRIDGE]);
  if (!addrs.includes(` ${subnet.gateway}/24 `)) {
    await run(ip, ['addr', 'add', `${subnet.gateway}/24`, 'dev', BRIDGE]);
  }
  await run(ip, ['link', 'set', BRIDGE, 'up']);
}

export async function removeBridge(ip: string): Promise<void> {
  if (existsSync(`/sys/class/net/${BRIDGE}`)) await exec(ip, ['link', 'del', BRIDGE], { allowFailure: true });
}

/**
 * A pod's MAC follows its address, so a pod restored with its source's IP (`ip: preserve`) also has
 * its MAC: the host's neighbour entry stays right and open connections see no ARP gap.
 */
function podMac(octet: number): string {
  return `02:6d:62:01:00:${octet.toString(16).padStart(2, '0')}`;
}

/** Creates the pod's namespace and wires it to the bridge. One `ip -batch` per side keeps it to two forks. */
export async function createPodNetwork(ip: string, pod: string, octet: number, subnet: Subnet, options: { attached?: boolean } = {}): Promise<PodNetwork> {
  const netns = netnsName(pod);
  const veth = `${VETH_PREFIX}${octet}`;
  const address = subnet.address(octet);
  // A leftover veth of a pod that had this address in an earlier, crashed run would block the add.
  if (existsSync(`/sys/class/net/${veth}`)) await exec(ip, ['link', 'del', veth], { allowFailure: true });
  await run(ip, ['-batch', '-'], {
    input: [
      `netns add ${netns}`,
      `link add ${veth} type veth peer name eth0 netns ${netns}`,
      options.attached === false ? `link set ${veth} up` : `link set ${veth} master ${BRIDGE} up`,
      '',
    ].join('\n'),
  });
  await run(ip, ['-n', netns, '-batch', '-'], {
    input: [
      'link set lo up',
      `link set eth0 address ${podMac(octet)}`,
      `addr add ${address}/24 dev eth0`,
      'link set eth0 up',
      `route add default via ${subnet.gateway}`,
      '',
    ].join('\n'),
  });
  return { netns, netnsPath: `/var/run/netns/${netns}`, veth, ip: address };
}

/**
 * Takes a pod off the bridge (or puts it back). With `ip: preserve` a client's TCP connection must
 * meet no pod at all while it moves: the source's kernel, once CRIU has dumped and closed the
 * sockets, and the target's, before CRIU has restored them, would both answer its retransmissions
 * with a reset. CRIU's own network lock cannot help here: for a network namespace it did not create
 * it adds its rules in the host's namespace, which the pod's packets never traverse.
 * Detaching from the bridge, not setting the link down: a carrier change is applied by the kernel's
 * link watcher, which runs at most once a second, so a link brought up again shortly after another
 * went down passed no packet for up to a second (measured: ready ~1 s after the restore).
 */
export async function setPodLink(ip: string, network: Pick<PodNetwork, 'veth'>, attached: boolean): Promise<void> {
  await run(ip, attached ? ['link', 'set', network.veth, 'master', BRIDGE] : ['link', 'set', network.veth, 'nomaster']);
}

/**
 * Tells the host where a pod's address now is, as the gratuitous ARP of a moved endpoint does. While
 * the moving pod had no link, the host's ARP requests for it went unanswered and its neighbour
 * entry failed; the next request would only go out after ARP's 1 s retransmit timer, and every
 * packet to the pod (retransmissions of the kept connections included) would wait for it.
 */
export async function announcePod(ip: string, network: Pick<PodNetwork, 'ip'>, octet: number): Promise<void> {
  await run(ip, ['neigh', 'replace', network.ip, 'lladdr', podMac(octet), 'dev', BRIDGE, 'nud', 'reachable']);
}

/** Deleting the namespace deletes the veth pair with it; the explicit link delete covers a half-made pod. */
export async function removePodNetwork(ip: string, network: Pick<PodNetwork, 'netns' | 'veth'>): Promise<void> {
  await exec(ip, ['netns', 'delete', network.netns], { allowFailure: true });
  if (existsSync(`/sys/class/net/${network.veth}`)) await exec(ip, ['link', 'del', network.veth], { allowFailure: true });
}
