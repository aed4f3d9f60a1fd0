/**
 * Lost answers inside the group publish (src/stages/group.ts) on S3: the write happened, the client
 * never heard, the SDK retried. The technique of lostAnswers.test.ts (s3rver behind the proxy that plays
 * S3's conditional writes and drops one chosen answer), applied to `s3logs compact` and to a convert that
 * must first split a compacted file.
 *
 * The requests are not listed here: a clean run of each is recorded, and every kind of write its group
 * phase makes (lock creates and releases, staged files, journal copies, outcome.json, the moves'
 * copies and deletes, the manifests, the deletes of old files and of the copies) gets its answer dropped
 * once, in a run of its own on a fresh copy of the lake; a write the group publish gains later is covered
 * without a change here. A kind is the written key with run ids, content hashes and dates made generic
 * (the members of a group write the same kinds through the same code), plus the condition (create,
 * replace, copy, delete); a DeleteObjects is told apart by the keys it names. The first request of each
 * kind inside the group phase is the one dropped, found in a run by its position among the run's requests
 * of that kind: one member's manifest stands for the next. Lock renewals are left out: a holder renews
 * by time (when its lease is past its first eighth), so whether a run makes one depends on its speed;
 * a renewal's lost answer is lostAnswers.test.ts's (a convert with 2 s leases) and lock.test.ts's.
 *
 * Each such run must exit 0, or fail with a meaningful code (1, or 75 for a lock) and message and then
 * succeed when run again; afterwards the rows are exactly those of the clean run (DuckDB, by row key and
 * content), reject lines still add up, no lock, journal copy or staging is left, and every partition has
 * the clean run's number of files.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CopyObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyDate, type GeneratedObject } from '../scripts/genLogs.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { readTable, rowKey } from './helpers/duck.js';
import { startFaultProxy, type FaultProxy, type RecordedRequest } from './helpers/faultProxy.js';
import { S3RVER_CREDENTIALS, startS3Server, type S3Server } from './helpers/s3Server.js';

const K1 = '2024-07-07';
const K2 = '2024-07-08';
/** Lossy runs at a time: each is a CLI process mostly waiting on s3rver, so a few overlap well on two cores. */
const PARALLEL = 3;

// Few, small objects of one source bucket: late records put rows of both key dates into a partition.
const generate = (seed: number, keyDate: string): GeneratedObject[] => [
  ...generateKeyDate({
    seed,
    keyDate,
    layout: 'simple',
    prefix: 'logs/',
    buckets: ['logs-b1'],
    objects: 3,
    minObjectBytes: 8 * 1024,
    maxObjectBytes: 16 * 1024,
    lateFraction: 0.3,
    rejectFraction: 0.01,
  }),
];
const objects = [...generate(71, K1), ...generate(72, K2)];
const truth = objects.flatMap((o) => o.rows.map((r) => rowKey(r))).sort();
const truthRejects = objects.reduce((n, o) => n + o.rejects.length, 0);

const ENV = {
  AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
  AWS_REGION: 'us-east-1',
};

/** A write request through the proxy: the lake prefix it writes under, the kind of write, the generic key(s). */
interface Write {
  readonly prefix: string;
  /** e.g. `create _s3logs/groups/<run>/outcome.json`, `delete bucket=b/dt=d/part-2024-07-07-<hash>-00000.parquet`. */
  readonly kind: string;
  /** The key(s) as written (for telling the group phase's bounds). */
  readonly keys: readonly string[];
}

/**
 * What makes writes of one kind: the key with run ids and content hashes (new every run) and dates made
 * generic — the members of a group write the same kinds, one after the other, through the same code.
 */
const generic = (key: string): string =>
  key
    .replace(/\d{8}T\d{9}Z-[0-9a-f]{8}/g, '<run>')
    .replace(/\d{4}-\d{2}-\d{2}/g, '<date>')
    .replace(/-[a-z]?[0-9a-f]{8}(?=[-.])/g, '-<hash>');

