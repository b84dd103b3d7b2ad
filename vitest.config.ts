import { defineConfig } from 'vitest/config';

// Two tiers with clear homes: unit/interop tests beside each package and
// service, scenario tests that bring up whole networks. Scenario files run
// one at a time (`--no-file-parallelism` in package.json): each brings up
// networks on a 2-core machine. Under CI (CI set) every run also writes JUnit
// XML (package.json names the file per tier, under runs/junit/).
export default defineConfig({
  test: {
    reporters: process.env.CI ? ['default', 'junit'] : ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'scenarios',
          include: ['test/scenarios/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
