// A live video stream (workloads/video/server.py): frames at the configured rate and bitrate, each
// with its sequence number and production time, over HTTP. Stateless on disk — a fresh pod starts a
// new stream (new epoch, from frame 0); a restored pod continues the old one. The code comes from the
// host directory, read-only; the host's /usr/bin/python3 runs it (standard library only).
import { join } from 'node:path';
import type { Endpoint } from '../model/endpoint.ts';
import type { PodSpec } from '../model/pod-spec.ts';
import type { Probe, ProbeOptions } from '../probes/probe.ts';
import { VideoProbe } from '../probes/video-probe.ts';
import type { VideoWorkloadConfig } from '../scenario/schema.ts';
import { waitForHttp } from './http-ready.ts';
import type { Workload } from './workload.ts';

const VIDEO_PORT = 8080;
/** workloads/video in the repository: server.py, mounted at /app in the pod. */
const VIDEO_CODE_DIR = join(import.meta.dirname, '..', '..', 'workloads', 'video');

/** server.py's command-line arguments for a config (without the interpreter and script). */
function videoArgs(config: VideoWorkloadConfig, port: number): string[] {
  return ['--fps', String(config.fps), '--bitrate-kbps', String(config.bitrateKbps), '--gop-frames', String(config.gopFrames), '--port', String(port)];
}

export class VideoWorkload implements Workload {
  readonly type = 'video';
  readonly port = VIDEO_PORT;
  readonly name: string;
  private readonly config: VideoWorkloadConfig;

  constructor(config: VideoWorkloadConfig) {
    this.config = config;
    this.name = config.name ?? config.type;
  }

  volumes(): string[] {
    return [];
  }

  podSpec(): PodSpec {
    return {
      app: this.name,
      command: ['/usr/bin/python3', '/app/server.py'],
      args: videoArgs(this.config, VIDEO_PORT),
      env: { PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
      port: VIDEO_PORT,
      volumes: [],
      code: { hostPath: VIDEO_CODE_DIR, mountPath: '/app' },
    };
  }

  /** Ready once /healthz answers 200: the server listens and has produced its first frame. */
  async waitReady(endpoint: Endpoint, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    await waitForHttp('video', endpoint, '/healthz', timeoutMs, signal);
  }

  /** Nothing to load: a live stream has no data set. */
  async prepare(): Promise<void> {}

  probes(service: Endpoint, options: ProbeOptions): Probe[] {
    return [new VideoProbe(service, options, { fps: this.config.fps, playerBufferMs: this.config.playerBufferMs })];
  }
}
