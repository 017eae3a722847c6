// The pins of the control-plane build (src/lab/build/k8s-build/go.mod) stay consistent, and the parsers
// the build relies on read what the tools really print.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CONTROL_PLANE_BINARIES,
  K8S_BUILD_MODULE_DIR,
  parseControlPlaneVersions,
  parseGoVersion,
  versionLdflags,
} from '../../../src/lab/build/control-plane-build.ts';

const goMod = readFileSync(join(K8S_BUILD_MODULE_DIR, 'go.mod'), 'utf8');

describe('the k8s-build wrapper module', () => {
  it('pins Kubernetes, etcd and kwok', () => {
    expect(parseControlPlaneVersions(goMod)).toEqual({ kubernetes: 'v1.36.3', etcd: 'v3.6.8', kwok: 'v0.8.0' });
  });

  it('pins every k8s.io staging module to the v0.Y.Z of Kubernetes v1.Y.Z (a mismatch builds a mixed, untested apiserver)', () => {
    const { kubernetes } = parseControlPlaneVersions(goMod);
    const staging = `v0.${kubernetes.replace(/^v1\./, '')}`;
    const replaces = [...goMod.matchAll(/^\s*(k8s\.io\/\S+)\s+=>\s+(\S+)\s+(v\S+)\s*$/gm)];
    expect(replaces.length).toBeGreaterThanOrEqual(30);
    for (const [, from, to, version] of replaces) {
      expect(to, from).toBe(from);
      expect(version, from).toBe(staging);
    }
  });

  it('declares a tool line for every binary the cache holds', () => {
    const tools = /^tool \(\n([^)]*)\)/m
      .exec(goMod)?.[1]
      ?.split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    expect(tools?.sort()).toEqual(
      Object.values(CONTROL_PLANE_BINARIES)
        .map((b) => b.pkg)
        .sort(),
    );
  });
});

describe('parsers', () => {
  it('reads the require lines of a go.mod, one-line or block form', () => {
    const mod = 'module x\n\nrequire k8s.io/kubernetes v1.35.4\n\nrequire (\n\tgo.etcd.io/etcd/server/v3 v3.6.5\n\tsigs.k8s.io/kwok v0.7.0 // indirect\n)\n';
    expect(parseControlPlaneVersions(mod)).toEqual({ kubernetes: 'v1.35.4', etcd: 'v3.6.5', kwok: 'v0.7.0' });
    expect(() => parseControlPlaneVersions('module x\n')).toThrow(/requires no k8s.io\/kubernetes/);
  });

  it.each([
    ['go version go1.26.8 linux/amd64', '1.26.8'],
    ['go version go1.21 linux/arm64', '1.21'],
    ['go version devel go1.27-abcdef linux/amd64', '1.27'],
    ['bash: go: command not found', undefined],
  ])('go version: %s', (output, version) => {
    expect(parseGoVersion(output)).toBe(version);
  });

  it('stamps the Kubernetes version into both version packages, as Kubernetes’ own build does', () => {
    const flags = versionLdflags('v1.36.3');
    expect(flags).toContain('-X k8s.io/component-base/version.gitVersion=v1.36.3');
    expect(flags).toContain('-X k8s.io/component-base/version.gitMinor=36');
    expect(flags).toContain('-X k8s.io/client-go/pkg/version.gitMajor=1');
  });
});
