import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs no root and no kernel features; `integration` runs real containers as root.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          // Containers are cheap, but the host has 2 cores; keep files sequential for clear failures.
          fileParallelism: false,
        },
      },
      {
        // The library (src/api, issue 15): real containers as root, created in this test process.
        test: {
          name: 'api',
          // examples/vitest: the fixture docs/api.md shows, run as it is written (it imports 'tsrun': the package itself).
          include: ['test/api/**/*.test.ts', 'examples/vitest/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
          // A group of its own, after unit and before integration: vitest runs the projects without file
          // parallelism and without a groupOrder (integration) in one sequential group after all others,
          // where api's files used to take turns with integration's. Some of those (podman, containerd)
          // leave processes that may still mount or unmount on the host after them, and a warm init is
          // used only if the mount table did not change since its clone: a change between two run()s
          // rightly makes the library clone afresh, and the warm tests then failed (CI, 2026-12-07).
          sequence: { groupOrder: 1 },
        },
      },
      {
        // Runs inside the qemu VM lane (`make test-vm`, vm/run.sh): a pure cgroup v2 guest under TCG, where
        // code runs 13-20x slower than on the host. Skips itself on hosts without pure cgroup v2.
        test: {
          name: 'vm',
          include: ['test/vm/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
