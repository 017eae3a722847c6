// What `migbench agent install --registry-secret/--registry-ca` gives the node agents for pushing
// checkpoint images to a registry with a login or a private CA: the checks of the Secret (a
// kubernetes.io/dockerconfigjson with registries) and of the CA file (PEM), each naming its flag and
// the fix without repeating a credential; a bad CA file refused with exit 2 before the cluster is
// asked anything; the copies mounted read-only (the logins root-only) and named in the agent's
// environment, and nothing of it without the flags; and the restored pod kubelet-checkpoint makes
// from the trial's pod template carries the scenario's imagePullSecrets, so its kubelet pulls the
// checkpoint image from the same registry with the same secret.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { V1Secret } from '@kubernetes/client-node';
import {
  AGENT_NAMESPACE,
  AGENT_REGISTRY_CA,
  AGENT_REGISTRY_SECRET,
  agentObjects,
  DEFAULT_AGENT_NODE_PATHS,
} from '../../../src/platforms/kubernetes/agent/agent-manifests.ts';
import {
  readRegistryCa,
  registryAccessObjects,
  registryAccessOfDaemonSet,
  registrySecretProblem,
} from '../../../src/platforms/kubernetes/agent/agent-registry-access.ts';
import { withWorkloadImage } from '../../../src/platforms/kubernetes/images.ts';
import { prepareManifests, readWorkloadManifests } from '../../../src/platforms/kubernetes/manifests.ts';
import { migbench } from '../../helpers/cli.ts';

/** A CA certificate made for these tests (openssl req -x509, P-256, valid until 2126); no key kept. */
const CA = readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'registry', 'ca.pem'), 'utf8');
const PASSWORD = 's3cret-pass';
const dockerConfig = (auths: unknown) => Buffer.from(JSON.stringify({ auths })).toString('base64');
const secret = (type: string, data?: Record<string, string>): V1Secret => ({
  metadata: { name: 'regcred', namespace: 'bench' },
  type,
  ...(data ? { data } : {}),
});

describe('--registry-secret', () => {
  const good = secret('kubernetes.io/dockerconfigjson', {
    '.dockerconfigjson': dockerConfig({ 'registry.example.org:5000': { auth: Buffer.from(`u:${PASSWORD}`).toString('base64') } }),
  });

  it.each([
    ['missing', undefined, 'no Secret regcred in namespace bench'],
    ['of another type', secret('Opaque', { password: Buffer.from(PASSWORD).toString('base64') }), 'is of type Opaque, not kubernetes.io/dockerconfigjson'],
    ['without registries', secret('kubernetes.io/dockerconfigjson', { '.dockerconfigjson': dockerConfig({}) }), 'has no .dockerconfigjson with registries'],
    ['not JSON', secret('kubernetes.io/dockerconfigjson', { '.dockerconfigjson': Buffer.from(`{${PASSWORD}`).toString('base64') }), 'has no .dockerconfigjson'],
  ])('refuses a Secret %s, naming the flag and how to make one, never its content', (_, given, why) => {
    const problem = registrySecretProblem('bench/regcred', given) ?? '';
    expect(problem).toContain(`--registry-secret bench/regcred: `);
    expect(problem).toContain(why);
    expect(problem).toContain('kubectl -n NAMESPACE create secret docker-registry NAME');
    expect(problem).not.toContain(PASSWORD);
  });

  it('takes a dockerconfigjson with registries, found in namespace default when none is named, and copies it as it is', () => {
    expect(registrySecretProblem('bench/regcred', good)).toBeUndefined();
    expect(registrySecretProblem('regcred', undefined)).toContain('no Secret regcred in namespace default');
    const [copy] = registryAccessObjects({ dockerConfig: { data: good.data!['.dockerconfigjson']!, from: 'bench/regcred' } });
    expect(copy).toMatchObject({
      kind: 'Secret',
      type: 'kubernetes.io/dockerconfigjson',
      metadata: { name: AGENT_REGISTRY_SECRET, namespace: AGENT_NAMESPACE },
      data: good.data,
    });
  });
});

