import { defineConfig } from 'vitest/config';

// Two projects: `unit` is pure (no root, nothing on the host) and can run anywhere, also beside a
// running benchmark; `host` drives real runc, CRIU, iptables and redis-server, so it installs the
// prerequisites first (global setup) and runs one file at a time on the shared host.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/{scenario,plan,metrics,results,report,probes,setup,ui}/**/*.test.ts'],
          // Runs `criu check` and the installer: it needs root and this host.
          exclude: ['test/setup/prerequisites.test.ts'],
        },
      },
      {
        test: {
          name: 'host',
          include: ['test/{platforms,strategies,cli}/**/*.test.ts', 'test/setup/prerequisites.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 600_000,
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
