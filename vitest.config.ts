import { defineConfig } from 'vitest/config';

// Integration tests start real brokers and databases on loopback; they get time, and run one
// file at a time per worker so two suites never fight over a port or the machine's two cores.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
    reporters: ['default'],
  },
});
