#!/usr/bin/env python3
"""migbench video workload: a live video stream over HTTP.

One broadcaster thread produces frames at --fps on a monotonic schedule, in GOPs of --gop-frames:
a key frame followed by smaller delta frames (key = 8 x delta), sized so the stream averages
--bitrate-kbps. Payloads are pseudo-random bytes, incompressible like encoded video, generated
once; what matters to the client is each frame's size and timing, not its pixels. The last
--window-seconds of frames are kept in memory, as a live HLS/DASH origin keeps its sliding window.

Every frame on the wire is a 36-byte header followed by its payload:
  magic   4 bytes  b"MBVF"
  epoch   u64 BE   CLOCK_REALTIME microseconds at which this stream (process) started
  seq     u64 BE   frame number within the epoch, from 0, without gaps
  ts_us   u64 BE   CLOCK_REALTIME microseconds at which the frame was produced
  flags   u32 BE   bit 0: key frame
  length  u32 BE   payload bytes

HTTP (HTTP/1.0, one connection per stream):
  GET /stream                    the live stream from the latest key frame in the window (fast
                                 start, as players join live streams)
  GET /stream?epoch=E&from=N     resume: from frame N if this is epoch E and N is still in the
                                 window, else as /stream. A player reconnecting after a break asks
                                 for the frame after the last one it got, as HLS players ask for
                                 the next segment.
  GET /healthz                   200 {"epoch", "seq", "fps"} while broadcasting

A stalled source does not catch up: if the broadcaster falls more than two frame intervals behind
its schedule (the process was frozen, e.g. for a CRIU checkpoint), it re-anchors the schedule and
continues with the next sequence number, as a paused encoder would. A fresh process starts a new
epoch at seq 0; clients tell the two apart by the epoch.
"""
import argparse
import collections
import json
import os
import signal
import socketserver
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

MAGIC = b"MBVF"
HEADER = struct.Struct(">4sQQQII")
KEY_FRAME = 1
KEY_TO_DELTA = 8
EPOCH = time.clock_gettime_ns(time.CLOCK_REALTIME) // 1000


def env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fps", type=int, default=env_int("VIDEO_FPS", 25))
    p.add_argument("--bitrate-kbps", type=int, default=env_int("VIDEO_BITRATE_KBPS", 2000))
    p.add_argument("--gop-frames", type=int, default=env_int("VIDEO_GOP_FRAMES", 50))
    p.add_argument("--window-seconds", type=float, default=float(os.environ.get("VIDEO_WINDOW_SECONDS", "10")))
    p.add_argument("--port", type=int, default=env_int("VIDEO_PORT", 8080))
    p.add_argument("--host", default=os.environ.get("VIDEO_HOST", "0.0.0.0"))
    args = p.parse_args(argv)
    if args.fps < 1 or args.bitrate_kbps < 1 or args.gop_frames < 1 or args.window_seconds <= 0:
        p.error("--fps, --bitrate-kbps, --gop-frames and --window-seconds must be positive")
    return args


def frame_sizes(fps, bitrate_kbps, gop_frames):
    """(key, delta) payload bytes so that one GOP averages bitrate_kbps at fps."""
    per_frame = bitrate_kbps * 1000 / 8 / fps
    if gop_frames == 1:
        return round(per_frame), round(per_frame)
    delta = per_frame * gop_frames / (KEY_TO_DELTA + gop_frames - 1)
    return max(1, round(KEY_TO_DELTA * delta)), max(1, round(delta))


