/**
 * Lost answers on S3: the write happened, the client never heard, the SDK retried. Through a proxy that
 * plays S3's conditional writes (s3rver ignores them) and drops the answer to one chosen request, a run
 * (whole key date and sharded) must still publish exactly the rows of a clean run, leave no lock,
 * journal or staging behind, and exit 0 — at every write the publish protocol makes. The points are
 * named by hand; the coverage test records clean runs and fails on a write none of them names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Client, PutObjectCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { generateKeyDate } from '../scripts/genLogs.js';
import { runCli } from './helpers/cli.js';
import { readTable, rowKey } from './helpers/duck.js';
import { startFaultProxy, type RecordedRequest } from './helpers/faultProxy.js';
import { S3RVER_CREDENTIALS, startS3Server, type S3Server } from './helpers/s3Server.js';

const KEY_DATE = '2024-07-07';
const objects = [
  ...generateKeyDate({
    seed: 61,
    keyDate: KEY_DATE,
    layout: 'simple',
    prefix: 'logs/',
    objects: 8,
    maxObjectBytes: 32 * 1024,
    lateFraction: 0.05,
    rejectFraction: 0.004,
  }),
];
const truth = objects.flatMap((o) => o.rows.map((r) => rowKey(r))).sort();

const put = (r: RecordedRequest) => r.method === 'PUT' && r.headers['x-amz-copy-source'] === undefined;
/** The request whose answer is lost, by what it writes. */
const POINTS: ReadonlyArray<readonly [string, (r: RecordedRequest) => boolean | undefined, boolean]> = [
  ['the lock create', (r) => put(r) && r.url.includes('/lock.json') && r.headers['if-none-match'] === '*', false],
  ['a lock renewal', (r) => put(r) && r.url.includes('/lock.json') && r.headers['if-match'] !== undefined, false],
  ['a staged file', (r) => put(r) && r.url.includes('.staged'), false],
  ['the journal', (r) => put(r) && r.url.includes('/publish-'), false],
  ['a move (copy)', (r) => r.method === 'PUT' && r.headers['x-amz-copy-source'] !== undefined, false],
  ['the manifest', (r) => put(r) && r.url.includes('/manifest.json'), false],
  ['the staging delete', (r) => r.deletes?.some((k) => k.includes('/_s3logs/staging/')), false],
  ['the registered marker', (r) => put(r) && r.url.includes('/registered.json'), false],
  ['the write check probe', (r) => put(r) && r.url.includes('/_s3logs/doctor-probe-'), false],
  ['the write check delete', (r) => r.deletes?.every((k) => k.includes('/_s3logs/doctor-probe-')), false],
  ['the lake catalog', (r) => put(r) && r.url.includes('/_s3logs/catalog.json'), false],
  ['the journal delete', (r) => r.deletes?.some((k) => /\/publish-[^/]+\.json$/.test(k)), false],
  ['the lock release', (r) => r.deletes?.some((k) => k.endsWith('/lock.json')), false],
  ['a shard lock create', (r) => put(r) && r.url.includes('/shards/lock-') && r.headers['if-none-match'] === '*', true],
  ['a shard manifest', (r) => put(r) && /\/shards\/s\d+of\d+\.json/.test(r.url), true],
  ['a shard lock update', (r) => put(r) && r.url.includes('/shards/lock-') && r.headers['if-match'] !== undefined, true],
  ['a shard lock release', (r) => r.deletes?.some((k) => k.includes('/shards/lock-')), true],
  ['the consumed shard manifests delete', (r) => r.deletes?.some((k) => /\/shards\/s\d+of\d+\.json$/.test(k)), true],
  ['the commit lock create (last shard)', (r) => put(r) && r.url.includes('/lock.json') && r.headers['if-none-match'] === '*', true],
  ['the commit manifest (last shard)', (r) => put(r) && r.url.includes('/manifest.json'), true],
];

