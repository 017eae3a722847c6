// The runtime handler's runc wrapper (agent/cmd/migbench-runc), built from the agent's module beside
// the agent's binary: cached under the same source hash (/var/cache/migbench/agent/<hash>/), so a
// change to agent/ builds both again and nothing else does.
import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from '../../system/exec.ts';
import { AGENT_CACHE_DIR, AGENT_SOURCE_DIR, agentSourceHash, goBinary } from './agent-image.ts';

/** The wrapper's binary (static, CGO_ENABLED=0, like the agent), built unless this source hash's is cached. */
export async function ensureRuntimeHandlerBinary(log: (line: string) => void = () => undefined): Promise<string> {
  const sourceHash = await agentSourceHash();
  const dir = join(AGENT_CACHE_DIR, sourceHash);
  const binary = join(dir, 'migbench-runc');
  if (existsSync(binary)) return binary;
  const t0 = performance.now();
  await mkdir(dir, { recursive: true });
  const partial = `${binary}.partial-${process.pid}`;
  await exec(await goBinary(), ['build', '-trimpath', '-ldflags', '-s -w', '-o', partial, './cmd/migbench-runc'], {
    cwd: AGENT_SOURCE_DIR,
    env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
    timeoutMs: 10 * 60_000,
  });
  await rename(partial, binary);
  log(`migbench-runc: built in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${binary}`);
  return binary;
}
