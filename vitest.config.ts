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
          testTimeout: 120_000,
          hookTimeout: 600_000,
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
