import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Files in parallel across forks, tests inside a file in sequence. Many tests wait on child
    // processes (the CLI, s3rver) or on lock leases: three forks kept both cores busy and took the
    // suite from 442 s to 296 s on two cores (vitest's default here is two).
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 3,
  },
});
