// The Kubernetes manifests under workloads/*/k8s.yaml run the same app, with the same flags, as the
// local platform's pods, and expose it the way the probes reach it (a NodePort Service selecting the
// Deployment's pods on the app's port). A flag changed on one side only fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { workloadSchema } from '../../../src/scenario/schema.ts';
import { createWorkload } from '../../../src/workloads/registry.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');

interface K8sObject {
  kind: string;
  metadata: { name: string };
  spec: Record<string, any>;
}

function manifests(type: string): K8sObject[] {
  const text = readFileSync(join(ROOT, 'workloads', type, 'k8s.yaml'), 'utf8');
  return parseAllDocuments(text).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as K8sObject;
  });
}

/** `--flag=value` and `--flag value` both become [--flag, value]. */
function normalizeArgs(args: string[]): string[] {
  return args.flatMap((a) => (a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a]));
}

/** A command line's flags as flag → value ('' for a bare flag), leaving out the interpreter, script and `ignore`d flags. */
function flags(args: string[], ignore: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const list = normalizeArgs(args);
  for (let i = 0; i < list.length; i++) {
    const flag = list[i]!;
    if (!flag.startsWith('--')) continue;
    const next = list[i + 1];
    const value = next !== undefined && !next.startsWith('--') ? next : '';
    if (value === next) i++;
    if (!ignore.includes(flag)) out[flag] = value;
  }
  return out;
}

describe.each([
  // Local-only flags: redis' port and daemonize are the image's defaults.
  { type: 'redis', ignore: ['--port', '--daemonize'] },
  { type: 'video', ignore: [] },
  { type: 'ml-training', ignore: [] },
])('workloads/$type/k8s.yaml', ({ type, ignore }) => {
  const workload = createWorkload(workloadSchema.parse({ type }));
  const spec = workload.podSpec();
  const objects = manifests(type);
  const deployment = objects.find((o) => o.kind === 'Deployment');
  const service = objects.find((o) => o.kind === 'Service');

  it('has a Deployment running the same flags as the local pod', () => {
    expect(deployment).toBeDefined();
    const containers = deployment!.spec.template.spec.containers as { args: string[]; ports: { containerPort: number; name: string }[] }[];
    expect(containers).toHaveLength(1);
    const local = flags(spec.args ?? [], ignore);
    expect(Object.keys(local).length).toBeGreaterThan(3);
    expect(flags(containers[0]!.args, ignore)).toEqual(local);
    expect(containers[0]!.ports.map((p) => p.containerPort)).toContain(workload.port);
  });

  it('has a NodePort Service selecting the Deployment on the app port', () => {
    expect(service?.spec.type).toBe('NodePort');
    expect(deployment!.spec.template.metadata.labels).toMatchObject(service!.spec.selector);
    const port = (service!.spec.ports as { port: number; targetPort: string | number }[])[0]!;
    const containerPort = deployment!.spec.template.spec.containers[0].ports.find(
      (p: { name: string; containerPort: number }) => p.name === port.targetPort || p.containerPort === port.targetPort,
    );
    expect(containerPort?.containerPort).toBe(workload.port);
  });

  it('mounts a shared volume exactly where the local pod has one', () => {
    const mounts = (deployment!.spec.template.spec.containers[0].volumeMounts ?? []) as { mountPath: string }[];
    expect(mounts.map((m) => m.mountPath)).toEqual(spec.volumes.map((v) => v.mountPath));
    for (const v of deployment!.spec.template.spec.volumes ?? []) {
      const claim = objects.find((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name === v.persistentVolumeClaim?.claimName);
      expect(claim?.spec.accessModes).toContain('ReadWriteMany');
    }
  });
});
