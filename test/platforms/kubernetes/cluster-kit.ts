// What the kubernetes platform's tests need on top of a sim cluster (test/helpers/sim-cluster.ts):
// the admin's clients, the podmigration CRD installed, and the checks every test ends with — every
// node schedulable, nothing of migbench left in the namespace.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { CoreV1Api, KubeConfig, KubernetesObjectApi, type V1Node } from '@kubernetes/client-node';
import { argsForAttempt } from '../../helpers/attempt.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');

export interface AdminClients {
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  objects: KubernetesObjectApi;
}

export function adminClients(kubeconfig: string): AdminClients {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfig);
  return { kubeConfig, core: kubeConfig.makeApiClient(CoreV1Api), objects: KubernetesObjectApi.makeApiClient(kubeConfig) };
}

/** Applies deploy/kubernetes/<file> as shipped and, for a CRD, waits until it is served. */
export async function applyShipped(admin: AdminClients, file: string): Promise<void> {
  const docs = readFileSync(join(ROOT, 'deploy', 'kubernetes', file), 'utf8')
    .split(/^---$/m)
    .map((d) => parse(d))
    .filter(Boolean);
  for (const doc of docs) await admin.objects.patch(doc, undefined, undefined, 'migbench-test', true, 'application/apply-patch+yaml');
  if (docs.some((d) => d.kind === 'CustomResourceDefinition')) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await admin.objects.list('podmig.dcn.ssu.ac.kr/v1', 'Podmigration', 'default');
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}

/** Node name → what is wrong with it (cordoned, or still marked as cordoned by migbench); empty when all are fine. */
export async function unschedulableNodes(admin: AdminClients): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const node of (await admin.core.listNode()).items as V1Node[]) {
    const problems = [
      node.spec?.unschedulable ? 'cordoned' : '',
      node.metadata?.annotations?.['migbench.io/cordoned-by'] !== undefined ? 'migbench cordon annotation' : '',
    ].filter(Boolean);
    if (problems.length > 0) out[node.metadata!.name!] = problems.join(', ');
  }
  return out;
}

/** Every object of migbench's kinds left in the namespace, as "Kind/name". */
export async function migbenchObjectsIn(admin: AdminClients, namespace: string): Promise<string[]> {
  const left: string[] = [];
  const kinds: [string, string][] = [
    ['apps/v1', 'Deployment'],
    ['apps/v1', 'StatefulSet'],
    ['apps/v1', 'ReplicaSet'],
    ['v1', 'Pod'],
    ['v1', 'Service'],
    ['v1', 'PersistentVolumeClaim'],
  ];
  for (const [apiVersion, kind] of kinds) {
    const list = await admin.objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, 'app.kubernetes.io/part-of=migbench');
    for (const item of list.items) left.push(`${kind}/${item.metadata!.name}`);
  }
  try {
    for (const item of (await admin.objects.list('podmig.dcn.ssu.ac.kr/v1', 'Podmigration', namespace)).items) left.push(`Podmigration/${item.metadata!.name}`);
  } catch {
    /* no CRD: none */
  }
  return left;
}

/** Waits until `check` returns true (or throws after `timeoutMs`, saying what it waited for). */
export async function eventually(what: string, timeoutMs: number, check: () => Promise<boolean>, pollMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * The CLI, as test/helpers/cli.ts runs it, but without blocking this process: the operator double
 * runs in the test's own event loop and must keep reacting while the CLI waits for it. `env` adds to
 * this process's environment.
 */
export function migbenchAsync(
  args: string[],
  timeoutMs = 300_000,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', [join(ROOT, 'bin', 'migbench'), ...argsForAttempt(args)], {
      cwd: ROOT,
      env: { ...process.env, FORCE_COLOR: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The workloads' real images (`migbench images build`, cached after CI's build) pushed into the lab's
 * registry with `--load lab`: the references pinned by digest it prints, by workload.
 */
export async function loadLabImages(workloads: readonly string[]): Promise<Record<string, string>> {
  const load = await migbenchAsync(['images', 'build', ...workloads.flatMap((w) => ['--workload', w]), '--load', 'lab'], 880_000);
  if (load.code !== 0) throw new Error(`images build --load lab exited ${load.code}: ${load.stderr}`);
  return Object.fromEntries([...load.stdout.matchAll(/^\s+([a-z-]+): (\S+@sha256:[0-9a-f]{64})/gm)].map((m) => [m[1]!, m[2]!]));
}

/**
 * A kubeconfig that acts as `user` (the admin's certificate, impersonating), written to `file`:
 * what that user's RBAC bindings allow is then all it may do.
 */
export function impersonatingKubeconfig(adminKubeconfig: string, user: string, file: string): string {
  const config = parse(readFileSync(adminKubeconfig, 'utf8'));
  for (const u of config.users) u.user.as = user;
  writeFileSync(file, stringify(config), { mode: 0o600 });
  return file;
}

/** Binds `user` to a ClusterRole: in `namespace` (a RoleBinding), or cluster-wide. */
export async function bindRole(admin: AdminClients, user: string, clusterRole: string, namespace?: string): Promise<void> {
  const name = `${user}-${clusterRole}`;
  await admin.objects.create({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: namespace ? 'RoleBinding' : 'ClusterRoleBinding',
    metadata: { name, ...(namespace ? { namespace } : {}) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
  } as any);
}
