/**
 * AWS Lambda handler for an EventBridge Scheduler schedule (jobs/lambda/template.yaml): the nightly job
 * for small buckets, whose yesterday plus re-checked key dates convert well within Lambda's 15 minutes.
 * Settings come from the function's S3LOGS_* environment variables (or S3LOGS_CONFIG); the event is
 * ignored. Returns the run summary. Throws when a setting is invalid or a key date failed, so the
 * invocation counts as failed and Lambda's retries and on-failure destination see it.
 */
import type { RunSummary } from '../../src/commands/convert.js';
import { runNightly } from '../../src/jobs/nightly.js';

export async function handler(_event?: unknown): Promise<RunSummary> {
  const { exitCode, summary } = await runNightly([], process.env);
  if (exitCode === 0 && summary) return summary;
  const failed =
    summary?.keyDates.filter((k) => k.status === 'failed').map((k) => `${k.keyDate} (${k.error?.stage}: ${k.error?.message})`) ?? [];
  throw new Error(`s3logs nightly exited with ${exitCode}${failed.length ? `; failed key dates: ${failed.join('; ')}` : ''}`);
}
