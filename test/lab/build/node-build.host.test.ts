// The real nodes' components (src/lab/build/node-build.ts) are built from the pinned modules and are the
// versions the pins say: each binary is run and asked. Cold, this builds them (minutes; CI runs
// `migbench cluster build` first so the time is reported on its own).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findGo } from '../../../src/lab/build/control-plane-build.ts';
import { ensureNodeBinaries, PAUSE_IMAGE } from '../../../src/lab/build/node-build.ts';
import { exec } from '../../../src/system/exec.ts';

const BUILD_TIMEOUT_MS = 60 * 60_000;
const moduleFile = (component: string) => readFileSync(join(import.meta.dirname, '../../../src/lab/build/node-build', component, 'go.mod'), 'utf8');

describe('node component pins', () => {
  it('containerd is a 2.3.x (the last line with CRI restore-via-create) and runc a 1.5.x', () => {
    expect(moduleFile('containerd')).toMatch(/^\s*(?:require\s+)?github\.com\/containerd\/containerd\/v2 v2\.3\.\d+(?: \/\/ indirect)?$/m);
    expect(moduleFile('runc')).toMatch(/^\s*(?:require\s+)?github\.com\/opencontainers\/runc v1\.5\.\d+(?: \/\/ indirect)?$/m);
  });

  it('kubelet and kube-proxy are built with exactly the versions the control plane is built with', () => {
    const pins = (goMod: string) => new Map([...goMod.matchAll(/^\s+(\S+) (v\S+)(?: \/\/ indirect)?$/gm)].map((m) => [m[1], m[2]]));
    const controlPlane = pins(readFileSync(join(import.meta.dirname, '../../../src/lab/build/k8s-build/go.mod'), 'utf8'));
    const node = pins(moduleFile('kubernetes'));
    expect(node.get('k8s.io/kubernetes')).toBe(controlPlane.get('k8s.io/kubernetes'));
    const differing = [...node].filter(([module, version]) => controlPlane.has(module) && controlPlane.get(module) !== version);
    expect(differing).toEqual([]);
  });

  it(
    "the pause image's name is containerd's default sandbox image (pinned_images.sandbox)",
    async () => {
      const binaries = await ensureNodeBinaries(() => undefined);
      const dir = (
        await exec((await findGo()).path, ['list', '-m', '-f', '{{.Dir}}', 'github.com/containerd/containerd/v2'], {
          cwd: join(import.meta.dirname, '../../../src/lab/build/node-build/containerd'),
          timeoutMs: 120_000,
        })
      ).stdout.trim();
      const config = readFileSync(join(dir, 'internal/cri/config/config.go'), 'utf8');
      expect(config).toContain(`DefaultSandboxImage = "${PAUSE_IMAGE}"`);
      expect(binaries.pauseArchive).toMatch(/pause\.tar$/);
    },
    BUILD_TIMEOUT_MS,
  );
});

describe('built node components', () => {
  it(
    'report the pinned versions',
    async () => {
      const b = await ensureNodeBinaries((line) => process.stderr.write(`${line}\n`));
      const version = async (file: string, args = ['--version']) => (await exec(file, args, { timeoutMs: 30_000 })).stdout;
      expect(await version(b.kubelet)).toContain('Kubernetes v1.36.3');
      expect(await version(b.kubeProxy)).toContain('Kubernetes v1.36.3');
      expect(await version(b.containerd)).toMatch(/containerd \S+ v2\.3\.\d+/);
      expect(await version(b.ctr)).toMatch(/ctr \S+ v2\.3\.\d+/);
      expect(await version(b.runc)).toMatch(/^runc version 1\.5\.\d+\n[\s\S]*seccomp/m);
      // The lab's registry and kubectl (the kubelet's version).
      expect(await version(b.registry)).toContain('github.com/distribution/distribution/v3 v3.1.2');
      expect(await version(b.kubectl, ['version', '--client'])).toContain('Client Version: v1.36.3');
      expect((await exec(join(b.pauseArchive, '..', 'pause'), ['-v'], { timeoutMs: 10_000 })).stdout).toContain('pause.c');
      const index = JSON.parse((await exec('tar', ['-xOf', b.pauseArchive, './index.json'], { timeoutMs: 10_000 })).stdout) as {
        manifests: Array<{ annotations: Record<string, string> }>;
      };
      expect(index.manifests[0]?.annotations['io.containerd.image.name']).toBe(PAUSE_IMAGE);
      for (const build of b.builds) expect(Date.parse(build.builtAt), build.component).toBeGreaterThan(0);
    },
    BUILD_TIMEOUT_MS,
  );
});
