// Who runs CRIU for a pod's dump or restore (`local.runtime`, or a strategy's `runtime`): runc's
// checkpoint/restore, or CRIU's own command line (criu-direct.ts). Either way CRIU's log of a step
// that failed is kept beside the pod logs and its own error line quoted, since runc only says
// "criu failed".
import { existsSync, readFileSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { criuErrorLine } from '../../criu/error-lines.ts';
import type { CriuDirect } from './criu-direct.ts';
import type { CheckpointRequest } from './node-runtime.ts';
import type { LocalPod } from './pods.ts';
import type { CheckpointOptions, LazyCheckpoint, Runc } from './runc.ts';

export type CriuRuntimeName = 'runc' | 'criu';

export interface CriuRuntimeParts {
  runc: Runc;
  direct: CriuDirect;
  /** Who drives CRIU when a request does not say (the scenario's local.runtime). */
  defaultRuntime: CriuRuntimeName;
  /** Where a failed step's CRIU log is kept. */
  logDir: string;
}

export class CriuRuntime {
  private readonly parts: CriuRuntimeParts;

  constructor(parts: CriuRuntimeParts) {
    this.parts = parts;
  }

  runtimeOf(request: CheckpointRequest): CriuRuntimeName {
    return request.runtime ?? this.parts.defaultRuntime;
  }

  /** A dump (or pre-dump) through runc, or by CRIU itself for `runtime: criu` (criu-direct.ts). */
  dump(runtime: CriuRuntimeName, p: LocalPod, images: string, work: string, options: CheckpointOptions): Promise<void> {
    if (runtime === 'runc') return this.parts.runc.checkpoint(p.containerId, p.files, images, work, options);
    const [address, port] = options.pageServer?.split(':') ?? [];
    const pageServer = address && port ? { address, port: Number(port) } : undefined;
    return this.parts.direct.dump(p, images, work, {
      tcpEstablished: options.tcpEstablished ?? false,
      parentPath: options.parentPath,
      preDump: options.preDump,
      pageServer,
    });
  }

  /** A post-copy dump that keeps serving pages (runc only). */
  lazyDump(p: LocalPod, images: string, work: string, options: { tcpEstablished: boolean; pageServer: string }): LazyCheckpoint {
    return this.parts.runc.lazyCheckpoint(p.containerId, p.files, images, work, options);
  }

  /** Restores `images` as `pod` on its node; returns the restored init's pid. */
  restore(
    runtime: CriuRuntimeName,
    pod: LocalPod,
    cpus: string,
    images: string,
    work: string,
    options: { tcpEstablished: boolean; lazyPages: boolean },
  ): Promise<number> {
    return runtime === 'criu'
      ? this.parts.direct.restore(pod, cpus, images, work, { tcpEstablished: options.tcpEstablished })
      : this.parts.runc.restore(pod.containerId, pod.files, images, work, options);
  }

  /** CRIU's log explains a failed dump or restore; keep it beside the pod logs before the store is emptied. */
  async keepLogOnFailure<T>(criuLog: string, keepAs: string, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      const kept = `${this.parts.logDir}/${keepAs}`;
      await copyFile(criuLog, kept).catch(() => undefined);
      // runc only says "criu failed"; CRIU's own last error line says why.
      const log = existsSync(criuLog) ? readFileSync(criuLog, 'utf8') : '';
      const said = criuErrorLine(log);
      const criuSaid = said ? ` — CRIU: ${said}` : log ? ' — CRIU logged no error: it was killed or died' : '';
      throw new Error(`${err instanceof Error ? err.message : String(err)}${criuSaid} (CRIU log kept as ${kept})`);
    }
  }
}
