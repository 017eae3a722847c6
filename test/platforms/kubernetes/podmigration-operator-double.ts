// TEST DOUBLE of the SSU-DCN podmigration-operator (github.com/SSU-DCN/podmigration-operator), for
// a control plane whose kubelets are simulated (kwok) and so cannot checkpoint or restore anything.
// It plays the operator's part against the real API server, the way its controller does
// (controllers/podmigration_controller.go, Reconcile's live-migration branch, and helpers.go):
//
//   1. a Podmigration with action live-migration appears; its source pod must be Running;
//   2. the source pod is annotated for the checkpoint (snapshotPolicy: checkpoint, snapshotPath),
//      which on a real node makes the modified kubelet dump it;
//   3. the restored pod is created: named `<source>-migration-<0..99>`, the source pod's labels,
//      annotations plus `sourcePod`, `snapshotPolicy: restore`, `snapshotPath: <checkpoint dir>`,
//      the source's first container (name, image, ports, volume mounts) and volumes, a nodeSelector
//      kubernetes.io/hostname: destHost, and the Podmigration as its controlling owner — no
//      `migratingPod` label (the controller adds that one only to the Deployments of its restore
//      branch);
//   4. once that pod is Running, the source pod is deleted. No status is written, as by the operator.
//
// Unlike the operator, it marks each pod it restores (OPERATOR_DOUBLE_ANNOTATION): migbench reads the
// mark and writes `operator: test-double` in trials.csv and run.json, so figures from the double are
// never taken for the operator's.
//
// Optionally it serves the operator's REST API (api-server/endpoints/podmigration.go: POST
// /Podmigrations {name, action, sourcePod, destHost, snapshotPath}, which creates the resource in
// namespace default after checking the source pod is Running). It is the operator's stand-in, never
// Kubernetes': every object it reads or writes is on the real API server.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, KubeConfig, KubernetesObjectApi, Watch, type V1Pod } from '@kubernetes/client-node';
import { OPERATOR_DOUBLE_ANNOTATION } from '../../../src/strategies/podmigration/kubernetes.ts';
import { adminClients, applyShipped } from './cluster-kit.ts';

const API_VERSION = 'podmig.dcn.ssu.ac.kr/v1';
/** The controller's checkpoint directory (it ignores spec.snapshotPath for live migration). */
const CHECKPOINT_ROOT = '/var/lib/kubelet/migration/kkk';

export interface SeenPodmigration {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  spec: Record<string, any>;
  restoredPod?: string;
}

export class PodmigrationOperatorDouble {
  /** Every Podmigration it saw, as created. */
  readonly seen: SeenPodmigration[] = [];
  readonly errors: string[] = [];
  private readonly kubeConfig: KubeConfig;
  private readonly core: CoreV1Api;
  private readonly objects: KubernetesObjectApi;
  private readonly namespace: string;
  private watch: AbortController | undefined;
  private server: Server | undefined;
  private stopped = false;

  constructor(kubeconfigFile: string, namespace: string) {
    this.kubeConfig = new KubeConfig();
    this.kubeConfig.loadFromFile(kubeconfigFile);
    this.core = this.kubeConfig.makeApiClient(CoreV1Api);
    this.objects = KubernetesObjectApi.makeApiClient(this.kubeConfig);
    this.namespace = namespace;
  }

  /** Installs the shipped CRD (deploy/kubernetes/podmigration-crd.yaml) and starts a double acting in `namespace`. */
  static async installed(kubeconfigFile: string, namespace = 'default'): Promise<PodmigrationOperatorDouble> {
    await applyShipped(adminClients(kubeconfigFile), 'podmigration-crd.yaml');
    const double = new PodmigrationOperatorDouble(kubeconfigFile, namespace);
    await double.start();
    return double;
  }

  async start(): Promise<void> {
    const list = await this.objects.list(API_VERSION, 'Podmigration', this.namespace);
    const connect = async (resourceVersion: string) => {
      this.watch = await new Watch(this.kubeConfig).watch(
        `/apis/${API_VERSION}/namespaces/${this.namespace}/podmigrations`,
        { resourceVersion },
        (type, object) => {
          if (type === 'ADDED') void this.reconcile(object).catch((err) => this.errors.push(String(err?.message ?? err)));
        },
        () => {
          if (!this.stopped) void connect('');
        },
      );
    };
    await connect(list.metadata?.resourceVersion ?? '');
  }

