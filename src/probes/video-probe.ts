// Video probe: a viewer of the live stream plus an availability probe of the server.
//
// - The stream client holds GET /stream open through the service and records every frame's arrival
//   (workloads/video/server.py documents the wire format). It reconnects the way a player does:
//   when the connection ends, fails, or delivers nothing for its stall timeout, it opens a new one
//   at once (then every retry delay while attempts fail), asking to resume after the last frame it
//   got (`?epoch=E&from=N`, as an HLS player asks for the next segment). The stall timeout is
//   max(probe.reconnectAfterMs, 5 frame intervals), so the gaps of an undisturbed stream never trip it.
// - The health poller GETs /healthz open loop every probe.intervalMs; its samples are the video
//   rows of samples.csv.
// start() resolves once the simulated player holds its playback buffer, so the settle period (and
// the trigger) find it playing. The stream metrics are computed from the arrivals afterwards
// (src/metrics/video.ts).
import { Agent, request } from 'undici';
import { sleep } from '../clock.ts';
import { playbackStart } from '../metrics/video.ts';
import type { FrameArrival, StreamBreak, VideoRecords } from '../model/records.ts';
import type { Endpoint } from '../model/endpoint.ts';
import type { PhaseEvent, Sample } from '../model/timeline.ts';
import { HttpPoller } from './http-poller.ts';
import type { Probe, ProbeOptions } from './probe.ts';

const FRAME_MAGIC = 0x4d425646; // "MBVF"
const FRAME_HEADER_BYTES = 36;

export interface VideoProbeSettings {
  fps: number;
  playerBufferMs: number;
}

/** One frame header as read from the wire. */
export interface FrameHeader {
  epoch: number;
  seq: number;
  tsUs: number;
  key: boolean;
  length: number;
}

/**
 * Splits a byte stream into frames. Feed it chunks as they arrive; it hands back each complete
 * frame's header. Throws on bytes that are not a frame header (the stream is then unusable).
 */
export class FrameParser {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): FrameHeader[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: FrameHeader[] = [];
    let offset = 0;
    while (this.pending.length - offset >= FRAME_HEADER_BYTES) {
      const magic = this.pending.readUInt32BE(offset);
      if (magic !== FRAME_MAGIC) throw new Error(`not a video frame at byte ${offset} (magic 0x${magic.toString(16)})`);
      const length = this.pending.readUInt32BE(offset + 32);
      if (this.pending.length - offset < FRAME_HEADER_BYTES + length) break;
      frames.push({
        // µs since 1970 fit a double exactly (< 2^53) for the next 200 years.
        epoch: Number(this.pending.readBigUInt64BE(offset + 4)),
        seq: Number(this.pending.readBigUInt64BE(offset + 12)),
        tsUs: Number(this.pending.readBigUInt64BE(offset + 20)),
        key: (this.pending.readUInt32BE(offset + 28) & 1) === 1,
        length,
      });
      offset += FRAME_HEADER_BYTES + length;
    }
    this.pending = offset === 0 ? this.pending : this.pending.subarray(offset);
    return frames;
  }
}

export class VideoProbe implements Probe {
  readonly name = 'video';
  private readonly base: string;
  private readonly settings: VideoProbeSettings;
  private readonly poller: HttpPoller;
  private readonly agent: Agent;
  private readonly stallTimeoutMs: number;
  private readonly retryDelayMs: number;
  private readonly startTimeoutMs: number;
  private readonly arrivals: FrameArrival[] = [];
  private readonly breaks: StreamBreak[] = [];
  private running = false;
  private current: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private stoppedAt: number | undefined;

  constructor(target: Endpoint, options: ProbeOptions, settings: VideoProbeSettings) {
    this.base = `http://${target.host}:${target.port}`;
    this.settings = settings;
    this.poller = new HttpPoller(this.name, `${this.base}/healthz`, options, (status) =>
      status === 200 ? { ok: true, error: '' } : { ok: false, error: 'server_error', detail: `HTTP ${status}` },
    );
    this.stallTimeoutMs = Math.max(options.reconnectAfterMs, (5 * 1000) / settings.fps);
    this.retryDelayMs = Math.max(10, options.intervalMs);
    this.startTimeoutMs = Math.max(10_000, 3 * settings.playerBufferMs);
    this.agent = new Agent({ connect: { timeout: options.connectTimeoutMs }, keepAliveTimeout: 1, pipelining: 0 });
  }

