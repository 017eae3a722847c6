// Runs once before the suite. Integration tests drive real runc, CRIU, iptables and redis-server,
// so they need root and the prerequisites; `npm test` installs what is missing through the same
// code path as `npm run bench`, instead of asking for a manual step.
import type { TestProject } from 'vitest/node';
import { ensurePrerequisites } from '../src/setup/prerequisites.ts';
import { ensureWorkloadPrerequisites } from '../src/setup/workload-prerequisites.ts';
import { cleanupLocalHost, otherLockHolder } from '../src/platforms/local/cleanup.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    tools: { runc: string; criu: string; iptables: string; ip: string; redisServer: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.getuid?.() !== 0) {
    throw new Error('migbench tests drive runc, CRIU and iptables and must run as root: sudo npm test');
  }
  const p = await ensurePrerequisites((line) => process.stderr.write(`${line}\n`));
  // Every workload type runs in the host tests (test/workloads/moves.host.test.ts).
  await ensureWorkloadPrerequisites(['redis', 'video', 'ml-training'], (line) => process.stderr.write(`${line}\n`));
  const tools = { runc: p.runc, criu: p.criu, iptables: p.iptables, ip: p.ip, redisServer: p.redisServer };
  project.provide('tools', tools);
  // After the suite, whatever happened in it: nothing of migbench may be left on the host.
  return async () => {
    // cleanupLocalHost refuses while another process (a benchmark run) holds the run lock: its pods
    // are not ours to remove.
    const holder = otherLockHolder();
    if (holder !== undefined) {
      process.stderr.write(`migbench tests: a migbench run (pid ${holder}) holds the host; not cleaning up\n`);
      return;
    }
    const left = await cleanupLocalHost({ ...tools, checkpointDirs: [] });
    if (left.length > 0) process.stderr.write(`migbench tests: removed leftovers: ${left.join(', ')}\n`);
  };
}
