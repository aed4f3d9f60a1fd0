/**
 * `s3logs commit`: publish a key date converted by N shards (`convert --shard i/N`) once all shards have
 * staged their part. Shards normally do this themselves (the last one to finish commits); this command
 * is for schedulers that run a separate step after the array job.
 */
import { parseConvertConfig } from '../config.js';
import { ConfigError, errorMessage } from '../errors.js';
import { newSummary, type KeyDateSummary } from '../pipeline.js';
import { commitShards } from '../shards.js';
import { formatSummary, openRun, summarize } from './convert.js';

export async function runCommit(argv: string[]): Promise<number> {
  // Here --shards is only the count the shards ran with, not this process's slice.
  const at = argv.indexOf('--shards');
  const shards = at === -1 ? NaN : Number(argv[at + 1]);
  const config = parseConvertConfig(at === -1 ? argv : [...argv.slice(0, at), ...argv.slice(at + 2)], {}, 'commit');
  if (!(shards >= 2)) throw new ConfigError('--shards N (the N the shards ran with, at least 2) is required', '--shards');
  const started = performance.now();
  const { settings, close } = await openRun(config);
  const results: KeyDateSummary[] = [];
  try {
    for (const keyDate of config.keyDates) {
      const summary = newSummary(keyDate);
      try {
        const committed = await commitShards(settings, keyDate, shards);
        if (committed) Object.assign(summary, committed.outcome);
        else {
          summary.status = 'failed';
          summary.error = { stage: 'commit', message: `not all ${shards} shards have staged their part (or it was already committed); run the missing shards` };
        }
      } catch (error) {
        summary.status = 'failed';
        summary.error = { stage: 'commit', message: errorMessage(error) };
      }
      results.push(summary);
    }
  } finally {
    await close();
  }
  const run = summarize(results, settings, started);
  if (config.json) process.stdout.write(JSON.stringify(run) + '\n');
  if (!config.quiet) process.stderr.write(formatSummary(run, config));
  return run.ok ? 0 : 1;
}