describe('--registry-ca', () => {
  const dir = mkdtempSync(join(tmpdir(), 'migbench-registry-ca-'));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('reads the PEM certificates of a CA file and refuses a missing file, one without a certificate, or a broken one', async () => {
    expect(await readRegistryCa(file('ca.pem', `# our CA\n${CA}`))).toEqual({ pem: CA });
    expect(await readRegistryCa(join(dir, 'absent.pem'))).toEqual({
      problem: expect.stringMatching(/^--registry-ca .*absent\.pem: cannot be read \(ENOENT\); give the PEM file/),
    });
    expect(await readRegistryCa(file('key.pem', '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n'))).toEqual({
      problem: expect.stringContaining('holds no PEM certificate'),
    });
    expect(await readRegistryCa(file('broken.pem', CA.replace('MIIBnzCC', 'MIIBnzXX')))).toEqual({ problem: expect.stringContaining('does not parse') });
  });

  it('exits 2 on a bad CA file before the cluster is asked anything (the kubeconfig does not even exist)', () => {
    const run = migbench(['agent', 'install', '--registry-ca', file('not-a-ca.txt', 'hello\n'), '--kubeconfig', join(dir, 'no-kubeconfig')], {
      timeoutMs: 60_000,
    });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('--registry-ca');
    expect(run.stderr).toContain('holds no PEM certificate');
    expect(run.stderr).not.toContain('no-kubeconfig');
  });
});

describe("the agent's DaemonSet", () => {
  const podOf = (registry?: { logins?: boolean; caSha256?: string }) =>
    agentObjects('img', DEFAULT_AGENT_NODE_PATHS, undefined, [], undefined, registry).find((o) => o.kind === 'DaemonSet')!.spec.template;

  it('mounts the logins read-only, root-only, and the CA read-only, names both in the environment, and restarts on another CA', () => {
    const template = podOf({ logins: true, caSha256: 'ab'.repeat(32) });
    const pod = template.spec;
    const container = pod.containers[0];
    expect(pod.volumes).toContainEqual({
      name: 'registry-auth',
      secret: { secretName: AGENT_REGISTRY_SECRET, defaultMode: 0o400, items: [{ key: '.dockerconfigjson', path: 'config.json' }] },
    });
    expect(pod.volumes).toContainEqual({ name: 'registry-ca', configMap: { name: AGENT_REGISTRY_CA, defaultMode: 0o444 } });
    expect(container.volumeMounts).toContainEqual({ name: 'registry-auth', mountPath: '/etc/migbench-registry-auth', readOnly: true });
    expect(container.volumeMounts).toContainEqual({ name: 'registry-ca', mountPath: '/etc/migbench-registry-ca', readOnly: true });
    expect(container.env).toContainEqual({ name: 'REGISTRY_AUTH_FILE', value: '/etc/migbench-registry-auth/config.json' });
    expect(container.env).toContainEqual({ name: 'REGISTRY_CA_FILE', value: '/etc/migbench-registry-ca/ca.crt' });
    expect(template.metadata.annotations).toEqual({ 'migbench.io/registry-ca-sha256': 'ab'.repeat(32) });
    const daemonSet = (registry?: { logins?: boolean; caSha256?: string }) =>
      agentObjects('img', DEFAULT_AGENT_NODE_PATHS, undefined, [], undefined, registry).find((o) => o.kind === 'DaemonSet')!;
    expect(registryAccessOfDaemonSet(daemonSet({ logins: true, caSha256: 'ab' }))).toEqual({ logins: true, ca: true });
    expect(registryAccessOfDaemonSet(daemonSet({ logins: true }))).toEqual({ logins: true, ca: false });
    expect(registryAccessOfDaemonSet(daemonSet())).toEqual({ logins: false, ca: false });
    expect(registryAccessObjects({ caPem: CA })).toEqual([
      expect.objectContaining({
        kind: 'ConfigMap',
        metadata: expect.objectContaining({ name: AGENT_REGISTRY_CA, namespace: AGENT_NAMESPACE }),
        data: { 'ca.crt': CA },
      }),
    ]);
  });

  it('without the flags has none of it', () => {
    const template = podOf();
    expect(JSON.stringify(template)).not.toMatch(/registry/i);
    expect(template).toEqual(podOf({}));
  });
});

it("gives kubelet-checkpoint's restored pod the scenario's imagePullSecrets (its spec is the trial's pod template's)", () => {
  const objects = withWorkloadImage(readWorkloadManifests('redis'), 'registry.example.org/migbench/redis@sha256:' + 'a'.repeat(64), ['regcred']);
  const m = prepareManifests(objects, { namespace: 'bench', runId: 'r', trial: 1, source: 'worker-a', target: 'worker-b', shape: 'deployment' });
  expect(m.podTemplate.spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);
});
