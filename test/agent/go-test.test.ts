// The node agent's own tests (agent/*_test.go: what it accepts, the CRIU options it writes, the
// checkpoint image's layout, a pod resumed through a cgroupfs tree, the archive's sha256-checked
// transfer between two agents, the runtime handler's containerd config reading, runc lookup and
// supervisor detection, the registry delivery's logins and private CA against the real distribution
// registry the lab builds, containerd's restore settings read from the real containerd 2.3 and 2.4
// the lab builds — each skipped outside CI when it is not built) run with `go test`, as part of `npm test`.
import { expect, it } from 'vitest';
import { exec } from '../../src/system/exec.ts';
import { AGENT_SOURCE_DIR, goBinary } from '../../src/lab/build/agent-image.ts';

it('passes go vet and go test in agent/', { timeout: 15 * 60_000 }, async () => {
  const go = await goBinary();
  const env = { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' };
  const vet = await exec(go, ['vet', './...'], { cwd: AGENT_SOURCE_DIR, env, timeoutMs: 15 * 60_000, allowFailure: true });
  expect(vet.exitCode, vet.stderr).toBe(0);
  const test = await exec(go, ['test', '-count=1', './...'], { cwd: AGENT_SOURCE_DIR, env, timeoutMs: 15 * 60_000, allowFailure: true });
  expect(test.exitCode, `${test.stdout}\n${test.stderr}`).toBe(0);
  expect(test.stdout).toMatch(/^ok\s+github\.com\/migbench\/migbench\/agent\b/m);
});
