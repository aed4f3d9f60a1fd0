/**
 * Named crash points for the crash-safety tests: with S3LOGS_FAILPOINT=<name> in the environment the
 * process SIGKILLs itself when it reaches that point, exactly as a machine loss would. Inert otherwise
 * (one environment read per call, a handful of calls per key date).
 */
export type FailpointName =
  | 'listed'
  | 'parsed'
  | 'staged'
  // A shard's part recorded (its shard manifest), its shard lock not yet released: src/pipeline.ts.
  | 'shard-staged'
  | 'published'
  | 'before-manifest'
  | 'before-register'
  // A group publish (compaction, split): src/stages/group.ts.
  | 'group-before-outcome'
  | 'group-after-outcome'
  | 'group-between-manifests'
  | 'group-before-deletes'
  // A compaction with its new files staged, before the group publish; after it, before the catalog
  // follows: src/stages/compact.ts.
  | 'group-staged'
  | 'group-published';

export function failpoint(name: FailpointName): void {
  if (process.env.S3LOGS_FAILPOINT === name) process.kill(process.pid, 'SIGKILL');
}