function writeOf(r: RecordedRequest): Write | undefined {
  const path = new URL(r.url, 'http://proxy').pathname;
  let keys: string[];
  let condition: string;
  if (r.method === 'POST' && r.deletes) {
    keys = [...r.deletes];
    condition = 'delete';
  } else if (r.method === 'PUT' || r.method === 'DELETE') {
    if (!path.startsWith('/lake/')) return undefined;
    keys = [decodeURIComponent(path.slice('/lake/'.length))];
    condition =
      r.method === 'DELETE'
        ? 'delete'
        : r.headers['x-amz-copy-source'] !== undefined
          ? 'copy'
          : r.headers['if-none-match'] !== undefined
            ? 'create'
            : r.headers['if-match'] !== undefined
              ? 'replace'
              : 'put';
  } else return undefined;
  if (keys.length === 0) return undefined;
  const prefix = keys[0]!.slice(0, keys[0]!.indexOf('/'));
  const inLake = keys.map((k) => k.slice(prefix.length + 1));
  return { prefix, kind: `${condition} ${[...new Set(inLake.map(generic))].sort().join(' ')}`, keys: inLake };
}

/** A request to lose: the `occurrence`-th write of `kind` (1-based) in a run. */
interface Point {
  readonly kind: string;
  readonly occurrence: number;
}

/** The first write of each kind within [from, to] of a run's writes, with its position among the run's writes of that kind. */
/** A lock renewal: made by time, not by the step a run is at (see above). */
const RENEWAL = /^replace _s3logs\/keydates\/<date>\/lock\.json$/;

function pointsOf(writes: readonly Write[], from: number, to: number): Point[] {
  const counted = new Map<string, number>();
  const points = new Map<string, Point>();
  writes.forEach((w, i) => {
    const occurrence = (counted.get(w.kind) ?? 0) + 1;
    counted.set(w.kind, occurrence);
    if (i >= from && i <= to && !points.has(w.kind) && !RENEWAL.test(w.kind)) points.set(w.kind, { kind: w.kind, occurrence });
  });
  return [...points.values()];
}