class Broadcaster:
    """Produces the frames and keeps the sliding window; handlers wait on `cond` for new frames."""

    def __init__(self, fps, bitrate_kbps, gop_frames, window_seconds):
        self.fps = fps
        self.gop_frames = gop_frames
        self.key_size, self.delta_size = frame_sizes(fps, bitrate_kbps, gop_frames)
        # One random pool, sliced per frame at a moving offset: realistic sizes, no per-frame RNG cost.
        self.pool = os.urandom(self.key_size * 2)
        self.window = collections.deque(maxlen=max(gop_frames, int(window_seconds * fps)))
        self.cond = threading.Condition()
        self.next_seq = 0
        self.stopped = False

    def frame(self, seq):
        key = seq % self.gop_frames == 0
        size = self.key_size if key else self.delta_size
        offset = (seq * 7919) % (len(self.pool) - size + 1)
        ts_us = time.clock_gettime_ns(time.CLOCK_REALTIME) // 1000
        header = HEADER.pack(MAGIC, EPOCH, seq, ts_us, KEY_FRAME if key else 0, size)
        return key, header + self.pool[offset:offset + size]

    def run(self):
        interval = 1.0 / self.fps
        anchor = time.monotonic()
        produced = 0  # frames since the schedule was anchored
        while not self.stopped:
            due = anchor + produced * interval
            now = time.monotonic()
            if now < due:
                time.sleep(due - now)
                continue
            if now - due > 2 * interval:
                # Frozen or starved: a live source has nothing to show for the lost time; start a
                # new schedule here instead of bursting the missed frames.
                anchor, produced = now, 0
            key, data = self.frame(self.next_seq)
            with self.cond:
                self.window.append((self.next_seq, key, data))
                self.next_seq += 1
                self.cond.notify_all()
            produced += 1

    def start_seq(self, epoch, wanted):
        """Where a new connection starts: `wanted` when it can be served, else the latest key frame."""
        with self.cond:
            if not self.window:
                return self.next_seq
            first = self.window[0][0]
            if epoch == EPOCH and wanted is not None and first <= wanted <= self.next_seq:
                return wanted
            for seq, key, _ in reversed(self.window):
                if key:
                    return seq
            return first

    def frames_from(self, seq, timeout):
        """The frames from `seq` on that exist now (waiting up to `timeout` for one), and the next seq."""
        with self.cond:
            if seq >= self.next_seq:
                self.cond.wait_for(lambda: self.next_seq > seq or self.stopped, timeout)
            if not self.window:
                return [], seq
            first = self.window[0][0]
            if seq < first:
                seq = first  # fell out of the window (a slow client): skip ahead; the client sees the gap
            out = [data for s, _, data in self.window if s >= seq]
            return out, seq + len(out)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server_version = "migbench-video/1"

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/healthz":
            b = self.server.broadcaster
            body = json.dumps({"epoch": EPOCH, "seq": b.next_seq - 1, "fps": b.fps}).encode()
            self.send_response(200 if b.next_seq > 0 else 503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif url.path == "/stream":
            self.stream(parse_qs(url.query))
        else:
            self.send_error(404)

    def stream(self, query):
        b = self.server.broadcaster

        def first_int(name):
            try:
                return int(query[name][0])
            except (KeyError, ValueError, IndexError):
                return None

        seq = b.start_seq(first_int("epoch"), first_int("from"))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-migbench-video")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.flush()
        try:
            while not b.stopped:
                frames, seq = b.frames_from(seq, 1.0)
                for data in frames:
                    self.wfile.write(data)
                if frames:
                    self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, TimeoutError, OSError):
            pass  # the viewer went away

    def log_message(self, fmt, *args):  # no access log: the health probe polls every few ms
        pass


class VideoServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):
        # HTTPServer.server_bind resolves its own name with socket.getfqdn(): a reverse DNS lookup
        # that hangs for seconds in a pod without DNS. The name is never used.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        pass  # a viewer that vanished mid-stream is normal during a migration


def main(argv):
    args = parse_args(argv)
    broadcaster = Broadcaster(args.fps, args.bitrate_kbps, args.gop_frames, args.window_seconds)
    server = VideoServer((args.host, args.port), Handler)
    server.broadcaster = broadcaster

    def terminate(signum, _frame):
        # As a live origin does on SIGTERM: stop producing, end the streams, exit.
        broadcaster.stopped = True
        with broadcaster.cond:
            broadcaster.cond.notify_all()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)
    threading.Thread(target=broadcaster.run, name="broadcaster", daemon=True).start()
    print(f"video: epoch {EPOCH}, {args.fps} fps, {args.bitrate_kbps} kbit/s, GOP {args.gop_frames} "
          f"(key {broadcaster.key_size} B, delta {broadcaster.delta_size} B), port {args.port}", flush=True)
    server.serve_forever(poll_interval=0.5)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
