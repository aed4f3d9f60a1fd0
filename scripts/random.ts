/** The generator's seeded random source lives in src/demo/random.ts; re-exported for tests and benchmarks. */
export * from '../src/demo/random.js';
