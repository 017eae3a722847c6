import { defineConfig } from 'vitest/config';

// Two projects: `unit` is pure (no root, nothing on the host) and can run anywhere, also beside a
// running benchmark; `host` drives real runc, CRIU, iptables and redis-server, so it installs the
// prerequisites first (global setup) and runs one file at a time on the shared host.
// A test that needs this host (root, runc, CRIU, iptables, redis-server, Python, Chromium, the lab's
// builds and nodes) says so in its name: `*.host.test.ts`. Everything else is a unit test.
const hostTests = ['test/**/*.host.test.ts'];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: hostTests,
        },
      },
      {
        test: {
          name: 'host',
          include: hostTests,
          fileParallelism: false,
          // On CI a failed host test runs once more before it fails the build: a lab of a dozen
          // processes on a shared 2-core VM misses a deadline now and then, and one miss among ~200
          // host tests kept whole submissions out. A test that fails twice still fails; one that
          // passed only on its retry is listed as flaky at the end of .ci/run, so it gets fixed. A
          // retry writes its results where its first attempt did (test/helpers/attempt.ts).
          retry: process.env.CI === 'true' ? 1 : 0,
          testTimeout: 120_000,
          hookTimeout: 600_000,
          globalSetup: ['test/global-setup.ts'],
          setupFiles: ['test/helpers/host-setup.ts'],
        },
      },
    ],
  },
});