describe('lost answers on S3', () => {
  let server: S3Server;
  let client: S3Client;
  let work: string;

  beforeAll(async () => {
    server = await startS3Server({ buckets: ['raw', 'lake'] });
    client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
    for (const o of objects) await client.send(new PutObjectCommand({ Bucket: 'raw', Key: o.key, Body: o.body }));
    work = await mkdtemp(join(tmpdir(), 's3logs-lost-'));
  }, 60_000);
  afterAll(async () => {
    client?.destroy();
    await server?.close();
    await rm(work, { recursive: true, force: true });
  });

  /** The lake under a prefix, downloaded for DuckDB; keys besides the table files listed. */
  async function lake(prefix: string): Promise<{ rows: string[]; leftovers: string[] }> {
    const dir = join(work, prefix);
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: 'lake', Prefix: `${prefix}/`, ...(token ? { ContinuationToken: token } : {}) }),
      );
      for (const o of page.Contents ?? []) keys.push(o.Key!.slice(prefix.length + 1));
      token = page.NextContinuationToken;
    } while (token);
    for (const key of keys.filter((k) => k.endsWith('.parquet'))) {
      const body = await (
        await client.send(new GetObjectCommand({ Bucket: 'lake', Key: `${prefix}/${key}` }))
      ).Body!.transformToByteArray();
      await mkdir(dirname(join(dir, key)), { recursive: true });
      await writeFile(join(dir, key), body);
    }
    const rows = keys.some((k) => k.endsWith('.parquet')) ? (await readTable(dir)).map(rowKey).sort() : [];
    return {
      rows,
      leftovers: keys.filter(
        (k) => k.includes('/staging/') || /publish-[^/]+\.json$/.test(k) || /lock[^/]*\.json$/.test(k) || /\/shards\//.test(k),
      ),
    };
  }

  /** A whole-key-date run, or both shards of a round, through `endpoint` into s3://lake/<prefix>/; each must exit 0. */
  async function convertRound(endpoint: string, prefix: string, sharded: boolean) {
    const run = (...extra: string[]) =>
      runCli(
        [
          'convert',
          '--source',
          's3://raw/logs/',
          '--dest',
          `s3://lake/${prefix}/`,
          '--date',
          KEY_DATE,
          '--endpoint-url',
          endpoint,
          '--json',
          ...extra,
        ],
        {
          AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
          AWS_REGION: 'us-east-1',
          // Renewals every 0.5 s, so one happens during the run.
          S3LOGS_LOCK_LEASE_SECONDS: '2',
        },
      );
    const results = sharded ? [await run('--shard', '1/2'), await run('--shard', '2/2')] : [await run()];
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    return results;
  }

  it.each(POINTS)(
    'the answer to %s is lost: the run still publishes every row once',
    async (name, match, sharded) => {
      let lost = false;
      const proxy = await startFaultProxy(server.endpoint, {
        conditionalWrites: true,
        // Only the publish lock and the manifest of a sharded round are the last shard's commit's.
        loseAnswer: (r) => {
          if (lost || !match(r)) return false;
          lost = true;
          return true;
        },
      });
      const prefix = name.replace(/\W+/g, '-');
      try {
        const results = await convertRound(proxy.endpoint, prefix, sharded);
        expect(JSON.parse(results[results.length - 1]!.stdout).keyDates[0].status).toBe('converted');
        expect(proxy.injected.lostAnswer, `no ${name} was seen`).toBe(1);
        const got = await lake(prefix);
        expect(got.rows.length).toBe(truth.length);
        expect(got.rows).toEqual(truth);
        expect(got.leftovers).toEqual([]);
      } finally {
        await proxy.close();
      }
    },
    60_000,
  );

  // The points above are written by hand: a write the protocol makes that none of them names would
  // never lose its answer in a test. Every write of a clean run (whole key date, and a sharded round)
  // must be one of them.
  it.each([false, true])(
    'every write of a clean run (sharded: %s) is one of the points whose answer is lost',
    async (sharded) => {
      const proxy = await startFaultProxy(server.endpoint, { conditionalWrites: true });
      try {
        await convertRound(proxy.endpoint, `clean-${sharded ? 'sharded' : 'whole'}`, sharded);
        const writes = proxy.requests.filter((r) => r.method === 'PUT' || r.method === 'POST' || r.method === 'DELETE');
        expect(writes.length).toBeGreaterThan(5);
        // A sharded round's writes of the kinds a whole run makes too are covered by the whole run's points.
        const unnamed = writes.filter((r) => !POINTS.some(([, match]) => match(r)));
        expect(unnamed.map((r) => `${r.method} ${r.url}${r.deletes ? ` ${r.deletes.join(' ')}` : ''}`)).toEqual([]);
        if (!sharded) {
          // Files are put in place by server-side copies; their staged keys go in one DeleteObjects at the
          // end (Storage.place), not one request per file.
          const copies = writes.filter((r) => r.headers['x-amz-copy-source'] !== undefined);
          // First attempts only: s3rver now and then answers a DeleteObjects with a 500 that the SDK retries.
          const stagingDeletes = writes.filter(
            (r) => r.deletes?.some((k) => k.includes('/_s3logs/staging/')) && String(r.headers['amz-sdk-request']).startsWith('attempt=1;'),
          );
          expect(copies.length).toBeGreaterThan(2);
          expect(stagingDeletes).toHaveLength(1);
          expect(stagingDeletes[0]!.deletes!.length).toBeGreaterThanOrEqual(copies.length);
        }
      } finally {
        await proxy.close();
      }
    },
    60_000,
  );
});
