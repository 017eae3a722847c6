// The ml-training workload's pod spec, and train.py itself run directly on the host with Debian's
// PyTorch (installed here on first use, as on a fresh CI machine): progress advances, checkpoints
// appear, and a job killed and started again on the same data directory resumes from its last save.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseProgress, type TrainingProgress } from '../../src/probes/training-probe.ts';
import { aptInstall } from '../../src/setup/apt.ts';
import { mlTrainingWorkloadSchema } from '../../src/scenario/schema.ts';
import { ML_TRAINING_CODE_DIR, MlTrainingWorkload, trainingArgs, trainingEnv } from '../../src/workloads/ml-training.ts';

const PYTHON = '/usr/bin/python3';
const TRAIN_PY = join(ML_TRAINING_CODE_DIR, 'train.py');
const config = mlTrainingWorkloadSchema.parse({ type: 'ml-training', datasetImages: 256, imageSize: 16, modelWidth: 4, saveEverySteps: 10 });

function torchImports(): boolean {
  return existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}
const isRoot = process.getuid?.() === 0;
// Without torch and without root to install it there is nothing to run train.py with.
const runnable = existsSync(PYTHON) && (torchImports() || (isRoot && existsSync('/usr/bin/apt-get')));

describe('MlTrainingWorkload', () => {
  it('runs train.py from the code directory mounted at /app, data on its volume', () => {
    const w = new MlTrainingWorkload(mlTrainingWorkloadSchema.parse({ type: 'ml-training', name: 'trainer', threads: 2 }));
    const spec = w.podSpec();
    expect(w.port).toBe(8080);
    expect(w.volumes()).toEqual(['trainer-data']);
    expect(spec.command).toEqual(['/usr/bin/python3', '/app/train.py']);
    expect(spec.args).toContain('--threads');
    expect(spec.args![spec.args!.indexOf('--data-dir') + 1]).toBe('/data');
    expect(spec.env?.OMP_NUM_THREADS).toBe('2');
    expect(spec.volumes).toEqual([{ volume: 'trainer-data', mountPath: '/data' }]);
    expect(spec.code).toEqual({ hostPath: ML_TRAINING_CODE_DIR, mountPath: '/app' });
    expect(existsSync(join(spec.code!.hostPath, 'train.py'))).toBe(true);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe.skipIf(!runnable)('train.py on the host', () => {
  const children = new Set<ChildProcess>();
  let dataDir = '';
  let port = 0;

  beforeAll(async () => {
    if (!torchImports()) await aptInstall(['python3-torch']);
    expect(torchImports()).toBe(true);
    dataDir = await mkdtemp(join(tmpdir(), 'migbench-ml-training-'));
    port = await freePort();
  }, 900_000);

  afterEach(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  function startJob(): { child: ChildProcess; output: () => string } {
    const child = spawn(PYTHON, [TRAIN_PY, ...trainingArgs(config, dataDir, port)], {
      env: { ...process.env, ...trainingEnv(config.threads) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let log = '';
    child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    return { child, output: () => log };
  }

  async function progress(): Promise<TrainingProgress | undefined> {
    try {
      const r = await request(`http://127.0.0.1:${port}/progress`, { signal: AbortSignal.timeout(2_000) });
      const body = await r.body.text();
      return r.statusCode === 200 ? parseProgress(body) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Polls /progress until `done` holds; fails with the job's output after `timeoutMs`. */
  async function waitFor(
    job: { child: ChildProcess; output: () => string },
    done: (p: TrainingProgress) => boolean,
    timeoutMs = 60_000,
  ): Promise<TrainingProgress> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if (job.child.exitCode !== null) throw new Error(`train.py exited with ${job.child.exitCode}:\n${job.output()}`);
      const p = await progress();
      if (p && done(p)) return p;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`train.py did not get there within ${timeoutMs} ms:\n${job.output()}`);
  }

  async function exited(child: ChildProcess): Promise<number | null> {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  it('trains, saves checkpoints, and resumes from the last save after being killed', async () => {
    const first = startJob();
    const early = await waitFor(first, () => true);
    expect(early.started_step).toBe(0);
    expect(early.pid).toBe(first.child.pid);
    const later = await waitFor(first, (p) => p.step >= 35);
    expect(later.process_start).toBe(early.process_start);
    expect(later.epoch).toBe(Math.floor(later.step / Math.floor(config.datasetImages / config.batchSize)));
    expect(later.samples_per_s).toBeGreaterThan(0);
    expect(existsSync(join(dataDir, 'checkpoint.pt'))).toBe(true);
    const health = await request(`http://127.0.0.1:${port}/healthz`);
    await health.body.dump();
    expect(health.statusCode).toBe(200);

    first.child.kill('SIGKILL');
    await exited(first.child);

    const second = startJob();
    const resumed = await waitFor(second, () => true);
    expect(resumed.pid).toBe(second.child.pid);
    expect(resumed.process_start).not.toBe(early.process_start);
    expect(resumed.started_step).toBeGreaterThan(0);
    expect(resumed.started_step % config.saveEverySteps).toBe(0);
    expect(resumed.started_step).toBeGreaterThanOrEqual(30);
    expect(resumed.step).toBeGreaterThanOrEqual(resumed.started_step);
    const advanced = await waitFor(second, (p) => p.step >= resumed.started_step + 5);
    expect(advanced.started_step).toBe(resumed.started_step);

    // SIGTERM (ignored by default as a pod's PID 1) stops the job at the next step.
    second.child.kill('SIGTERM');
    const code = await Promise.race([exited(second.child), new Promise<string>((r) => setTimeout(() => r('still running'), 10_000))]);
    expect(code).toBe(0);
  }, 180_000);
});