  /** Serves the operator's REST API on 127.0.0.1; returns its base URL. */
  async serveRestApi(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        void (async () => {
          if (req.method !== 'POST' || req.url !== '/Podmigrations') return reply(404, { title: 'Not Found' });
          const pm = JSON.parse(body) as { name: string; action: string; sourcePod: string; destHost: string; snapshotPath?: string; replicas?: number };
          const source = await this.readPod(pm.sourcePod);
          if (source?.status?.phase !== 'Running') return reply(400, { title: 'Bad Request', details: 'Could not find sourcePod for migration' });
          await this.objects.create({
            apiVersion: API_VERSION,
            kind: 'Podmigration',
            metadata: { name: pm.name, namespace: this.namespace },
            spec: {
              replicas: pm.replicas ?? 0,
              sourcePod: pm.sourcePod,
              destHost: pm.destHost,
              snapshotPath: pm.snapshotPath ?? '',
              selector: { matchLabels: { podmig: 'dcn' } },
              action: pm.action.toLowerCase(),
              template: { spec: { containers: [] } },
            },
          } as any);
          reply(200, pm);
        })().catch((err) => reply(400, { title: 'Error', details: String(err?.message ?? err) }));
      });
      const reply = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watch?.abort();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async readPod(name: string): Promise<V1Pod | undefined> {
    try {
      return await this.core.readNamespacedPod({ name, namespace: this.namespace });
    } catch {
      return undefined;
    }
  }

  private async reconcile(migration: {
    metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string> };
    spec: Record<string, any>;
  }): Promise<void> {
    const seen: SeenPodmigration = {
      name: migration.metadata.name,
      namespace: migration.metadata.namespace,
      labels: migration.metadata.labels ?? {},
      spec: migration.spec,
    };
    this.seen.push(seen);
    if (migration.spec.action !== 'live-migration') return;
    const sourceName = String(migration.spec.sourcePod);
    // 1. The source pod must exist and be Running (checkPodExist); the controller requeues until it is.
    let source: V1Pod | undefined;
    for (let attempt = 0; attempt < 50 && source?.status?.phase !== 'Running'; attempt++) {
      source = await this.readPod(sourceName);
      if (source?.status?.phase !== 'Running') await new Promise((r) => setTimeout(r, 100));
    }
    if (source?.status?.phase !== 'Running') throw new Error(`sourcePod ${sourceName} not Running`);
    // 2. Checkpoint: the controller annotates the source pod; the modified kubelet does the rest.
    const checkpointPath = `${CHECKPOINT_ROOT}/${sourceName.split('-')[0]}`;
    source.metadata!.annotations = { ...source.metadata!.annotations, snapshotPolicy: 'checkpoint', snapshotPath: CHECKPOINT_ROOT };
    source = await this.core.replaceNamespacedPod({ name: sourceName, namespace: this.namespace, body: source });
    // 3. The restored pod, from the source pod's template (getSourcePodTemplate + desiredPod + restorePod).
    const container = source.spec!.containers[0]!;
    const restored: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${sourceName.split('-migration-')[0]}-migration-${Math.floor(Math.random() * 100)}`,
        namespace: this.namespace,
        labels: { ...source.metadata!.labels },
        annotations: {
          ...source.metadata!.annotations,
          sourcePod: sourceName,
          snapshotPolicy: 'restore',
          snapshotPath: checkpointPath,
          [OPERATOR_DOUBLE_ANNOTATION]: 'true',
        },
        ...(source.metadata!.finalizers ? { finalizers: source.metadata!.finalizers } : {}),
        ownerReferences: [
          {
            apiVersion: API_VERSION,
            kind: 'Podmigration',
            name: migration.metadata.name,
            uid: migration.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        containers: [
          {
            name: container.name,
            image: container.image,
            ...(container.ports ? { ports: container.ports } : {}),
            ...(container.volumeMounts ? { volumeMounts: container.volumeMounts } : {}),
          },
        ],
        ...(source.spec!.volumes ? { volumes: source.spec!.volumes } : {}),
        nodeSelector: { 'kubernetes.io/hostname': String(migration.spec.destHost) },
      },
    };
    const created = await this.core.createNamespacedPod({ namespace: this.namespace, body: restored });
    seen.restoredPod = created.metadata!.name;
    // 4. Once the restored pod is Running, the source pod is deleted.
    for (;;) {
      const now = await this.readPod(created.metadata!.name!);
      if (now?.status?.phase === 'Running') break;
      if (this.stopped) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.core.deleteNamespacedPod({ name: sourceName, namespace: this.namespace });
  }
}
