// The video metrics on hand-made frame timelines whose answers are known. 25 fps: one frame every
// 40 ms of content; server timestamps in µs; arrival times in ms.
import { describe, expect, it } from 'vitest';
import { computeVideoMetrics, playbackStart } from '../../src/metrics/video.ts';
import type { FrameArrival, StreamBreak } from '../../src/model/records.ts';
import { FrameParser } from '../../src/probes/video-probe.ts';

const FPS = 25;
const EPOCH_A = 1_700_000_000_000_000;
const EPOCH_B = 1_700_000_009_000_000;

/**
 * Frames `fromSeq`..`toSeq` of an epoch, produced every 40 ms from `producedAtMs` (server clock, ms
 * since the epoch began) and arriving `latency` ms after production, on `connection`.
 */
function frames(epoch: number, fromSeq: number, toSeq: number, firstArrival: number, connection = 0, producedAtMs = fromSeq * 40): FrameArrival[] {
  const out: FrameArrival[] = [];
  for (let seq = fromSeq; seq <= toSeq; seq++) {
    const i = seq - fromSeq;
    out.push({ at: firstArrival + i * 40, connection, epoch, seq, serverTsUs: epoch + (producedAtMs + i * 40) * 1000 });
  }
  return out;
}

const opts = { fps: FPS, playerBufferMs: 2000 };

describe('computeVideoMetrics', () => {
  it('an undisturbed stream: stall = one frame interval, nothing lost, no reconnect, no rebuffering', () => {
    const m = computeVideoMetrics(frames(EPOCH_A, 0, 199, 0), [], { ...opts, triggerAt: 4000, endAt: 7960 });
    expect(m.video_max_stall_ms).toBe(40);
    expect(m.video_frames_lost).toBe(0);
    expect(m.video_reconnect_ms).toBe(0);
    expect(m.video_rebuffer_ms).toBe(0);
  });

  it('a CRIU-like freeze: the stream continues with the next sequence number; buffer covers it', () => {
    // Frames 0..99 arrive at 0..3960; frozen; the stall timer breaks connection 0 at 4160; connection 1
    // (after failed attempts 1..2) resumes at frame 100 at 4600.
    const fs = [...frames(EPOCH_A, 0, 99, 0), ...frames(EPOCH_A, 100, 199, 4600, 3)];
    const breaks: StreamBreak[] = [
      { at: 4160, connection: 0, deliveredFrames: true },
      { at: 4300, connection: 1, deliveredFrames: false },
      { at: 4450, connection: 2, deliveredFrames: false },
    ];
    const m = computeVideoMetrics(fs, breaks, { ...opts, triggerAt: 3980, endAt: 8560 });
    expect(m.video_max_stall_ms).toBe(640); // 3960 → 4600
    expect(m.video_frames_lost).toBe(0);
    expect(m.video_reconnect_ms).toBe(440); // noticed at 4160 → first frame on a new connection at 4600
    // Playback started at 1960 (50 frames = 2000 ms); content lasts until 5960, frames resume at 4600.
    expect(m.video_rebuffer_ms).toBe(0);
  });

  it('a stall longer than the buffer freezes the picture for the difference', () => {
    // Playback starts at 1960 with frames 0..49; frame k plays [1960 + 40k, 2000 + 40k). Frame 99, the
    // last before the stall, plays until 5960; the next frame arrives at 7000.
    const fs = [...frames(EPOCH_A, 0, 99, 0), ...frames(EPOCH_A, 100, 149, 7000)];
    const m = computeVideoMetrics(fs, [], { ...opts, triggerAt: 3970, endAt: 8960 });
    expect(m.video_max_stall_ms).toBe(3040);
    expect(m.video_rebuffer_ms).toBe(1040);
    expect(m.video_reconnect_ms).toBe(0);
  });

  it('a new server process: frames lost are counted from the production times across epochs', () => {
    // Epoch A's last frame (seq 99) produced at 3960 ms; epoch B starts 1 s later, its frame 0 is
    // produced at what would have been frame 125 of A: 24 frames of content never existed for the viewer.
    const a = frames(EPOCH_A, 0, 99, 0);
    const bProduced = (EPOCH_A - EPOCH_B) / 1000 + 3960 + 25 * 40; // epoch B's clock for A's 3960 + 1000
    const b = frames(EPOCH_B, 0, 60, 5200, 1, bProduced);
    const m = computeVideoMetrics([...a, ...b], [{ at: 4000, connection: 0, deliveredFrames: true }], { ...opts, triggerAt: 3970, endAt: 7600 });
    expect(m.video_frames_lost).toBe(24);
    expect(m.video_reconnect_ms).toBe(1200);
    expect(m.video_max_stall_ms).toBe(1240);
  });

  it('sequence gaps within an epoch are lost frames; duplicates are not', () => {
    const fs = [...frames(EPOCH_A, 0, 99, 0), ...frames(EPOCH_A, 95, 99, 4000), ...frames(EPOCH_A, 110, 150, 4200)];
    const m = computeVideoMetrics(fs, [], { ...opts, triggerAt: 3000 });
    expect(m.video_frames_lost).toBe(10); // 100..109
  });

  it('losses and stalls before the trigger do not count', () => {
    const fs = [...frames(EPOCH_A, 0, 20, 0), ...frames(EPOCH_A, 30, 99, 2000), ...frames(EPOCH_A, 100, 150, 4800)];
    const m = computeVideoMetrics(fs, [], { ...opts, triggerAt: 3000 });
    expect(m.video_frames_lost).toBe(0);
    expect(m.video_max_stall_ms).toBe(4800 - (2000 + 69 * 40));
  });

  it('a stream that never comes back: stall, reconnect and rebuffering run to the end of probing', () => {
    const fs = frames(EPOCH_A, 0, 99, 0);
    const m = computeVideoMetrics(fs, [{ at: 4200, connection: 0, deliveredFrames: true }], { ...opts, triggerAt: 3970, endAt: 9000 });
    expect(m.video_max_stall_ms).toBe(9000 - 3960);
    expect(m.video_reconnect_ms).toBe(9000 - 4200);
    expect(m.video_rebuffer_ms).toBe(9000 - 5960);
  });

  it('no frames: no metrics', () => {
    expect(computeVideoMetrics([], [], { ...opts, triggerAt: 0 })).toEqual({});
  });
});