  async start(): Promise<void> {
    this.running = true;
    this.poller.start();
    this.loop = this.watch();
    const deadline = performance.now() + this.startTimeoutMs;
    while (playbackStart(this.arrivals, this.settings.fps, this.settings.playerBufferMs) === undefined) {
      if (performance.now() > deadline) {
        throw new Error(
          `video: the player did not fill its ${this.settings.playerBufferMs} ms buffer within ${this.startTimeoutMs} ms ` +
            `(${this.arrivals.length} frames, ${this.breaks.length} broken connections)`,
        );
      }
      await sleep(20);
    }
  }

  private async watch(): Promise<void> {
    let connection = 0;
    while (this.running) {
      const { delivered, reason } = await this.watchOnce(connection);
      if (!this.running) break;
      this.breaks.push({ at: performance.now(), connection, deliveredFrames: delivered, reason });
      connection++;
      if (!delivered) await sleep(this.retryDelayMs);
    }
  }

  /** One connection, until it ends; whether it delivered frames, and how it ended. */
  private async watchOnce(connection: number): Promise<{ delivered: boolean; reason: string }> {
    const last = this.arrivals[this.arrivals.length - 1];
    const query = last ? `?epoch=${last.epoch}&from=${last.seq + 1}` : '';
    const controller = new AbortController();
    this.current = controller;
    // The stall timer: any silence (connecting, waiting for headers, between chunks) longer than the
    // stall timeout ends the connection. Our own timer, not undici's header/body timeouts: those run
    // on a coarse clock (measured: a 200 ms body timeout fired after ~600 ms of silence).
    const stall = setTimeout(() => controller.abort(new Error('stall')), this.stallTimeoutMs);
    const parser = new FrameParser();
    let delivered = false;
    try {
      const response = await request(`${this.base}/stream${query}`, { dispatcher: this.agent, signal: controller.signal });
      stall.refresh();
      if (response.statusCode !== 200) {
        await response.body.dump().catch(() => undefined);
        return { delivered: false, reason: `HTTP ${response.statusCode}` };
      }
      for await (const chunk of response.body) {
        const at = performance.now();
        stall.refresh();
        for (const h of parser.push(chunk as Buffer)) {
          delivered = true;
          this.arrivals.push({ at, connection, epoch: h.epoch, seq: h.seq, serverTsUs: h.tsUs });
        }
      }
      return { delivered, reason: 'eof' };
    } catch (err) {
      // Reset, refused, stall, garbage: all the same to a player — the stream broke; reconnect.
      const reason = controller.signal.aborted ? 'stall' : ((err as { code?: string }).code ?? (err instanceof Error ? err.message : String(err)));
      return { delivered, reason };
    } finally {
      clearTimeout(stall);
      this.current = undefined;
    }
  }

  answering(): boolean {
    return this.poller.answering();
  }

  async stop(): Promise<Sample[]> {
    this.running = false;
    this.stoppedAt = performance.now();
    this.current?.abort();
    await this.loop?.catch(() => undefined);
    await this.agent.close().catch(() => undefined);
    return this.poller.stop();
  }

  records(): VideoRecords {
    return {
      probe: 'video',
      fps: this.settings.fps,
      playerBufferMs: this.settings.playerBufferMs,
      frames: this.arrivals,
      breaks: this.breaks,
      ...(this.stoppedAt !== undefined ? { stoppedAt: this.stoppedAt } : {}),
    };
  }

  events(): readonly PhaseEvent[] {
    return this.breaks.map((b) => ({
      at: b.at,
      source: `probe:${this.name}`,
      event: 'stream_break',
      detail: `connection ${b.connection} (${b.deliveredFrames ? 'had delivered frames' : 'no frames'}): ${b.reason ?? ''}`,
    }));
  }
}
