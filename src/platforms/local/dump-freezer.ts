// Who freezes a pod before CRIU dumps it (a criu strategy's `freezer`): CRIU itself (`criu`, the
// default: nothing to do here), the harness before runc starts (`harness`), or the harness from
// CRIU's pre-dump action script (`action-script`). Why and how: freezer.ts.
import { dirname } from 'node:path';
import { rm, writeFile } from 'node:fs/promises';
import type { EventRecorder } from '../../model/timeline.ts';
import { containerFreezer, freezeCgroup, freezeScript, readScriptReport, thawCgroup, type CgroupFreezer } from './freezer.ts';
import type { Checkpoint, CheckpointRequest } from './node-runtime.ts';
import type { LocalPod } from './pods.ts';

export class DumpFreezer {
  private readonly pod: LocalPod;
  private readonly freezer: CgroupFreezer | undefined;
  private readonly harness: boolean;
  private readonly script: { path: string; report: string } | undefined;

  private constructor(pod: LocalPod, request: CheckpointRequest) {
    this.pod = pod;
    this.harness = request.freezer === 'harness';
    this.freezer = request.freezer === 'harness' || request.freezer === 'action-script' ? containerFreezer(pod.containerId) : undefined;
    this.script =
      request.freezer === 'action-script' ? { path: `${dirname(pod.criuConfig)}/freeze.sh`, report: `${dirname(pod.criuConfig)}/freeze.report` } : undefined;
  }

  /** The freezer the request asks for, its action script (if any) written. */
  static async forDump(pod: LocalPod, request: CheckpointRequest): Promise<DumpFreezer> {
    const freezer = new DumpFreezer(pod, request);
    if (freezer.script) {
      await writeFile(freezer.script.path, freezeScript(freezer.freezer!, freezer.script.report), { mode: 0o755 });
      await rm(freezer.script.report, { force: true });
    }
    return freezer;
  }

  /** What the pod's criu.conf adds: the action script CRIU runs before it dumps. */
  get criuConfigLines(): string {
    return this.script ? `action-script ${this.script.path}\n` : '';
  }

  /** `harness`: freezes the pod's cgroup now, before runc starts CRIU. */
  async freezeBeforeDump(events: EventRecorder): Promise<void> {
    if (!this.harness) return;
    // Frozen here, CRIU finds the cgroup FROZEN and skips its 100 ms polling (see freezer.ts).
    events.emit('platform:local', 'freeze_start', this.pod.name);
    const { polls } = await freezeCgroup(this.freezer!);
    events.emit('platform:local', 'freeze_done', `${this.pod.name} (${polls} polls)`);
  }

  /** `action-script`: the checkpoint with the script's own freeze time; fails when CRIU never ran the script. */
  withFreezeTime(checkpoint: Checkpoint): Checkpoint {
    if (!this.script) return checkpoint;
    const scripted = readScriptReport(this.script.report);
    if (!scripted) throw new Error(`CRIU did not run the freeze action script ${this.script.path} (no ${this.script.report})`);
    return { ...checkpoint, stats: { ...checkpoint.stats, harnessFreezeUs: scripted.freezeUs } };
  }

  /**
   * After a failed dump: a cgroup the harness froze is thawed first, so that what follows sees only
   * what CRIU itself left.
   */
  thawAfterFailure(): void {
    if (!this.freezer) return;
    try {
      thawCgroup(this.freezer);
    } catch {
      // afterFailedDump resumes a source still paused and says so if it cannot.
    }
  }
}
