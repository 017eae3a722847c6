// A criu strategy's `ip: preserve`: the restored pod keeps the source pod's address (and MAC), and
// CRIU dumps established TCP connections. The source goes off the bridge before its dump (no reply
// may reach it after CRIU has read its sockets), its network is removed before the restore takes the
// address, and the restored pod joins the bridge only once its sockets are back, announcing the
// address's new place. With `ip: new` each step does nothing.
import type { EventRecorder } from '../../model/timeline.ts';
import type { HostNetwork } from './host-network.ts';
import type { CheckpointRequest } from './node-runtime.ts';
import type { LocalPod } from './pods.ts';

export class IpHandover {
  private readonly network: HostNetwork;
  private readonly preserveIp: boolean;

  constructor(network: HostNetwork, request: CheckpointRequest) {
    this.network = network;
    this.preserveIp = request.preserveIp;
  }

  /** Before the dump: the source leaves the bridge. */
  async detachSource(source: LocalPod, events: EventRecorder): Promise<void> {
    if (!this.preserveIp) return;
    await this.network.setPodLink(source.network, false);
    events.emit('platform:local', 'pod_detached', source.name);
  }

  /** The dump failed and left the source running: put it back on the bridge. */
  async reattachSource(source: LocalPod): Promise<void> {
    if (this.preserveIp) await this.network.setPodLink(source.network, true).catch(() => undefined);
  }

  /**
   * Before the restore: the source's address moves with it, so its network goes first (its processes
   * are dumped or, for lazy, frozen and reachable only through CRIU's page server on the host).
   * Returns the address's octet for the target pod, or undefined for a new address.
   */
  async takeSourceAddress(source: LocalPod): Promise<number | undefined> {
    if (!this.preserveIp) return undefined;
    await this.network.removePodNetwork(source.network);
    source.addressHandedOver = true;
    return source.octet;
  }

  /** A failed restore: the target's network goes, the preserved address stays taken (it is still the source's). */
  async releaseFailedTarget(target: LocalPod): Promise<void> {
    if (!this.preserveIp) return;
    await this.network.removePodNetwork(target.network).catch(() => undefined);
    target.addressHandedOver = true;
  }

  /** After the restore: the pod joins the bridge with its sockets back, and says where the address is now. */
  async attachRestored(target: LocalPod, events: EventRecorder): Promise<void> {
    if (!this.preserveIp) return;
    await this.network.setPodLink(target.network, true);
    await this.network.announcePod(target.network, target.octet);
    events.emit('platform:local', 'pod_attached', target.name);
  }
}
