import { defineConfig } from 'vitest/config';

// Two projects: `unit` is pure (no root, nothing on the host) and can run anywhere, also beside a
// running benchmark; `host` drives real runc, CRIU, iptables and redis-server, so it installs the
// prerequisites first (global setup) and runs one file at a time on the shared host.
const hostTests = [
  'test/platforms/**/*.test.ts',
  // Every strategy test moves real pods, except the registry's (pure: it only derives schemas and names).
  'test/strategies/**/!(registry).test.ts',
  'test/cli/**/*.test.ts',
  // Install and drive the distribution's packages (Jupyter, Chromium) on first use.
  'test/notebook/**/*.test.ts',
  // Run the workloads' own servers (Python, PyTorch) as host processes.
  'test/workloads/**/*.test.ts',
  'test/report/report-chromium.test.ts',
  // The downtime anatomy checked on real trials (a `migbench run`).
  'test/metrics/anatomy-real.test.ts',
  // Runs `criu check` and the installer: it needs root and this host.
  'test/setup/prerequisites.test.ts',
  // Builds the real nodes' components (minutes, cold) and runs them.
  'test/setup/node-build.test.ts',
];

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
