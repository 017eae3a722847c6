// When a restore's target pod is made (a criu strategy's `targetPod`): after the dump (default), or
// before it, while the source still serves (`before-dump`), so that the outage holds no namespace,
// veth or bundle work. A target made early and never restored into (the dump or the strategy
// failed) is removed with the checkpoint.
import type { EventRecorder } from '../../model/timeline.ts';
import type { CheckpointRequest } from './node-runtime.ts';
import type { LocalPod, LocalPods } from './pods.ts';

export class TargetPods {
  private readonly pods: LocalPods;
  /** Target pods made before their source's dump, by source pod name. */
  private readonly early = new Map<string, LocalPod>();

  constructor(pods: LocalPods) {
    this.pods = pods;
  }

  /** Before the dump: makes the target now if the request asks for it. */
  async beforeDump(source: LocalPod, request: CheckpointRequest, events: EventRecorder): Promise<void> {
    if (request.targetPod !== 'before-dump') return;
    if (request.preserveIp)
      throw new Error("targetPod: before-dump needs ip: new (with ip: preserve the target takes the source's address, free only after its dump)");
    const target = await this.pods.prepare(source.spec, request.targetNode, undefined, true);
    this.early.set(source.name, target);
    this.pods.emitCreated(target, events);
  }

  /** The restore's target: the one made before the dump, or a new one (`octet`: the preserved address). */
  async forRestore(source: LocalPod, request: CheckpointRequest, octet: number | undefined, events: EventRecorder): Promise<LocalPod> {
    const early = this.early.get(source.name);
    this.early.delete(source.name);
    if (early) return early;
    // With the IP preserved the pod stays off the bridge until its sockets are back (see setPodLink).
    const pod = await this.pods.prepare(source.spec, request.targetNode, octet, !request.preserveIp);
    this.pods.emitCreated(pod, events);
    return pod;
  }

  /** A target made before the dump whose restore never came (the dump or the strategy failed). */
  async removeEarly(source: string): Promise<void> {
    const target = this.early.get(source);
    this.early.delete(source);
    if (target) await this.pods.remove(target);
  }
}
