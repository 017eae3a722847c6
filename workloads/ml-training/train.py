#!/usr/bin/env python3
"""migbench ml-training workload: a small CNN trained on a synthetic image data set.

The data set is generated deterministically at start (seeded class patterns plus noise), so nothing
is downloaded and every pod trains on the same data. Every --save-every-steps steps the model and
optimizer state go atomically to <data-dir>/checkpoint.pt; on start the job resumes from there.

An HTTP server in a background thread reports progress:
  GET /progress -> {"step", "epoch", "loss", "samples_per_s", "started_step", "process_start", "pid"}
  GET /healthz  -> 200 once the training loop runs (503 while starting)

Made to survive a CRIU checkpoint/restore: one process (no DataLoader workers, no multiprocessing),
no /dev/shm, threads only (PyTorch's intra-op pool and the HTTP server).
"""
import argparse
import collections
import json
import math
import os
import signal
import sys
import threading
import time
import socketserver
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROCESS_START = time.clock_gettime(time.CLOCK_REALTIME)


def env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset-images", type=int, default=env_int("MLT_DATASET_IMAGES", 4096))
    p.add_argument("--image-size", type=int, default=env_int("MLT_IMAGE_SIZE", 32))
    p.add_argument("--classes", type=int, default=env_int("MLT_CLASSES", 10))
    p.add_argument("--batch-size", type=int, default=env_int("MLT_BATCH_SIZE", 32))
    p.add_argument("--model-width", type=int, default=env_int("MLT_MODEL_WIDTH", 16))
    p.add_argument("--save-every-steps", type=int, default=env_int("MLT_SAVE_EVERY_STEPS", 100))
    p.add_argument("--threads", type=int, default=env_int("MLT_THREADS", 1))
    p.add_argument("--seed", type=int, default=env_int("MLT_SEED", 1234))
    p.add_argument("--lr", type=float, default=float(os.environ.get("MLT_LR", "0.01")))
    p.add_argument("--data-dir", default=os.environ.get("MLT_DATA_DIR", "/data"))
    p.add_argument("--port", type=int, default=env_int("MLT_PORT", 8080))
    p.add_argument("--host", default=os.environ.get("MLT_HOST", "0.0.0.0"))
    p.add_argument("--max-steps", type=int, default=env_int("MLT_MAX_STEPS", 0), help="stop after this step (0: never)")
    args = p.parse_args(argv)
    if args.image_size < 4:
        p.error("--image-size must be >= 4")
    if args.save_every_steps < 1 or args.batch_size < 1 or args.threads < 1 or args.model_width < 1:
        p.error("--save-every-steps, --batch-size, --threads and --model-width must be >= 1")
    return args


