// What a live-stream viewer lost to a move, from the frames the video probe received (pure).
//
// The frame arrivals and stream breaks are the video probe's raw records (model/records.ts).
import type { MonotonicMs } from '../model/timeline.ts';
import type { FrameArrival, StreamBreak } from '../model/records.ts';

export interface VideoMetricOptions {
  fps: number;
  /** Content the simulated player holds before it starts playing (and may play out during a stall). */
  playerBufferMs: number;
  /** The trigger (monotonic ms); without it the whole timeline counts as "after". */
  triggerAt?: MonotonicMs;
  /** End of the observation (when the probe stopped); bounds a stall that never ended. Default: the last arrival. */
  endAt?: MonotonicMs;
}

export interface VideoMetrics {
  video_max_stall_ms?: number;
  video_frames_lost?: number;
  video_reconnect_ms?: number;
  video_rebuffer_ms?: number;
}

/**
 * Frames of content from the start of `first`'s epoch position to `next`: within one epoch the
 * sequence numbers say it exactly; across epochs (a new server process) the production times do —
 * a live source produces one frame per 1/fps whether anybody gets it or not.
 */
function framesBetween(prev: FrameArrival, next: FrameArrival, fps: number): number {
  if (next.epoch === prev.epoch) return next.seq - prev.seq;
  return Math.max(1, Math.round(((next.serverTsUs - prev.serverTsUs) * fps) / 1e6));
}

/**
 * Content order: a frame is new content if it is later than the newest one so far (same epoch,
 * higher seq; or a newer epoch). Duplicates and frames of an older epoch are ignored by the loss
 * and playback models (they still count as arrivals for the stall).
 */
function isNewer(prev: FrameArrival | undefined, next: FrameArrival): boolean {
  if (!prev) return true;
  return next.epoch === prev.epoch ? next.seq > prev.seq : next.epoch > prev.epoch;
}

/**
 * The first arrival time at which the player held `bufferMs` of content (it starts playing then),
 * or undefined if it never did. `frames` in arrival order.
 */
export function playbackStart(frames: readonly FrameArrival[], fps: number, bufferMs: number): MonotonicMs | undefined {
  const frameMs = 1000 / fps;
  let newest: FrameArrival | undefined;
  let content = 0;
  for (const f of frames) {
    if (!isNewer(newest, f)) continue;
    newest = f;
    content += frameMs;
    if (content >= bufferMs - 1e-9) return f.at;
  }
  return undefined;
}

/**
 * video_max_stall_ms: the longest gap between consecutive frame arrivals that ends after the
 * trigger (one that began before it included); a gap still open when probing ended counts up to
 * `endAt`. Undefined with no frame.
 *
 * video_frames_lost: for each new-content frame arriving after the trigger, the frames of content
 * between it and the previous new-content frame that never arrived (see framesBetween). Counted
 * after the trigger only, like the stall. Undefined with no frame.
 *
 * video_reconnect_ms: an episode begins when a connection that had delivered frames breaks and
 * ends at the first frame on a later connection (failed attempts in between belong to it); the
 * longest episode beginning after the trigger, 0 if the stream never broke, and up to `endAt` if it
 * never came back. It excludes the time before the client noticed the break (that is in the stall).
 *
 * video_rebuffer_ms: a player that starts once it holds `playerBufferMs` of content and then
 * plays 1/fps per frame in real time; lost content is skipped. When the buffer runs dry it freezes
 * until the next new frame arrives and plays on from there (it does not wait to refill: a lower
 * bound of what real players, which do, show). The frozen time after the trigger, including a
 * freeze still open at `endAt`. Undefined if playback never started before `endAt`.
 */
export function computeVideoMetrics(arrivals: readonly FrameArrival[], breaks: readonly StreamBreak[], options: VideoMetricOptions): VideoMetrics {
  const frames = [...arrivals].sort((a, b) => a.at - b.at);
  const result: VideoMetrics = {};
  if (frames.length === 0) return result;
  const triggerAt = options.triggerAt ?? Number.NEGATIVE_INFINITY;
  const endAt = Math.max(options.endAt ?? frames[frames.length - 1]!.at, frames[frames.length - 1]!.at);
  const frameMs = 1000 / options.fps;

  // --- stall
  let stall = 0;
  for (let i = 1; i < frames.length; i++) {
    if (frames[i]!.at > triggerAt) stall = Math.max(stall, frames[i]!.at - frames[i - 1]!.at);
  }
  if (endAt > triggerAt) stall = Math.max(stall, endAt - frames[frames.length - 1]!.at);
  result.video_max_stall_ms = stall;

  // --- frames lost
  let lost = 0;
  let newest: FrameArrival | undefined;
  for (const f of frames) {
    if (!isNewer(newest, f)) continue;
    if (newest && f.at > triggerAt) lost += framesBetween(newest, f, options.fps) - 1;
    newest = f;
  }
  result.video_frames_lost = lost;

  // --- reconnect
  let reconnect = 0;
  const sortedBreaks = [...breaks].sort((a, b) => a.at - b.at);
  let episodeStart: MonotonicMs | undefined;
  let episodeConnection = -1;
  const closeEpisode = (until: MonotonicMs) => {
    if (episodeStart !== undefined && episodeStart > triggerAt) reconnect = Math.max(reconnect, until - episodeStart);
    episodeStart = undefined;
  };
  let fi = 0;
  for (const b of sortedBreaks) {
    // Frames that arrived before this break may end an open episode.
    for (; fi < frames.length && frames[fi]!.at <= b.at; fi++) {
      if (episodeStart !== undefined && frames[fi]!.connection > episodeConnection) closeEpisode(frames[fi]!.at);
    }
    if (episodeStart === undefined && b.deliveredFrames) {
      episodeStart = b.at;
      episodeConnection = b.connection;
    }
  }
  for (; fi < frames.length && episodeStart !== undefined; fi++) {
    if (frames[fi]!.connection > episodeConnection) closeEpisode(frames[fi]!.at);
  }
  if (episodeStart !== undefined) closeEpisode(endAt);
  result.video_reconnect_ms = reconnect;

  // --- rebuffering
  const start = playbackStart(frames, options.fps, options.playerBufferMs);
  if (start !== undefined) {
    let rebuffer = 0;
    const frozen = (from: number, to: number) => {
      const a = Math.max(from, triggerAt);
      if (to > a) rebuffer += to - a;
    };
    // Content runs out at `dryAt` unless more arrives; before the start it only accumulates.
    let dryAt = start;
    let latest: FrameArrival | undefined;
    for (const f of frames) {
      if (!isNewer(latest, f)) continue;
      latest = f;
      if (f.at <= start) {
        dryAt += frameMs;
        continue;
      }
      if (f.at > dryAt) {
        frozen(dryAt, f.at);
        dryAt = f.at;
      }
      dryAt += frameMs;
    }
    if (endAt > dryAt) frozen(dryAt, endAt);
    result.video_rebuffer_ms = rebuffer;
  }
  return result;
}
