/**
 * `s3logs commit`: publish a key date converted by N shards (`convert --shard i/N`) once all shards have
 * staged their part. Shards normally do this themselves (the last one to finish commits); this command
 * is for schedulers that run a separate step after the array job, and for finishing a round whose last
 * shard could not take the publish lock. It also finishes a publish a crash interrupted.
 */
import { rangeConvertConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { FlagValues } from '../flags/read.js';
import { FLAGS } from '../flags/table.js';
import { commitKeyDate } from '../pipeline.js';
import type { KeyDateSummary } from '../summary.js';
import { exitCode, formatSummary, openRun, summarize } from './convert.js';

export async function runCommit(argv: string[]): Promise<number> {
  // Here --shards is only the count the shards ran with, not this process's slice (commit's own entry
  // in the flag table); a scheduler's array index in the environment is not read.
  const values = FlagValues.fromArgv('commit', argv);
  const config = rangeConvertConfig(values, {});
  if (!values.given(FLAGS.commitShards))
    throw new ConfigError('--shards N (the N the shards ran with, at least 2) is required', '--shards');
  const shards = values.optional(FLAGS.commitShards)!;
  const started = performance.now();
  const { settings, close } = await openRun(config);
  const results: KeyDateSummary[] = [];
  try {
    for (const keyDate of config.keyDates) {
      const summary = await commitKeyDate(settings, keyDate, shards);
      if (summary.status === 'staged') {
        // A commit that cannot publish has failed: say which shards to run.
        summary.status = 'failed';
        summary.error = {
          stage: 'commit',
          code: 'data',
          message: `shard${summary.waitingFor!.length > 1 ? 's' : ''} ${summary.waitingFor!.join(', ')} of ${shards} ha${summary.waitingFor!.length > 1 ? 've' : 's'} not staged ${keyDate}; run ${summary.waitingFor!.map((i) => `\`s3logs convert --shard ${i}/${shards} …\``).join(', ')} (the last one publishes)`,
        };
      }
      results.push(summary);
    }
  } finally {
    await close();
  }
  const run = summarize(results, settings, started);
  if (config.json) process.stdout.write(JSON.stringify(run) + '\n');
  process.stderr.write(formatSummary(run, config, config.quiet));
  return exitCode(run);
}
