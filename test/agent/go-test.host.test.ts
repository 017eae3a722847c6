// The node agent's own tests (agent/*_test.go: what it accepts, the CRIU options it writes, the
// checkpoint image's layout, a pod resumed through a cgroupfs tree, the archive's sha256-checked
// transfer between two agents, the runtime handler's containerd config reading, runc lookup and
// supervisor detection, the registry delivery's logins and private CA against the real distribution
// registry the lab builds, containerd's restore settings read from the real containerd 2.3 and 2.4
// the lab builds — each skipped outside CI when it is not built) run with `go vet` and `go test`,
// as part of `npm test`, once per CPU of the agent's image (AGENT_PLATFORMS): this machine's
// natively, the other compiled for it (GOARCH) and run under QEMU user-mode emulation
// (qemu-aarch64-static on amd64, from Debian's qemu-user-static, installed on first use; under
// CI=true a missing emulator fails the test, elsewhere it skips). agent/arch_test.go checks that the
// executable running the suite is of the CPU asked for (MIGBENCH_TEST_GOARCH), so an arm64 pass
// means arm64 code ran: the agent's own logic, its syscalls through QEMU to this kernel (/proc,
// cgroupfs trees, signals, statfs), its HTTP and TLS, its processes (the emulated binary spawns
// this machine's sleep and registry natively). What it does not show: an arm64 kernel (QEMU
// translates the syscalls to this amd64 kernel), CRIU or containerd on arm64 (the suite runs
// neither), nor a real arm64 node's page size or memory ordering beyond what QEMU models.
// Time on a shared 2-core VM: the emulated run takes 45–65 s with an empty Go cache (compiling the
// standard library and the dependencies for arm64; the native run's ~60 s cold is beside it), ~5 s
// warm (the native one ~3 s).
// A host test: it starts containerd as root (the restore settings) and, as root, installs QEMU's
// user-mode emulators when they are missing.
import { expect, it } from 'vitest';
import { exec } from '../../src/system/exec.ts';
import { AGENT_PLATFORMS, AGENT_SOURCE_DIR, ensureUserModeEmulator, goBinary } from '../../src/lab/build/agent-image.ts';
import { hostOciArchitecture, type OciArchitecture } from '../../src/lab/build/oci-image.ts';

const TIMEOUT_MS = 15 * 60_000;

/** `go vet` and `go test` of agent/ built for `architecture`, run through `emulator` when given. */
async function expectAgentSuitePasses(architecture: OciArchitecture, emulator?: string): Promise<void> {
  const go = await goBinary();
  const env = { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod', GOARCH: architecture, MIGBENCH_TEST_GOARCH: architecture };
  const options = { cwd: AGENT_SOURCE_DIR, env, timeoutMs: TIMEOUT_MS, allowFailure: true };
  const vet = await exec(go, ['vet', './...'], options);
  expect(vet.exitCode, vet.stderr).toBe(0);
  const test = await exec(go, ['test', '-count=1', '-v', ...(emulator ? ['-exec', emulator] : []), './...'], options);
  const output = `${test.stdout}\n${test.stderr}`;
  expect(test.exitCode, output).toBe(0);
  expect(test.stdout, output).toMatch(/^ok\s+github\.com\/migbench\/migbench\/agent\b/m);
  expect(test.stdout, output).toMatch(/^--- PASS: TestRunsAsTheCPUItWasBuiltFor\b/m);
  expect(test.stdout, output).toContain(`linux/${architecture}, executing `);
}

const host = hostOciArchitecture();

it(`passes go vet and go test in agent/ (linux/${host}, natively)`, { timeout: TIMEOUT_MS }, async () => {
  await expectAgentSuitePasses(host);
});

for (const architecture of AGENT_PLATFORMS.filter((a) => a !== host)) {
  it(`passes go vet and go test in agent/ built for linux/${architecture}, under QEMU user-mode emulation`, { timeout: TIMEOUT_MS }, async (context) => {
    const emulator = await ensureUserModeEmulator(architecture, (line) => process.stderr.write(`${line}\n`)).catch((err: Error) => {
      if (process.env.CI === 'true') throw err;
      return context.skip(err.message);
    });
    await expectAgentSuitePasses(architecture, emulator);
  });
}
