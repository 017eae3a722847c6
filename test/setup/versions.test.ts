// The tools' real `--version` output (Debian 12 + CRIU 4.2.1) and the comparisons migbench relies on.
import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  parseCriuVersion,
  parseIpVersion,
  parseIptablesBackend,
  parseIptablesVersion,
  parseKernelVersion,
  parseRedisVersion,
  parseRuncVersion,
  versionAtLeast,
} from '../../src/setup/versions.ts';

describe('version parsers', () => {
  it.each([
    ['criu', parseCriuVersion, 'Version: 4.2.1\n', '4.2.1'],
    ['criu (git build)', parseCriuVersion, 'Version: 4.2\nGitID: v4.2-12-gdeadbeef\n', '4.2'],
    ['criu 3.17', parseCriuVersion, 'Version: 3.17.1\n', '3.17.1'],
    ['runc', parseRuncVersion, 'runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\ngo: go1.19.8\n', '1.1.5'],
    ['runc (upstream)', parseRuncVersion, 'runc version 1.2.0\ncommit: v1.2.0-0-g0123456\n', '1.2.0'],
    ['redis', parseRedisVersion, 'Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ae4d7c971a948f0\n', '7.0.15'],
    ['iptables', parseIptablesVersion, 'iptables v1.8.9 (nf_tables)\n', '1.8.9'],
    ['iptables legacy', parseIptablesVersion, 'iptables v1.8.7 (legacy)\n', '1.8.7'],
    ['ip', parseIpVersion, 'ip utility, iproute2-6.1.0, libbpf 1.1.2\n', '6.1.0'],
    ['ip (old)', parseIpVersion, 'ip utility, iproute2-ss200127\n', '200127'],
    ['kernel', parseKernelVersion, '6.18.44-fc-v657\n', '6.18.44'],
    ['kernel (Debian)', parseKernelVersion, '6.1.0-18-amd64', '6.1.0'],
  ])('%s', (_name, parse, output, expected) => {
    expect(parse(output)).toBe(expected);
  });

  it('returns undefined for output it does not know', () => {
    expect(parseCriuVersion('criu: command not found')).toBeUndefined();
    expect(parseRuncVersion('')).toBeUndefined();
    expect(parseRedisVersion('Redis server')).toBeUndefined();
    expect(parseIptablesVersion('ip6tables-restore v1.8.9')).toBeUndefined();
    expect(parseKernelVersion('unknown')).toBeUndefined();
  });

  it('reads the iptables backend', () => {
    expect(parseIptablesBackend('iptables v1.8.9 (nf_tables)')).toBe('nf_tables');
    expect(parseIptablesBackend('iptables v1.8.7 (legacy)')).toBe('legacy');
    expect(parseIptablesBackend('iptables v1.6.1')).toBeUndefined();
  });
});

describe('compareVersions', () => {
  it.each([
    ['4.2.1', '4.2', 1],
    ['4.2', '4.2.0', 0],
    ['4.10', '4.2', 1],
    ['3.17.1', '4.2', -1],
    ['4.1', '4.2', -1],
    ['4.2.1', '4.2.1', 0],
    ['3.17.1-2+deb12u2', '4.2', -1], // apt-cache policy's candidate
    ['1:4.2.1-1', '4.2', 1], // Debian epoch
    ['6.18.44-fc-v657', '5', 1],
  ])('%s vs %s → %i', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
    expect(compareVersions(b, a)).toBe(-expected || 0);
  });

  it('versionAtLeast', () => {
    expect(versionAtLeast('4.2.1', '4.2')).toBe(true);
    expect(versionAtLeast('4.2', '4.2')).toBe(true);
    expect(versionAtLeast('4.1.1', '4.2')).toBe(false);
  });
});
