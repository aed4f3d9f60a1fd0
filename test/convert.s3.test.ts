/**
 * S3-only end-to-end cases (the shared suite in test/convert.e2e.test.ts runs on S3 too): the CLI
 * converts between buckets on an s3rver it talks HTTP to (started here on 127.0.0.1), for both key
 * layouts with more than 1,000 objects on one key date, a 0-byte and a multi-MiB object, an output
 * larger than one multipart part, and injected faults.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { GetObjectCommand, GetObjectTaggingCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyDate, type GenerateOptions } from '../scripts/genLogs.js';
import { runCli } from './helpers/cli.js';
import { readTable, rowKey } from './helpers/duck.js';
import { startFaultProxy } from './helpers/faultProxy.js';
import { S3RVER_CREDENTIALS, startS3Server, type S3Server } from './helpers/s3Server.js';

const DATE_BASED_DAY = '2024-05-01';
const SIMPLE_DAY = '2024-05-02';
const FAULT_DAY = '2024-05-03';
const ENV = {
  AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
  AWS_REGION: 'us-east-1',
};

const generated = (layout: 'date-based' | 'simple', keyDate: string): GenerateOptions => ({
  seed: layout === 'simple' ? 21 : 22,
  keyDate,
  layout,
  prefix: layout === 'simple' ? 'simple/' : 'partitioned/',
  objects: 1050,
  minObjectBytes: 300,
  maxObjectBytes: 1500,
  lateFraction: 0.03,
  rejectFraction: 0.002,
});

describe('convert over S3', () => {
  let server: S3Server;
  let client: S3Client;
  let work: string;
  const truth = new Map<string, object[]>();

  const put = (bucket: string, key: string, body: Buffer) => client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

  async function downloadLake(prefix: string): Promise<{ dir: string; hashes: Map<string, string> }> {
    const dir = await mkdtemp(join(work, 'lake-'));
    const hashes = new Map<string, string>();
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: 'lake', Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }),
      );
      for (const o of page.Contents ?? []) {
        const body = Buffer.from(
          await (await client.send(new GetObjectCommand({ Bucket: 'lake', Key: o.Key! }))).Body!.transformToByteArray(),
        );
        const path = join(dir, ...o.Key!.slice(prefix.length).split('/'));
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, body);
        hashes.set(o.Key!, createHash('sha256').update(body).digest('hex'));
      }
      token = page.NextContinuationToken;
    } while (token);
    return { dir, hashes };
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 's3logs-s3e2e-'));
    server = await startS3Server({ buckets: ['raw-logs', 'lake'] });
    client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
    const limit = pLimit(16);
    for (const [layout, day] of [
      ['date-based', DATE_BASED_DAY],
      ['simple', SIMPLE_DAY],
    ] as const) {
      const rows: object[] = [];
      const uploads: Array<Promise<unknown>> = [];
      for (const o of generateKeyDate(generated(layout, day))) {
        rows.push(...o.rows);
        uploads.push(limit(() => put('raw-logs', o.key, o.body)));
      }
      await Promise.all(uploads);
      truth.set(day, rows);
    }
    // A 0-byte object and a multi-MiB one on the date-based key date.
    const big = [
      ...generateKeyDate({
        seed: 5,
        keyDate: DATE_BASED_DAY,
        layout: 'date-based',
        prefix: 'partitioned/',
        targetBytes: 3 * 1024 * 1024,
        minObjectBytes: 3 * 1024 * 1024,
        maxObjectBytes: 4 * 1024 * 1024,
        objects: 1,
      }),
    ][0]!;
    // The fault run's own source: retries are per request, so 250 objects meet every kind of fault
    // (the two runs above already page through more than 1,000 keys).
    const faultRows: object[] = [];
    await Promise.all(
      [...generateKeyDate({ ...generated('simple', FAULT_DAY), prefix: 'faulty-src/', objects: 250 })].map((o) => {
        faultRows.push(...o.rows);
        return limit(() => put('raw-logs', o.key, o.body));
      }),
    );
    truth.set(FAULT_DAY, faultRows);
    const emptyKey = big.key.replace(/-[0-9A-F]+$/, '-0000000000000000');
    await put('raw-logs', emptyKey, Buffer.alloc(0));
    await put('raw-logs', big.key.replace(/-([0-9A-F]+)$/, '-FFFFFFFFFFFFFFFF'), big.body);
    truth.get(DATE_BASED_DAY)!.push(...big.rows);
  }, 240_000);

  afterAll(async () => {
    client?.destroy();
    await server?.close();
    await rm(work, { recursive: true, force: true });
  });

  /** The first, middle and last raw object of the simple-layout day. */
  const sampleKeys = (): string[] => {
    const keys = [...generateKeyDate(generated('simple', SIMPLE_DAY))].map((o) => o.key);
    return [keys[0]!, keys[500]!, keys[keys.length - 1]!];
  };

  const convert = (source: string, dest: string, date: string, endpoint = server.endpoint, extra: string[] = []) =>
    runCli(['convert', '--source', source, '--dest', dest, '--date', date, '--endpoint-url', endpoint, '--json', '--quiet', ...extra], ENV);

  it('converts the date-based layout (>1000 objects, 0-byte and multi-MiB objects) into exactly the expected rows', async () => {
    const result = await convert('s3://raw-logs/partitioned/', 's3://lake/logs/', DATE_BASED_DAY);
    expect(result.stderr).toBe('');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.objects).toBe(1052);
    expect(summary.rows).toBe(truth.get(DATE_BASED_DAY)!.length);
    expect(summary.lines).toBe(summary.rows + summary.rejects);
    const { dir } = await downloadLake('logs/');
    expect((await readTable(dir)).map(rowKey).sort()).toEqual(
      truth
        .get(DATE_BASED_DAY)!
        .map((r) => rowKey(r))
        .sort(),
    );
  }, 180_000);

  it('converts the simple layout (>1000 objects on one key date); --tag-converted tags every raw object s3logs-converted=true', async () => {
    // Tagging rides on this run (converting 1,050 objects on s3rver takes ~15 s); the faulty run below tags nothing.
    const result = await convert('s3://raw-logs/simple/', 's3://lake/simple-out/', SIMPLE_DAY, server.endpoint, ['--tag-converted']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.objects).toBe(1050);
    const { dir } = await downloadLake('simple-out/');
    expect((await readTable(dir)).map(rowKey).sort()).toEqual(
      truth
        .get(SIMPLE_DAY)!
        .map((r) => rowKey(r))
        .sort(),
    );
    // For the safe-expiry rule (setup): every committed raw object carries the tag.
    for (const key of sampleKeys()) {
      const tags = await client.send(new GetObjectTaggingCommand({ Bucket: 'raw-logs', Key: key }));
      expect(tags.TagSet).toContainEqual({ Key: 's3logs-converted', Value: 'true' });
    }
  }, 180_000);

  it('finishes with exactly the rows of a clean run through 503 SlowDown, 500s, resets and cut bodies, and reports retries', async () => {
    const proxy = await startFaultProxy(server.endpoint, { slowDown: 0.05, serverError: 0.05, reset: 0.05, truncate: 0.05, seed: 7 });
    try {
      const result = await convert('s3://raw-logs/faulty-src/', 's3://lake/faulty/', FAULT_DAY, proxy.endpoint);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const summary = JSON.parse(result.stdout);
      expect(summary.retries).toBeGreaterThan(0);
      expect(Object.values(proxy.injected).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      // Without --tag-converted no raw object is tagged.
      expect(proxy.requests.filter((r) => /[?&]tagging\b/.test(r.url))).toEqual([]);
      const { dir } = await downloadLake('faulty/');
      expect((await readTable(dir)).map(rowKey).sort()).toEqual(
        truth
          .get(FAULT_DAY)!
          .map((r) => rowKey(r))
          .sort(),
      );
    } finally {
      await proxy.close();
    }
  }, 240_000);

  it('uploads an output larger than one multipart part in parts and reads it back intact', async () => {
    const day = '2024-05-04';
    const objects = [
      ...generateKeyDate({
        seed: 8,
        keyDate: day,
        layout: 'simple',
        prefix: 'big/',
        buckets: ['one-bucket'],
        lateFraction: 0,
        // Uncompressed Parquet (below) is about half the raw size: 14 MiB of logs make one ~7 MiB file.
        targetBytes: 14 * 1024 * 1024,
      }),
    ];
    const limit = pLimit(8);
    await Promise.all(objects.map((o) => limit(() => put('raw-logs', o.key, o.body))));
    // Through a fault-free proxy that records requests, to see the multipart upload on the wire.
    const proxy = await startFaultProxy(server.endpoint, { seed: 1 });
    let result;
    try {
      result = await convert('s3://raw-logs/big/', 's3://lake/big-out/', day, proxy.endpoint, [
        '--multipart-threshold-mb',
        '5',
        '--multipart-chunksize-mb',
        '5',
        '--memory-mb',
        '1024',
        '--file-mb',
        '1024',
        '--workers',
        '1',
        // The upload path is the same for every codec; without compression fewer raw logs make a file
        // larger than one part (zstd needed 40 MiB of logs for it).
        '--compression',
        'none',
      ]);
    } finally {
      await proxy.close();
    }
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const parts = proxy.requests.filter((r) => r.method === 'PUT' && /[?&]partNumber=/.test(r.url));
    expect(parts.length).toBeGreaterThanOrEqual(2);
    expect(proxy.requests.some((r) => r.method === 'POST' && /[?&]uploads\b/.test(r.url))).toBe(true);
    const page = await client.send(new ListObjectsV2Command({ Bucket: 'lake', Prefix: 'big-out/bucket=' }));
    const files = page.Contents ?? [];
    expect(files).toHaveLength(1);
    expect(files[0]!.Size!).toBeGreaterThan(5 * 1024 * 1024);
    const { dir } = await downloadLake('big-out/');
    expect((await readTable(dir)).map(rowKey).sort()).toEqual(
      objects
        .flatMap((o) => o.rows)
        .map((r) => rowKey(r))
        .sort(),
    );
  }, 240_000);
});
