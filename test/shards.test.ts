/**
 * Scale-out: N=3 worker processes on one key date give exactly the rows of N=1; the last to finish
 * publishes; the scheduler's array index works; `s3logs commit` publishes when shards do not.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeKeyDateToDirectory } from '../scripts/genLogs.js';
import { parseShard } from '../src/config.js';
import { shardTag } from '../src/shards.js';
import { runCli } from './helpers/cli.js';
import { readTable, rowKey } from './helpers/duck.js';

const KEY_DATE = '2024-10-10';

describe('sharded conversion', () => {
  let work: string;
  const source = () => join(work, 'raw', 'logs/');
  const convert = (dest: string, extra: string[], env: Record<string, string> = {}) =>
    runCli(['convert', '--source', source(), '--dest', join(work, dest), '--date', KEY_DATE, '--json', '--quiet', ...extra], env);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 's3logs-shards-'));
    await writeKeyDateToDirectory(join(work, 'raw'), {
      seed: 5,
      keyDate: KEY_DATE,
      layout: 'date-based',
      prefix: 'logs/',
      objects: 30,
      maxObjectBytes: 64 * 1024,
      lateFraction: 0.05,
      rejectFraction: 0.002,
    });
    expect((await convert('single', [])).code).toBe(0);
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('three workers at once give exactly the rows of one, published once by the last to finish', async () => {
    const results = await Promise.all([1, 2, 3].map((i) => convert('sharded', ['--shard', `${i}/3`])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const days = results.map((r) => JSON.parse(r.stdout).keyDates[0]);
    // One shard publishes the round. A shard that finished before the round was complete says 'staged';
    // one that finished together with the publisher waited for its lock and says who published it.
    expect(days.filter((d) => d.status === 'converted' && d.filesWritten > 0)).toHaveLength(1);
    for (const d of days.filter((x) => !(x.status === 'converted' && x.filesWritten > 0))) {
      if (d.status === 'staged') expect(d.waitingFor.length).toBeGreaterThan(0);
      else
        expect(d).toMatchObject({
          status: 'converted',
          filesWritten: 0,
          note: expect.stringMatching(/^published with the other shards by run \S+ \(commit\)/),
        });
    }
    expect((await readTable(join(work, 'sharded'))).map(rowKey).sort()).toEqual((await readTable(join(work, 'single'))).map(rowKey).sort());
    const counts = results.map((r) => JSON.parse(r.stdout)).reduce((sum, s) => sum + s.lines, 0);
    expect(counts).toBe(JSON.parse((await convert('single', [])).stdout).lines);
  });

  it('takes the shard index from AWS Batch and Kubernetes Indexed Jobs; s3logs commit publishes', async () => {
    const env = (i: number): Record<string, string> =>
      i % 2 === 0 ? { AWS_BATCH_JOB_ARRAY_INDEX: String(i) } : { JOB_COMPLETION_INDEX: String(i) };
    // Shards one after the other: a commit after only two of them must refuse; the third then publishes.
    expect((await convert('indexed', ['--shards', '3'], env(0))).code).toBe(0);
    expect((await convert('indexed', ['--shards', '3'], env(1))).code).toBe(0);
    const early = await runCli([
      'commit',
      '--source',
      source(),
      '--dest',
      join(work, 'indexed'),
      '--date',
      KEY_DATE,
      '--shards',
      '3',
      '--quiet',
    ]);
    expect(early.code).toBe(1);
    const last = await convert('indexed', ['--shards', '3'], env(2));
    expect(JSON.parse(last.stdout).keyDates[0].status).toBe('converted');
    expect((await readTable(join(work, 'indexed'))).map(rowKey).sort()).toEqual((await readTable(join(work, 'single'))).map(rowKey).sort());
  });

  it('parses shard flags strictly', () => {
    expect(parseShard('2/8', undefined, {})).toEqual({ index: 1, count: 8 });
    expect(parseShard('1/1', undefined, {})).toBeUndefined();
    expect(parseShard(undefined, '4', { JOB_COMPLETION_INDEX: '3' })).toEqual({ index: 3, count: 4 });
    expect(() => parseShard(undefined, '4', { AWS_BATCH_JOB_ARRAY_INDEX: '4' })).toThrow(/array index 4 is not below --shards 4/);
    expect(() => parseShard(undefined, '4', {})).toThrow(/needs the shard index/);
    expect(() => parseShard('0/3', undefined, {})).toThrow(/--shard must be i\/N/);
    expect(shardTag({ index: 1, count: 12 })).toBe('s02of12');
  });
});