describe('playbackStart', () => {
  it('starts once the buffer holds playerBufferMs of content, counting a burst at once', () => {
    // A 25-frame burst (the GOP cache) at 100, then real time: 1000 ms at 100, 2000 ms after 25 more frames.
    const burst = frames(EPOCH_A, 0, 24, 100).map((f) => ({ ...f, at: 100 }));
    const live = frames(EPOCH_A, 25, 80, 140);
    expect(playbackStart([...burst, ...live], FPS, 2000)).toBe(140 + 24 * 40);
    expect(playbackStart([...burst, ...live], FPS, 1000)).toBe(100);
    expect(playbackStart(burst, FPS, 2000)).toBeUndefined();
  });
});

describe('FrameParser', () => {
  function frameBytes(seq: number, length: number, key = false): Buffer {
    const b = Buffer.alloc(36 + length, 0xab);
    b.write('MBVF', 0, 'latin1');
    b.writeBigUInt64BE(BigInt(EPOCH_A), 4);
    b.writeBigUInt64BE(BigInt(seq), 12);
    b.writeBigUInt64BE(BigInt(EPOCH_A + seq * 40_000), 20);
    b.writeUInt32BE(key ? 1 : 0, 28);
    b.writeUInt32BE(length, 32);
    return b;
  }

  it('reassembles frames split across chunks at any byte', () => {
    const stream = Buffer.concat([frameBytes(0, 7000, true), frameBytes(1, 900), frameBytes(2, 0)]);
    for (const cut of [1, 35, 36, 37, 7036, 7037, 7972, stream.length - 1]) {
      const p = new FrameParser();
      const got = [...p.push(stream.subarray(0, cut)), ...p.push(stream.subarray(cut))];
      expect(got.map((f) => [f.seq, f.length, f.key, f.epoch, f.tsUs])).toEqual([
        [0, 7000, true, EPOCH_A, EPOCH_A],
        [1, 900, false, EPOCH_A, EPOCH_A + 40_000],
        [2, 0, false, EPOCH_A, EPOCH_A + 80_000],
      ]);
    }
  });

  it('rejects bytes that are not a frame', () => {
    expect(() => new FrameParser().push(Buffer.from('HTTP/1.0 500 oops\r\n\r\n and more bytes to fill a header'))).toThrow(/not a video frame/);
  });
});
