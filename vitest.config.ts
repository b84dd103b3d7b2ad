import { defineConfig } from 'vitest/config';

// Two tiers with clear homes: unit/interop tests beside each package and
// service, scenario tests that bring up the whole network. Scenario files run
// one at a time (`--no-file-parallelism` in package.json): each brings up a
// whole network on a 2-core machine.
export default defineConfig({
  test: {
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
          testTimeout: 240_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