describe('lost answers inside a group publish on S3', () => {
  let server: S3Server;
  let client: S3Client;
  let proxy: FaultProxy;
  let work: string;
  /** Per lake prefix: the write whose answer the proxy drops, and whether it did. */
  const plans = new Map<string, { point: Point; seen: number; lost: boolean }>();
  /** The dt partition holding files of both key dates (the one compacted). */
  let dt: string;
  /** The writes of a clean compaction of the converted lake, which is left under `compacted/`. */
  let compactWrites: Write[];

  const run = (args: string[]): Promise<CliResult> => runCli([...args, '--endpoint-url', proxy.endpoint, '--json', '--quiet'], ENV);
  const compact = (prefix: string) =>
    run(['compact', '--dest', `s3://lake/${prefix}/`, '--from', dt, '--to', dt, '--target-file-mb', '0.03', '--row-group-rows', '50']);
  // --catalog none: no catalog records, so compaction has none to catch up; every write of a compaction
  // is its group publish's (the catalog's lost answers are convert's: lostAnswers.test.ts).
  const convert = (prefix: string, keyDate: string, ...extra: string[]) =>
    run([
      'convert',
      '--source',
      's3://raw/logs/',
      '--dest',
      `s3://lake/${prefix}/`,
      '--date',
      keyDate,
      '--file-rows',
      '40',
      '--workers',
      '0',
      '--catalog',
      'none',
      ...extra,
    ]);

  async function keysUnder(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: 'lake', Prefix: `${prefix}/`, ...(token ? { ContinuationToken: token } : {}) }),
      );
      for (const o of page.Contents ?? []) keys.push(o.Key!.slice(prefix.length + 1));
      token = page.NextContinuationToken;
    } while (token);
    return keys.sort();
  }

  /** A copy of a lake under a new prefix, made around the proxy (nothing recorded, nothing lost). */
  async function copyLake(from: string, to: string): Promise<string> {
    const limit = pLimit(8);
    await Promise.all(
      (await keysUnder(from)).map((key) =>
        limit(() =>
          client.send(
            new CopyObjectCommand({
              Bucket: 'lake',
              Key: `${to}/${key}`,
              CopySource: `lake/${`${from}/${key}`
                .split('/')
                .map((part) => encodeURIComponent(part).replace(/%3D/g, '='))
                .join('/')}`,
            }),
          ),
        ),
      ),
    );
    return to;
  }

  /** Rows (DuckDB), reject lines, Parquet files per partition, and what an interrupted publish may leave. */
  async function lake(prefix: string) {
    const keys = await keysUnder(prefix);
    const dir = await mkdtemp(join(work, `${prefix}-`));
    let rejects = 0;
    for (const key of keys.filter((k) => k.endsWith('.parquet') || k.endsWith('.jsonl'))) {
      const body = await (
        await client.send(new GetObjectCommand({ Bucket: 'lake', Key: `${prefix}/${key}` }))
      ).Body!.transformToByteArray();
      if (key.endsWith('.jsonl')) rejects += Buffer.from(body).toString('utf8').split('\n').filter(Boolean).length;
      else {
        await mkdir(dirname(join(dir, key)), { recursive: true });
        await writeFile(join(dir, key), body);
      }
    }
    const rows = (await readTable(dir)).map(rowKey).sort();
    await rm(dir, { recursive: true, force: true });
    const files = new Map<string, number>();
    for (const key of keys.filter((k) => k.endsWith('.parquet'))) {
      const partition = key.slice(0, key.lastIndexOf('/'));
      files.set(partition, (files.get(partition) ?? 0) + 1);
    }
    const leftovers = keys.filter(
      (k) =>
        k.includes('/staging/') ||
        k.endsWith('.staged') ||
        /publish-[^/]+\.json$/.test(k) ||
        /lock[^/]*\.json$/.test(k) ||
        k.includes('/shards/'),
    );
    return { rows, rejects, files: Object.fromEntries([...files].sort()), leftovers };
  }

  /** Runs `step` on the proxy's requests and returns the writes it made under `prefix`. */
  async function recorded(prefix: string, step: () => Promise<CliResult>): Promise<Write[]> {
    const first = proxy.requests.length;
    const result = await step();
    expect(result.code, result.stderr).toBe(0);
    return proxy.requests
      .slice(first)
      .map(writeOf)
      .filter((w): w is Write => w?.prefix === prefix);
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 's3logs-lost-group-'));
    server = await startS3Server({ buckets: ['raw', 'lake'] });
    client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
    for (const o of objects) await client.send(new PutObjectCommand({ Bucket: 'raw', Key: o.key, Body: o.body }));
    proxy = await startFaultProxy(server.endpoint, {
      conditionalWrites: true,
      loseAnswer: (r) => {
        const write = writeOf(r);
        const plan = write && plans.get(write.prefix);
        if (!plan || plan.lost || write.kind !== plan.point.kind) return false;
        plan.lost = ++plan.seen === plan.point.occurrence;
        return plan.lost;
      },
    });
    const converted = await convert('converted', K1, '--to', K2);
    expect(converted.code, converted.stderr).toBe(0);
    // The partition both key dates wrote to: the one compaction makes a group of.
    const partitions = new Map<string, Set<string>>();
    for (const key of await keysUnder('converted')) {
      const m = /^bucket=[^/]+\/dt=([\d-]+)\/part-(\d{4}-\d{2}-\d{2})-/.exec(key);
      if (m) partitions.set(m[1]!, (partitions.get(m[1]!) ?? new Set()).add(m[2]!));
    }
    const shared = [...partitions].filter(([, keyDates]) => keyDates.size === 2).map(([d]) => d);
    expect(shared.length, 'no partition holds rows of both key dates').toBeGreaterThan(0);
    dt = shared[0]!;
    // A clean compaction, recorded: the compaction's points, and the compacted lake the split starts from.
    await copyLake('converted', 'compacted');
    compactWrites = await recorded('compacted', () => compact('compacted'));
  }, 120_000);
  afterAll(async () => {
    client?.destroy();
    await proxy?.close();
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /**
   * Loses each point's answer in a run of `step` on a fresh copy of `base`; a failed run is run again
   * without losses. Returns what went wrong, by point (all points are tried, whatever fails).
   */
  async function loseEach(
    name: string,
    base: string,
    points: readonly Point[],
    step: (prefix: string) => Promise<CliResult>,
    clean: Awaited<ReturnType<typeof lake>>,
  ): Promise<string[]> {
    const limit = pLimit(PARALLEL);
    const problems: string[] = [];
    await Promise.all(
      points.map((point, i) =>
        limit(async () => {
          const prefix = await copyLake(base, `${name}-${i}`);
          const plan = { point, seen: 0, lost: false };
          plans.set(prefix, plan);
          const what = `the answer to ${point.kind} (#${point.occurrence}) lost`;
          try {
            const first = await step(prefix);
            expect(plan.lost, `${what}: no such request was made`).toBe(true);
            if (first.code !== 0) {
              expect(first.signal, what).toBeNull();
              expect([1, 75], `${what}: exit ${first.code}: ${first.stderr}`).toContain(first.code);
              expect(first.stderr.trim(), `${what}: exit ${first.code} without a message`).not.toBe('');
              expect(first.stderr, `${what}: exit ${first.code} with a stack trace`).not.toMatch(/\n\s+at \S/);
              const again = await step(prefix);
              expect(again.code, `${what}, then run again: ${again.stderr}`).toBe(0);
            }
            const got = await lake(prefix);
            expect(got.rows.length, `${what}: rows`).toBe(clean.rows.length);
            expect(got.rows, `${what}: rows`).toEqual(clean.rows);
            expect(got.rejects, `${what}: reject lines`).toBe(clean.rejects);
            expect(got.leftovers, `${what}: left behind`).toEqual([]);
            expect(got.files, `${what}: files per partition`).toEqual(clean.files);
          } catch (error) {
            problems.push((error as Error).message);
          }
        }),
      ),
    );
    return problems;
  }

  /** Kinds every group publish writes: a recording that lacks one no longer sees the group phase. */
  const GROUP_KINDS = [
    /^create _s3logs\/keydates\/<date>\/lock\.json$/,
    /^put _s3logs\/groups\/<run>\/staging\/bucket=.*\.staged$/,
    /^put _s3logs\/keydates\/<date>\/publish-<run>\.json$/,
    /^create _s3logs\/groups\/<run>\/outcome\.json$/,
    /^copy bucket=/,
    /^delete _s3logs\/groups\/<run>\/staging\//,
    /^replace _s3logs\/keydates\/<date>\/manifest\.json$/,
    /^delete bucket=/,
    /^delete _s3logs\/keydates\/<date>\/publish-<run>\.json$/,
    /^delete _s3logs\/keydates\/<date>\/lock\.json$/,
  ];
  const expectGroupKinds = (points: readonly Point[]) => {
    const kinds = points.map((p) => p.kind);
    for (const kind of GROUP_KINDS)
      expect(
        kinds.some((k) => kind.test(k)),
        `${kind} among\n${kinds.join('\n')}`,
      ).toBe(true);
  };

  it('compact: each kind of write of the group publish, its answer lost once', async () => {
    const clean = await lake('compacted');
    expect(clean.rows).toEqual(truth);
    expect(clean.rejects).toBe(truthRejects);
    expect(clean.files[`bucket=logs-b1/dt=${dt}`]).toBe(1);
    // Compaction of one partition is one group publish: every write of the run is the group's.
    const points = pointsOf(compactWrites, 0, compactWrites.length - 1);
    expectGroupKinds(points);
    expect(await loseEach('compact', 'converted', points, compact, clean)).toEqual([]);
  }, 300_000);

  it('a convert that splits a compacted file: each kind of write of the split, its answer lost once', async () => {
    // K2 converted again into the compacted lake must first split the file it shares with K1.
    const base = 'compacted';
    const keys = await keysUnder(base);
    expect(keys.filter((k) => k.startsWith(`bucket=logs-b1/dt=${dt}/`) && k.endsWith('.parquet'))).toHaveLength(1);
    await copyLake(base, 'split-clean');
    const writes = await recorded('split-clean', () => convert('split-clean', K2));
    const clean = await lake('split-clean');
    expect(clean.rows).toEqual(truth);
    expect(clean.rejects).toBe(truthRejects);
    // The split's group phase: from taking K1's lock (K2's is the convert's own) to releasing it.
    const otherLock = `_s3logs/keydates/${K1}/lock.json`;
    const from = writes.findIndex((w) => w.kind.startsWith('create ') && w.keys.includes(otherLock));
    const to = writes.findLastIndex((w) => w.kind.startsWith('delete ') && w.keys.includes(otherLock));
    expect(from, 'the convert never took the other member key date lock: nothing was split').toBeGreaterThanOrEqual(0);
    expect(to).toBeGreaterThan(from);
    const points = pointsOf(writes, from, to);
    expectGroupKinds(points);
    expect(await loseEach('split', base, points, (prefix) => convert(prefix, K2), clean)).toEqual([]);
  }, 300_000);
});
