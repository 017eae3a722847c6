#!/usr/bin/env python3
"""An independent fresh-connection probe, written apart from migbench (stdlib only), to check
migbench's service_downtime_ms: every 5 ms it opens a new TCP connection to the trial's service
address, sends an inline Redis PING, waits for +PONG (a 5 ms deadline for connect + answer, from the
send; DEADLINE=per-op: 5 ms per socket operation) and closes.

migbench's local platform gives trial k the service port 30000 + k − 1 on the bridge address; the
trial in progress is the number of rows in <results>/trials.csv plus one, re-read every 100 ms.

  python3 bench/fresh-probe-check.py probe RESULTS_DIR OUT.csv        # until killed (SIGTERM)
  python3 bench/fresh-probe-check.py judge RESULTS_DIR OUT.csv        # compare with trials.csv

A trial's outage here: its samples between its first and last successful one; the longest run of
failed samples in between, from the send of its first failed attempt to the send of the first
successful one after it (migbench's definition of downtime_ms, on send times: this loop is
sequential, so during an outage of timeouts it falls behind its 5 ms schedule)."""
import csv, os, signal, socket, sys, time

INTERVAL = 0.005
GATEWAY = os.environ.get('MIGBENCH_SERVICE_HOST', '198.18.0.1')


def trial_in_progress(results):
    try:
        with open(os.path.join(results, 'trials.csv')) as f:
            return sum(1 for _ in f)  # header + finished trials = the next trial's number
    except FileNotFoundError:
        return 1


def ping(port):
    # One deadline of one interval for connect + PING + answer, from the send (DEADLINE=per-op gives
    # each socket operation its own interval instead: up to ~2 intervals in all).
    deadline = time.monotonic() + INTERVAL
    per_op = os.environ.get('DEADLINE') == 'per-op'
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    remaining = lambda: INTERVAL if per_op else max(1e-4, deadline - time.monotonic())
    try:
        s.settimeout(remaining())
        s.connect((GATEWAY, port))
        s.sendall(b'PING\r\n')
        data = b''
        while not data.endswith(b'\r\n'):
            s.settimeout(remaining())
            chunk = s.recv(64)
            if not chunk:
                return False
            data += chunk
        return data.startswith(b'+PONG')
    except OSError:
        return False
    finally:
        s.close()


def probe(results, out):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    start = time.monotonic()
    trial, checked = 1, 0.0
    with open(out, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['trial', 'due_s', 'sent_s', 'ok'])
        i = 0
        while not stop:
            due = start + i * INTERVAL  # open loop: absolute schedule, late ticks still fire
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            if due - checked >= 0.1:
                trial, checked = trial_in_progress(results), due
            sent = time.monotonic()
            w.writerow([trial, f'{due - start:.6f}', f'{sent - start:.6f}', int(ping(30000 + trial - 1))])
            i += 1


def judge(results, out):
    by_trial = {}
    with open(out) as f:
        for r in csv.DictReader(f):
            # When the attempt really went out: this loop is sequential, so during an outage of
            # timeouts it falls behind its schedule, and due times would make the outage look shorter.
            by_trial.setdefault(int(r['trial']), []).append((float(r['sent_s']), r['ok'] == '1'))
    with open(os.path.join(results, 'trials.csv')) as f:
        trials = list(csv.DictReader(f))
    print('trial,strategy,independent_ms,service_downtime_ms,downtime_ms,difference_ms')
    diffs = []
    for t in trials:
        samples = sorted(by_trial.get(int(t['trial']), []))
        oks = [i for i, (_, ok) in enumerate(samples) if ok]
        if not oks or t['status'] != 'ok':
            continue
        inner = samples[oks[0]:oks[-1] + 1]
        longest, first_failed = 0.0, None
        for due, ok in inner:
            if not ok and first_failed is None:
                first_failed = due
            elif ok and first_failed is not None:
                longest, first_failed = max(longest, due - first_failed), None
        mine = longest * 1000
        svc = t.get('service_downtime_ms', '')
        diff = mine - float(svc) if svc else float('nan')
        diffs.append(diff)
        print(f"{t['trial']},{t['strategy']},{mine:.1f},{svc},{t['downtime_ms']},{diff:.1f}")
    ok = [d for d in diffs if d == d]
    if ok:
        print(f'# {len(ok)} trials; |independent − service_downtime_ms| max {max(abs(d) for d in ok):.1f} ms, mean {sum(ok) / len(ok):+.1f} ms')


if __name__ == '__main__':
    {'probe': probe, 'judge': judge}[sys.argv[1]](sys.argv[2], sys.argv[3])
