import { inject } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { LocalPlatform } from '../../src/platforms/local/local-platform.ts';

/** A local platform on its own checkpoint store and log directory under the temp dir. */
export async function createTestPlatform(): Promise<LocalPlatform> {
  const tools = inject('tools');
  const base = mkdtempSync(`${tmpdir()}/migbench-test-`);
  return LocalPlatform.create({
    nodes: ['node-a', 'node-b'],
    subnet: '198.18.0.0/24',
    checkpointDir: `${base}/store`,
    logDir: `${base}/logs`,
    tools: { runc: tools.runc, criu: tools.criu, iptables: tools.iptables, ip: tools.ip },
  });
}
