// A PyTorch training job (workloads/ml-training/train.py): a small CNN on a synthetic image data set,
// saving model and optimizer state to its volume every saveEverySteps steps and resuming from there.
// A fresh pod elsewhere redoes the steps since the last save (redeploy); a restored pod carries its
// memory and continues the step it was at (criu). The code comes from the host directory, read-only.
import { join } from 'node:path';
import { request } from 'undici';
import { sleep } from '../clock.ts';
import type { Endpoint } from '../model/endpoint.ts';
import type { PodSpec } from '../model/pod-spec.ts';
import type { Probe, ProbeOptions } from '../probes/probe.ts';
import { parseProgress, TrainingProbe } from '../probes/training-probe.ts';
import type { MlTrainingWorkloadConfig } from '../scenario/schema.ts';
import { waitForHttp } from './http-ready.ts';
import type { Workload } from './workload.ts';

const TRAINING_PORT = 8080;
/** workloads/ml-training in the repository: train.py, mounted at /app in the pod. */
export const ML_TRAINING_CODE_DIR = join(import.meta.dirname, '..', '..', 'workloads', 'ml-training');
/** Steps past the one it started from before prepare() returns: warm-up done, the rate is steady. */
const PREPARE_STEPS = 20;
const PREPARE_TIMEOUT_MS = 300_000;

/** train.py's command-line arguments for a config (without the interpreter and script). */
export function trainingArgs(config: MlTrainingWorkloadConfig, dataDir: string, port: number): string[] {
  return [
    '--dataset-images',
    String(config.datasetImages),
    '--image-size',
    String(config.imageSize),
    '--classes',
    String(config.classes),
    '--batch-size',
    String(config.batchSize),
    '--model-width',
    String(config.modelWidth),
    '--save-every-steps',
    String(config.saveEverySteps),
    '--threads',
    String(config.threads),
    '--data-dir',
    dataDir,
    '--port',
    String(port),
  ];
}

/** The thread-count variables of the BLAS and OpenMP runtimes, pinned to the configured threads. */
export function trainingEnv(threads: number): Record<string, string> {
  const t = String(threads);
  return {
    OMP_NUM_THREADS: t,
    MKL_NUM_THREADS: t,
    OPENBLAS_NUM_THREADS: t,
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
  };
}

async function getJson(endpoint: Endpoint, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  const response = await request(`http://${endpoint.host}:${endpoint.port}${path}`, {
    signal: AbortSignal.timeout(timeoutMs),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  return { status: response.statusCode, body: await response.body.text() };
}

export class MlTrainingWorkload implements Workload {
  readonly type = 'ml-training';
  readonly port = TRAINING_PORT;
  readonly name: string;
  private readonly config: MlTrainingWorkloadConfig;

  constructor(config: MlTrainingWorkloadConfig) {
    this.config = config;
    this.name = config.name ?? config.type;
  }

  volumes(): string[] {
    return [`${this.name}-data`];
  }

  podSpec(): PodSpec {
    return {
      app: this.name,
      command: ['/usr/bin/python3', '/app/train.py'],
      args: trainingArgs(this.config, '/data', TRAINING_PORT),
      env: trainingEnv(this.config.threads),
      port: TRAINING_PORT,
      volumes: [{ volume: `${this.name}-data`, mountPath: '/data' }],
      code: { hostPath: ML_TRAINING_CODE_DIR, mountPath: '/app' },
    };
  }

  /** Ready once /healthz answers 200: the data set is generated and the training loop runs. */
  async waitReady(endpoint: Endpoint, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    await waitForHttp('ml-training', endpoint, '/healthz', timeoutMs, signal);
  }

  /** Waits until the job has trained PREPARE_STEPS steps, so probing starts on a steady step rate. */
  async prepare(endpoint: Endpoint, signal?: AbortSignal): Promise<void> {
    const deadline = performance.now() + PREPARE_TIMEOUT_MS;
    let last = '';
    while (performance.now() < deadline) {
      signal?.throwIfAborted();
      try {
        const r = await getJson(endpoint, '/progress', 5_000);
        const progress = r.status === 200 ? parseProgress(r.body) : undefined;
        if (progress && progress.step >= progress.started_step + PREPARE_STEPS) return;
        last = progress ? `step ${progress.step} (started at ${progress.started_step})` : `HTTP ${r.status}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      await sleep(50, signal);
    }
    throw new Error(`ml-training did not reach ${PREPARE_STEPS} steps within ${PREPARE_TIMEOUT_MS} ms (last: ${last || 'none'})`);
  }

  probes(service: Endpoint, options: ProbeOptions): Probe[] {
    return [new TrainingProbe(service, options)];
  }
}
