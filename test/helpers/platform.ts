// A local platform per test file, and the check that it left nothing behind on the host.
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { LocalPlatform } from '../../src/platforms/local/local-platform.ts';
import { migbenchObjects, NOTHING } from './host.ts';

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

/**
 * One test platform for a test file: created before its tests (handed to `use`), closed after them,
 * and the host then checked for anything of migbench left behind.
 */
export function useTestPlatform(use: (platform: LocalPlatform) => void): void {
  let platform: LocalPlatform | undefined;
  beforeAll(async () => {
    platform = await createTestPlatform();
    use(platform);
  });
  afterAll(async () => {
    await platform?.close();
    expect(migbenchObjects()).toEqual(NOTHING);
  });
}
