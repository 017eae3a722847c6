// With `kubernetes.address`, the trial probes the app through that address as a local trial probes
// its service: waits for it, loads it, samples it open loop, and fills the probe columns. The sim
// cluster's pods run no app, so the address here is a video server run on this host — it does not
// move with the pod; what is tested is the wiring (address → probes → samples.csv, frames.csv,
// trials.csv), next to the pod lifecycle the watch measures.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { useSimCluster } from '../../helpers/sim-cluster.ts';
import { eventually, migbenchAsync } from './cluster-kit.ts';

const cluster = useSimCluster();
let server: ChildProcess | undefined;
let port: number;
let base: string;

beforeAll(async () => {
  port = await new Promise<number>((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => done(p));
    });
  });
  server = spawn(
    'python3',
    [resolve(import.meta.dirname, '../../../workloads/video/server.py'), '--fps=25', '--bitrate-kbps=2000', '--gop-frames=50', `--port=${port}`],
    { stdio: 'ignore' },
  );
  await eventually('the video server', 10_000, async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok === true);
  base = mkdtempSync(`${tmpdir()}/migbench-k8s-probes-`);
});

afterAll(() => {
  server?.kill('SIGKILL');
  if (base) rmSync(base, { recursive: true, force: true });
});

it('probes the app at kubernetes.address and fills the probe columns beside the pod lifecycle', { timeout: 120_000 }, async () => {
  const file = join(base, 'probes.yaml');
  writeFileSync(
    file,
    [
      'platform: kubernetes',
      `kubernetes: { kubeconfig: ${cluster.kubeconfig}, namespace: default, address: '127.0.0.1:${port}', sourceNode: worker-a, targetNode: worker-b }`,
      'workloads: [{ type: video, probe: { intervalMs: 10 } }]',
      'strategies: [{ name: redeploy, gracePeriodSeconds: 5 }]',
      'repetitions: 1',
      'timing: { settleMs: 2500, observeMs: 1000 }',
      '',
    ].join('\n'),
  );
  const out = join(base, 'out');
  const run = await migbenchAsync(['run', file, '--out', out, '--quiet']);
  const [trial] = parse(readFileSync(join(out, 'trials.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
  expect(trial!.status, `${trial!.error}\n${run.stderr}`).toBe('ok');
  for (const column of [
    'downtime_ms',
    'samples',
    'probe_interval_ms',
    'latency_p50_ms',
    'video_max_stall_ms',
    'video_frames_lost',
    'pod_scheduled_ms',
    'pod_ready_ms',
    'migration_ms',
  ]) {
    expect(trial![column], column).toMatch(/^\d+(\.\d+)?$/);
  }
  expect(Number(trial!.samples)).toBeGreaterThan(200); // 3.5 s of 10 ms ticks
  const frames = parse(readFileSync(join(out, 'frames.csv'), 'utf8'), { columns: true }) as unknown[];
  expect(frames.length).toBeGreaterThan(50); // 25 fps
});