class Progress:
    """What /progress reports; written by the training loop, read by the HTTP thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.training = False
        self.step = 0
        self.epoch = 0
        self.loss = None
        self.started_step = 0
        self.samples_per_s = 0.0
        self.window = collections.deque()  # (monotonic s, step) of the last RATE_WINDOW_S

    RATE_WINDOW_S = 2.0

    def update(self, step, epoch, loss, batch_size):
        now = time.monotonic()
        with self.lock:
            self.step, self.epoch, self.loss = step, epoch, loss
            self.window.append((now, step))
            while len(self.window) > 2 and now - self.window[0][0] > self.RATE_WINDOW_S:
                self.window.popleft()
            t0, s0 = self.window[0]
            self.samples_per_s = (step - s0) * batch_size / (now - t0) if now > t0 else 0.0

    def snapshot(self):
        with self.lock:
            return {
                "step": self.step,
                "epoch": self.epoch,
                "loss": self.loss,
                "samples_per_s": round(self.samples_per_s, 3),
                "started_step": self.started_step,
                "process_start": PROCESS_START,
                "pid": os.getpid(),
                "training": self.training,
            }


PROGRESS = Progress()


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so no idle keep-alive socket outlives a poll.
    protocol_version = "HTTP/1.0"

    def _send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        snap = PROGRESS.snapshot()
        if path == "/progress":
            if snap["training"]:
                self._send(200, snap)
            else:
                self._send(503, {"status": "starting", **snap})
        elif path == "/healthz":
            self._send(200 if snap["training"] else 503, {"ok": snap["training"]})
        else:
            self._send(404, {"error": "not found"})

    def log_message(self, fmt, *args):  # no access log: one line per poll would flood the pod log
        pass


class ProgressServer(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self):
        # HTTPServer.server_bind resolves its own address with socket.getfqdn(): a reverse DNS
        # lookup that, in a pod whose network reaches no name server, hangs for ~10 s at start-up.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def handle_error(self, request, client_address):
        # A client that gave up (probe timeout) before the answer was written: not worth a traceback.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


def start_http(host, port):
    server = ProgressServer((host, port), Handler)
    thread = threading.Thread(target=server.serve_forever, name="progress-http", daemon=True)
    thread.start()
    return server


def make_dataset(torch, n, size, classes, seed):
    """n images 3×size×size: a per-class pattern (oriented stripes, a colour, a blob) plus noise."""
    g = torch.Generator().manual_seed(seed)
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    patterns = torch.empty(classes, 3, size, size)
    for c in range(classes):
        angle = math.pi * c / classes
        freq = 2.0 + 3.0 * torch.rand(1, generator=g).item()
        stripes = torch.sin(freq * math.pi * (xs * math.cos(angle) + ys * math.sin(angle)))
        cy, cx = (torch.rand(2, generator=g) * 1.4 - 0.7).tolist()
        blob = torch.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / 0.1)
        colour = torch.rand(3, generator=g) * 2 - 1
        for ch in range(3):
            patterns[c, ch] = 0.5 * stripes + colour[ch] * (0.5 + blob)
    labels = torch.randint(0, classes, (n,), generator=g)
    images = torch.empty(n, 3, size, size)
    chunk = 1024
    for start in range(0, n, chunk):  # in chunks: the noise temporary stays small for large sets
        end = min(n, start + chunk)
        images[start:end] = patterns[labels[start:end]] + 2.0 * torch.randn(end - start, 3, size, size, generator=g)
    return images, labels


def make_model(torch, width, size, classes):
    nn = torch.nn
    side = size // 4
    return nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * width * side * side, classes),
    )


def save_checkpoint(torch, path, model, optimizer, step, epoch):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step, "epoch": epoch}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def main(argv):
    args = parse_args(argv)
    stopping = threading.Event()
    # As PID 1 of a pod the default SIGTERM action is ignored; stop at the next step instead. Steps
    # since the last save are lost, as for a job that only saves periodically.
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())

    server = start_http(args.host, args.port)
    print(f"ml-training: pid {os.getpid()} serving progress on {args.host}:{server.server_address[1]}", flush=True)

    import torch  # after the server is up: the import takes a while

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(args.seed)

    images, labels = make_dataset(torch, args.dataset_images, args.image_size, args.classes, args.seed)
    model = make_model(torch, args.model_width, args.image_size, args.classes)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()

    os.makedirs(args.data_dir, exist_ok=True)
    ckpt_path = os.path.join(args.data_dir, "checkpoint.pt")
    step = 0
    if os.path.exists(ckpt_path):
        state = torch.load(ckpt_path, map_location="cpu")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step = int(state["step"])
        print(f"ml-training: resumed from {ckpt_path} at step {step}", flush=True)

    steps_per_epoch = max(1, args.dataset_images // args.batch_size)
    epoch = step // steps_per_epoch
    order = None
    order_epoch = -1
    with PROGRESS.lock:
        PROGRESS.started_step = step
        PROGRESS.step = step
        PROGRESS.epoch = epoch
    PROGRESS.update(step, epoch, None, args.batch_size)
    with PROGRESS.lock:
        PROGRESS.training = True
    print(f"ml-training: training from step {step} ({steps_per_epoch} steps per epoch, {args.threads} thread(s))", flush=True)

    model.train()
    while not stopping.is_set() and (args.max_steps <= 0 or step < args.max_steps):
        epoch = step // steps_per_epoch
        if epoch != order_epoch:  # the batch order is a function of (seed, epoch): resuming repeats it
            order = torch.randperm(args.dataset_images, generator=torch.Generator().manual_seed(args.seed * 1_000_003 + epoch))
            order_epoch = epoch
        i = step % steps_per_epoch
        idx = order[i * args.batch_size:(i + 1) * args.batch_size]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(images[idx]), labels[idx])
        loss.backward()
        optimizer.step()
        step += 1
        PROGRESS.update(step, step // steps_per_epoch, float(loss.item()), args.batch_size)
        if step % args.save_every_steps == 0:
            save_checkpoint(torch, ckpt_path, model, optimizer, step, step // steps_per_epoch)

    print(f"ml-training: stopping at step {step}", flush=True)
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
