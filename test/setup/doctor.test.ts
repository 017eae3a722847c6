// `migbench doctor`'s report and the pure parts behind the checks.
import { describe, expect, it } from 'vitest';
import { doctorExitCode, formatDoctor } from '../../src/setup/doctor.ts';
import { findCpusetCgroup, type Check } from '../../src/setup/prerequisites.ts';
import { newestSource } from '../../src/setup/criu-build.ts';
import { firstCriuError } from '../../src/criu/error-lines.ts';

const ok: Check[] = [
  { name: 'runc', ok: true, found: '1.1.5' },
  { name: 'CRIU dirty tracking', ok: true, found: 'missing: criu-precopy unavailable' },
];
const failing: Check = {
  name: 'CRIU',
  ok: false,
  found: '3.17.1 (criu check failed: vdso: Unexpected rt vDSO area bounds)',
  fix: "npm run bench -- <scenario> (builds CRIU 4.2.1 from Debian's source on first use)",
};

describe('formatDoctor', () => {
  it('prints one aligned line per check', () => {
    expect(formatDoctor(ok).split('\n')).toEqual(['ok    runc                 1.1.5', 'ok    CRIU dirty tracking  missing: criu-precopy unavailable']);
  });

  it('puts the fix on the failing line', () => {
    const lines = formatDoctor([...ok, failing]).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe(
      "FAIL  CRIU                 3.17.1 (criu check failed: vdso: Unexpected rt vDSO area bounds)  → fix: npm run bench -- <scenario> (builds CRIU 4.2.1 from Debian's source on first use)",
    );
  });

  it('shows no fix on passing lines', () => {
    expect(formatDoctor([{ name: 'runc', ok: true, found: '1.1.5', fix: 'apt-get install -y runc' }])).not.toContain('fix');
  });
});

describe('doctorExitCode', () => {
  it('is 0 when every check passes (informational "missing" included), 2 otherwise', () => {
    expect(doctorExitCode(ok)).toBe(0);
    expect(doctorExitCode([...ok, failing])).toBe(2);
    expect(doctorExitCode([])).toBe(0);
  });
});

describe('findCpusetCgroup', () => {
  const v1 = [
    'tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0',
    'cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0',
    'cgroup /sys/fs/cgroup/cpuset cgroup rw,relatime,cpuset 0 0',
    'cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0',
  ].join('\n');
  const v2 = 'cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0\n';

  it('finds a v1 cpuset hierarchy', () => {
    expect(findCpusetCgroup(v1, undefined)).toBe('cgroup v1 (cpuset at /sys/fs/cgroup/cpuset)');
  });
  it('finds cpuset on the v2 hierarchy', () => {
    expect(findCpusetCgroup(v2, 'cpuset cpu io memory pids\n')).toBe('cgroup v2 (cpuset controller)');
  });
  it('reports v2 without cpuset and no cgroups at all as missing', () => {
    expect(findCpusetCgroup(v2, 'cpu io memory pids\n')).toBeUndefined();
    expect(findCpusetCgroup('proc /proc proc rw 0 0\n', undefined)).toBeUndefined();
  });
});

describe('CRIU source and output parsing', () => {
  it('picks the newest source package and its orig tarball', () => {
    const showsrc = [
      'Package: criu',
      'Version: 3.17.1-2+deb12u2',
      'Files:',
      ' 0123 1000 criu_3.17.1.orig.tar.gz',
      '',
      'Package: criu',
      'Version: 4.2.1-1',
      'Files:',
      ' 680c50418f796b55464947dc117a7cf4 2901 criu_4.2.1-1.dsc',
      ' 15af4ed4460591e31fc5be6cab994ac9 1038700 criu_4.2.1.orig.tar.xz',
      ' fa44a793db247d17dce76d0cf84033b9 12964 criu_4.2.1-1.debian.tar.xz',
      'Vcs-Browser: https://salsa.debian.org/debian/criu',
      '',
    ].join('\n');
    expect(newestSource(showsrc)).toEqual({
      version: '4.2.1-1',
      upstreamVersion: '4.2.1',
      origTarball: 'criu_4.2.1.orig.tar.xz',
      origMd5: '15af4ed4460591e31fc5be6cab994ac9',
    });
    expect(newestSource('')).toBeUndefined();
  });

  it("extracts criu check's first error", () => {
    const stderr = [
      'Warn  (criu/cr-check.c:824): Dirty tracking is OFF. Memory snapshot will not work.',
      'Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds',
      'Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable',
    ].join('\n');
    expect(firstCriuError(stderr)).toBe('vdso: Unexpected rt vDSO area bounds');
    expect(firstCriuError('Looks good.\n')).toBeUndefined();
  });
});
