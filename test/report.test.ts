/**
 * `s3logs report` against seeded logs with known answers: every number of the JSON is recomputed here
 * in TypeScript from the generator's truth rows (never from SQL); the same report over S3 (s3rver)
 * reads only the partitions in range and gives the same numbers; the Athena SQL runs in DuckDB over a
 * Glue-like view (bucket/dt VARCHAR) with identical results.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyDate, type ExpectedRow } from '../scripts/genLogs.js';
import { runReport } from '../src/commands/report.js';
import { ConfigError } from '../src/errors.js';
import type { ReportData } from '../src/report/buildReport.js';
import { openDuckDb, runSql } from '../src/report/engine.js';
import { DEFAULT_PRICES, type PriceTable } from '../src/report/prices.js';
import type { Row } from '../src/report/query.js';
import { runCli } from './helpers/cli.js';
import { S3RVER_CREDENTIALS, startS3Server, type S3Server } from './helpers/s3Server.js';

const KEY_DATES = ['2024-03-01', '2024-03-02', '2024-03-03'];
let work: string;
let lake: string;
let truth: ExpectedRow[] = [];

/** Rewrites every 7th TLSv1.2 record to TLSv1.1 (the generator has no old TLS) and keeps the truth in step. */
function withOldTls(body: Buffer, rows: ExpectedRow[]): Buffer {
  const lines = body.toString('utf8').split('\n');
  expect(lines.length - 1).toBe(rows.length); // no reject lines: line i is row i
  rows.forEach((row, i) => {
    if (row.tlsversion === 'TLSv1.2' && i % 7 === 0) {
      lines[i] = lines[i]!.replace(/ TLSv1\.2( |$)/, ' TLSv1.1$1');
      row.tlsversion = 'TLSv1.1';
    }
  });
  return Buffer.from(lines.join('\n'), 'utf8');
}

async function report(args: string[]): Promise<ReportData> {
  const out = join(work, `r-${Math.random().toString(36).slice(2)}.json`);
  expect(await runReport([...args, '--format', 'json', '--out', out])).toBe(0);
  return JSON.parse(await readFile(out, 'utf8')) as ReportData;
}

const byId = (r: ReportData): Record<string, Row[]> => Object.fromEntries(r.sections.flatMap((s) => s.queries.map((q) => [q.id, q.rows])));

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 's3logs-report-'));
  lake = join(work, 'lake');
  for (const [i, keyDate] of KEY_DATES.entries()) {
    // A different seed per day gives each day its own requesters, so some are new in the range.
    for (const o of generateKeyDate({
      seed: 41 + i,
      keyDate,
      layout: 'date-based',
      prefix: 'logs/',
      objects: 14,
      minObjectBytes: 20_000,
      maxObjectBytes: 120_000,
    })) {
      const path = join(work, 'raw', ...o.key.split('/'));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, withOldTls(o.body, o.rows));
      truth.push(...o.rows);
    }
  }
  const converted = await runCli([
    'convert',
    '--source',
    join(work, 'raw', 'logs') + '/',
    '--dest',
    lake,
    '--date',
    KEY_DATES[0]!,
    '--to',
    KEY_DATES[2]!,
    '--quiet',
  ]);
  expect(converted.code, converted.stderr).toBe(0);
  truth = truth.filter((r) => r.requestdatetime !== null);
}, 120_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('s3logs report (local destination)', () => {
  it('checks every number of the JSON against the generator truth, and prunes partitions outside the range', async () => {
    const r = await report(['--dest', lake, '--from', '2024-03-01', '--to', '2024-03-03']);
    const want = expectedReport(truth, { from: '2024-03-01', to: '2024-03-03', prices: DEFAULT_PRICES });
    // Late records put rows before the range: they must not be read.
    expect(truth.some((t) => new Date(t.requestdatetime!).toISOString() < '2024-03-01')).toBe(true);
    expect(r.rows).toBe(want.rowCount);
    expect(r.buckets).toEqual(want.buckets);
    expect(r.partitions).toBe(want.partitions);
    const got = byId(r);
    expect(Object.keys(got).sort()).toEqual(Object.keys(want.queries).sort());
    for (const [id, rows] of Object.entries(want.queries)) expect({ id, rows: got[id] }).toEqual({ id, rows });
    // The seeded data exercises every table: none may be empty.
    for (const [id, rows] of Object.entries(got)) expect({ id, empty: rows.length === 0 }).toEqual({ id, empty: false });
  });

  it('filters one bucket and one day, and prices with a --prices file', async () => {
    const prices: PriceTable = {
      ...DEFAULT_PRICES,
      region: 'eu-west-1',
      asOf: 'test',
      requestsPer1000: { tier1: 0.0055, tier2: 0.00044, transition: 0.011, free: 0 },
      transferPerGB: { internet: 0.085, inter_region: 0.021, same_region: 0.001 },
    };
    const file = join(work, 'prices.json');
    await writeFile(
      file,
      JSON.stringify({ region: prices.region, asOf: 'test', requestsPer1000: prices.requestsPer1000, transferPerGB: prices.transferPerGB }),
    );
    const r = await report(['--dest', lake, '--from', '2024-03-02', '--bucket', 'example-web-assets', '--prices', file]);
    const want = expectedReport(
      truth.filter((t) => t.bucket_name === 'example-web-assets'),
      { from: '2024-03-02', to: '2024-03-02', prices },
    );
    expect(r.buckets).toEqual(['example-web-assets']);
    expect(r.rows).toBeGreaterThan(300);
    expect(r.prices).toEqual(prices);
    expect(byId(r)).toEqual(want.queries);
  });

  it('reports an empty range with zero rows instead of failing', async () => {
    const r = await report(['--dest', lake, '--from', '2020-01-01']);
    expect([r.rows, r.files, r.partitions]).toEqual([0, 0, 0]);
    expect(byId(r).security_summary).toEqual([
      { requests: 0, denied: 0, anonymous: 0, plain_http: 0, old_tls: 0, sigv2: 0, requesters: 0, remote_ips: 0 },
    ]);
    expect(byId(r).top_objects).toEqual([]);
  });

  it('refuses bad usage with a ConfigError naming the flag', async () => {
    const bad = async (args: string[]): Promise<string | undefined> =>
      runReport(args).then(
        () => undefined,
        (e: unknown) => (e instanceof ConfigError ? e.flag : String(e)),
      );
    expect(await bad(['--from', '2024-03-01'])).toBe('--dest');
    expect(await bad(['--dest', lake, '--format', 'pdf'])).toBe('--format');
    expect(await bad(['--dest', lake, '--from', '2024-03-05', '--to', '2024-03-01'])).toBe('--to');
    const file = join(work, 'bad-prices.json');
    await writeFile(file, JSON.stringify({ requestsPer1000: { tier3: 1 } }));
    expect(await bad(['--dest', lake, '--prices', file])).toBe('--prices');
    expect(await bad(['--athena-sql', '--table', 'Bad-Name'])).toBe('--table');
  });
});

describe('s3logs report --athena-sql', () => {
  it('runs in DuckDB over a Glue-like view (bucket, dt as VARCHAR) with the same results as the report', async () => {
    const sqlFile = join(work, 'athena.sql');
    expect(await runReport(['--athena-sql', '--from', '2024-03-01', '--to', '2024-03-03', '--out', sqlFile])).toBe(0);
    const text = await readFile(sqlFile, 'utf8');
    const statements = text
      .split(/;\n/)
      .map((s) => s.replace(/^--.*$/gm, '').trim())
      .filter((s) => s !== '');
    const ids = [...text.matchAll(/^-- \w+\/(\w+):/gm)].map((m) => m[1]!);
    expect(text).toContain('FROM "s3_access_logs"."access_logs"');
    expect(text).toContain('approx_percentile(totaltime, 0.99)');
    const reportRows = byId(await report(['--dest', lake, '--from', '2024-03-01', '--to', '2024-03-03']));
    expect(ids.sort()).toEqual(Object.keys(reportRows).sort());
    const duck = await openDuckDb();
    try {
      // The whole table, every partition: pruning is Athena's job here, the dt predicate in the SQL filters.
      await duck.connection.run(`CREATE SCHEMA s3_access_logs`);
      await duck.connection.run(
        `CREATE VIEW s3_access_logs.access_logs AS SELECT * FROM read_parquet('${lake}/bucket=*/dt=*/*.parquet', hive_partitioning = true, hive_types = {'bucket': VARCHAR, 'dt': VARCHAR})`,
      );
      // The one dialect difference: Athena's approximate percentile becomes DuckDB's exact one.
      await duck.connection.run(`CREATE MACRO approx_percentile(x, p) AS quantile_disc(x, p)`);
      for (const [i, sql] of statements.entries()) {
        const id = [...text.matchAll(/^-- \w+\/(\w+):/gm)][i]![1]!;
        expect({ id, rows: await runSql(duck.connection, sql) }).toEqual({ id, rows: reportRows[id] });
      }
    } finally {
      duck.close();
    }
  });
});

describe('s3logs report (s3:// destination)', () => {
  let server: S3Server;
  const saved = { ...process.env };

  beforeAll(async () => {
    server = await startS3Server({ buckets: ['lake'] });
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
    });
    const client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
    for (const entry of await readdir(lake, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      await client.send(new PutObjectCommand({ Bucket: 'lake', Key: `logs/${path.slice(lake.length + 1)}`, Body: await readFile(path) }));
    }
    client.destroy();
  }, 120_000);

  afterAll(async () => {
    process.env = saved;
    await server?.close();
  });

  it('downloads only the files in range through the S3 storage and gives the same numbers', async () => {
    const local = await report(['--dest', lake, '--from', '2024-03-02', '--to', '2024-03-03']);
    const remote = await report([
      '--dest',
      's3://lake/logs/',
      '--from',
      '2024-03-02',
      '--to',
      '2024-03-03',
      '--endpoint-url',
      server.endpoint,
    ]);
    expect(remote.dest).toBe('s3://lake/logs/');
    expect([remote.files, remote.partitions, remote.parquetBytes]).toEqual([local.files, local.partitions, local.parquetBytes]);
    expect(remote.rows).toBe(local.rows);
    expect(remote.sections).toEqual(local.sections);
    // Days outside the range exist in the lake but were neither listed as partitions nor fetched.
    const inRange = (await readdir(lake, { recursive: true })).filter((p) => p.endsWith('.parquet') && /dt=2024-03-0[23]/.test(p));
    expect(remote.files).toBe(inRange.length);
  });
});

// ---- the expected report, computed from truth rows in TypeScript ----------------------------------

type Truth = ExpectedRow & { dt: string; hour: number };
type Key = string | number;

const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const who = (r: Truth): string => r.requester ?? '(anonymous)';
const sent = (r: Truth): number => r.bytessent ?? 0;
const prefixOf = (r: Truth): string =>
  r.key_decoded === null ? '(no key)' : r.key_decoded.includes('/') ? r.key_decoded.split('/')[0] + '/' : '(top level)';
const isDenied = (r: Truth): boolean => r.httpstatus === 403;
const isPlainHttp = (r: Truth): boolean => r.remoteip !== null && r.field_count >= 24 && r.ciphersuite === null && r.tlsversion === null;
const isOldTls = (r: Truth): boolean => ['SSLv3', 'TLSv1', 'TLSv1.1'].includes(r.tlsversion ?? '');
const isSigV2 = (r: Truth): boolean => r.sigv === 'SigV2';
const isSlowDown = (r: Truth): boolean => r.httpstatus === 503 && r.errorcode === 'SlowDown';
const isWrite = (r: Truth): boolean => /^(REST\.(PUT|POST|DELETE|COPY)\.|BATCH\.DELETE\.)/.test(r.operation ?? '');
const distinct = (rs: Truth[], f: (r: Truth) => string | null): number => new Set(rs.map(f).filter((v) => v !== null)).size;
const count = (rs: Truth[], f: (r: Truth) => boolean): number => rs.filter(f).length;
const sum = (rs: Truth[], f: (r: Truth) => number): number => rs.reduce((n, r) => n + f(r), 0);

/** S3 pricing classes, restated from the documented table. */
function priceClass(op: string | null): 'tier1' | 'tier2' | 'transition' | 'free' {
  const o = op ?? '';
  if (o === 'REST.COPY.OBJECT_GET' || o === 'REST.COPY.PART_GET') return 'free';
  if (o.startsWith('REST.DELETE.') || o.startsWith('BATCH.DELETE.') || o === 'REST.POST.MULTI_OBJECT_DELETE') return 'free';
  if (o.startsWith('S3.TRANSITION')) return 'transition';
  if (o.startsWith('S3.')) return 'free';
  if (o.includes('SELECT')) return 'tier2';
  if (
    /^REST\.(PUT|POST|COPY)\./.test(o) ||
    ['REST.GET.BUCKET', 'REST.GET.BUCKETVERSIONS', 'REST.GET.UPLOADS', 'REST.GET.UPLOAD', 'REST.GET.SERVICE'].includes(o)
  )
    return 'tier1';
  return 'tier2';
}

function transferClass(r: Truth, region: string): 'internet' | 'inter_region' | 'same_region' {
  if (r.sourceregion === region) return 'same_region';
  if (r.sourceregion !== null) return 'inter_region';
  return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(r.remoteip ?? '') ? 'same_region' : 'internet';
}

/** Byte-wise string order (UTF-8), as DuckDB and Athena sort VARCHAR. */
function cmp(a: Key | null, b: Key | null): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return Buffer.compare(Buffer.from(String(a)), Buffer.from(String(b)));
}

function groups(rs: Truth[], key: (r: Truth) => Key[]): Array<{ k: Key[]; rs: Truth[] }> {
  const m = new Map<string, { k: Key[]; rs: Truth[] }>();
  for (const r of rs) {
    const k = key(r);
    const id = JSON.stringify(k);
    const g = m.get(id) ?? m.set(id, { k, rs: [] }).get(id)!;
    g.rs.push(r);
  }
  return [...m.values()];
}

/** Sorts by [value, 'desc'|'asc'] pairs and keeps the first `limit`. */
function top<T>(items: T[], order: Array<[(t: T) => Key | null, 'asc' | 'desc']>, limit = Infinity): T[] {
  const sorted = [...items].sort((a, b) => {
    for (const [f, dir] of order) {
      const c = cmp(f(a), f(b));
      if (c !== 0) return dir === 'asc' ? c : -c;
    }
    return 0;
  });
  return sorted.slice(0, limit);
}

/** Nearest-rank percentile: the value at rank ceil(n·p) of the sorted values. */
function pct(values: number[], p: number): number | null {
  const v = values.filter((x) => x !== null).sort((a, b) => a - b);
  return v.length === 0 ? null : v[Math.max(1, Math.ceil(v.length * p)) - 1]!;
}

function costs(rs: Truth[], prices: PriceTable): { request_cost: number; transfer_cost: number } {
  const n = (c: string): number => count(rs, (r) => priceClass(r.operation) === c);
  const b = (c: string): number => sum(rs, (r) => (transferClass(r, prices.region) === c ? sent(r) : 0));
  const p = prices.requestsPer1000;
  const t = prices.transferPerGB;
  const G = 1073741824;
  return {
    request_cost:
      (n('tier1') * p.tier1) / 1000 + (n('tier2') * p.tier2) / 1000 + (n('transition') * p.transition) / 1000 + (n('free') * p.free) / 1000,
    transfer_cost: (b('internet') * t.internet) / G + (b('inter_region') * t.inter_region) / G + (b('same_region') * t.same_region) / G,
  };
}

function expectedReport(all: ExpectedRow[], o: { from: string; to: string; prices: PriceTable }) {
  const rs: Truth[] = all
    .map((r) => ({ ...r, dt: dayOf(r.requestdatetime!), hour: new Date(r.requestdatetime!).getUTCHours() }))
    .filter((r) => r.dt >= o.from && r.dt <= o.to);
  const denied = rs.filter(isDenied);
  const q: Record<string, Row[]> = {};
  const hourly = groups(rs, (r) => [r.dt, r.hour]);
  const byHour = top(hourly, [
    [(g) => g.k[0]!, 'asc'],
    [(g) => g.k[1]!, 'asc'],
  ]);
  q.coverage = top(
    groups(rs, (r) => [r.bucket_name!, r.dt]),
    [
      [(g) => g.k[0]!, 'asc'],
      [(g) => g.k[1]!, 'asc'],
    ],
  ).map((g) => ({ bucket: g.k[0]!, dt: g.k[1]!, row_count: g.rs.length }));
  q.security_summary = [
    {
      requests: rs.length,
      denied: denied.length,
      anonymous: count(rs, (r) => r.requester === null),
      plain_http: count(rs, isPlainHttp),
      old_tls: count(rs, isOldTls),
      sigv2: count(rs, isSigV2),
      requesters: distinct(rs, (r) => r.requester),
      remote_ips: distinct(rs, (r) => r.remoteip),
    },
  ];
  q.denied_by_requester = top(
    groups(denied, (r) => [who(r)]),
    [
      [(g) => g.rs.length, 'desc'],
      [(g) => g.k[0]!, 'asc'],
    ],
    10,
  ).map((g) => ({ requester: g.k[0]!, denied: g.rs.length, remote_ips: distinct(g.rs, (r) => r.remoteip) }));
  q.denied_by_ip = top(
    groups(denied, (r) => [r.remoteip ?? '(AWS internal)']),
    [
      [(g) => g.rs.length, 'desc'],
      [(g) => g.k[0]!, 'asc'],
    ],
    10,
  ).map((g) => ({ remote_ip: g.k[0]!, denied: g.rs.length, anonymous: count(g.rs, (r) => r.requester === null) }));
  q.denied_by_prefix = top(
    groups(denied, (r) => [r.bucket_name!, prefixOf(r)]),
    [
      [(g) => g.rs.length, 'desc'],
      [(g) => g.k[0]!, 'asc'],
      [(g) => g.k[1]!, 'asc'],
    ],
    10,
  ).map((g) => ({ bucket: g.k[0]!, prefix: g.k[1]!, denied: g.rs.length }));
  q.anonymous_requests = top(
    groups(
      rs.filter((r) => r.requester === null),
      (r) => [r.bucket_name!, r.operation!],
    ),
    [
      [(g) => g.rs.length, 'desc'],
      [(g) => g.k[0]!, 'asc'],
      [(g) => g.k[1]!, 'asc'],
    ],
    10,
  ).map((g) => ({
    bucket: g.k[0]!,
    operation: g.k[1]!,
    requests: g.rs.length,
    denied: count(g.rs, isDenied),
    bytes_sent: sum(g.rs, sent),
  }));
  const weak = (
    [
      ['plain HTTP', isPlainHttp],
      ['TLS < 1.2', isOldTls],
      ['SigV2', isSigV2],
    ] as const
  ).flatMap(([issue, f]) =>
    groups(rs.filter(f), (r) => [r.bucket_name!, who(r)]).map((g) => ({
      issue,
      bucket: g.k[0]!,
      requester: g.k[1]!,
      requests: g.rs.length,
      remote_ips: distinct(g.rs, (r) => r.remoteip),
    })),
  );
  q.weak_transport = top(
    weak,
    [
      [(w) => w.requests, 'desc'],
      [(w) => w.issue, 'asc'],
      [(w) => w.bucket, 'asc'],
      [(w) => w.requester, 'asc'],
    ],
    20,
  );
  const firstSeen = groups(
    rs.filter((r) => r.requester !== null),
    (r) => [r.requester!],
  )
    .map((g) => ({
      requester: g.k[0]!,
      first_seen: g.rs.map((r) => r.dt).sort()[0]!,
      requests: g.rs.length,
      denied: count(g.rs, isDenied),
      remote_ips: distinct(g.rs, (r) => r.remoteip),
    }))
    .filter((n) => n.first_seen > o.from);
  q.new_requesters = top(
    firstSeen,
    [
      [(n) => n.first_seen, 'desc'],
      [(n) => n.requests, 'desc'],
      [(n) => n.requester, 'asc'],
    ],
    20,
  );
  q.requests_per_hour = byHour.map((g) => ({ dt: g.k[0]!, hour_utc: g.k[1]!, requests: g.rs.length, bytes_sent: sum(g.rs, sent) }));
  q.top_objects = top(
    groups(
      rs.filter((r) => r.key_decoded !== null),
      (r) => [r.bucket_name!, r.key_decoded!],
    ),
    [
      [(g) => g.rs.length, 'desc'],
      [(g) => g.k[0]!, 'asc'],
      [(g) => g.k[1]!, 'asc'],
    ],
    10,
  ).map((g) => ({ bucket: g.k[0]!, object_key: g.k[1]!, requests: g.rs.length, bytes_sent: sum(g.rs, sent) }));
  const prefixes = groups(rs, (r) => [r.bucket_name!, prefixOf(r)]).map((g) => ({
    bucket: g.k[0]!,
    prefix: g.k[1]!,
    requests: g.rs.length,
    bytes_sent: sum(g.rs, sent),
    rs: g.rs,
  }));
  const strip = <T extends { rs: Truth[] }>({ rs: _, ...rest }: T): Omit<T, 'rs'> => rest;
  q.top_prefixes = top(
    prefixes,
    [
      [(p) => p.requests, 'desc'],
      [(p) => p.bucket, 'asc'],
      [(p) => p.prefix, 'asc'],
    ],
    10,
  ).map(strip);
  q.top_requesters = top(
    groups(rs, (r) => [who(r)]),
    [
      [(g) => g.rs.length, 'desc'],
      [(g) => g.k[0]!, 'asc'],
    ],
    10,
  ).map((g) => ({ requester: g.k[0]!, requests: g.rs.length, bytes_sent: sum(g.rs, sent), remote_ips: distinct(g.rs, (r) => r.remoteip) }));
  q.bytes_by_bucket = top(
    groups(rs, (r) => [r.bucket_name!]),
    [
      [(g) => sum(g.rs, sent), 'desc'],
      [(g) => g.k[0]!, 'asc'],
    ],
    50,
  ).map((g) => ({ bucket: g.k[0]!, bytes_sent: sum(g.rs, sent), requests: g.rs.length }));
  q.bytes_by_prefix = top(
    prefixes,
    [
      [(p) => p.bytes_sent, 'desc'],
      [(p) => p.bucket, 'asc'],
      [(p) => p.prefix, 'asc'],
    ],
    10,
  ).map(strip);
  const total = costs(rs, o.prices);
  q.cost_summary = [
    {
      requests: rs.length,
      request_cost: total.request_cost,
      bytes_sent: sum(rs, sent),
      transfer_cost: total.transfer_cost,
      total_cost: total.request_cost + total.transfer_cost,
    },
  ];
  const labels = {
    tier1: 'PUT, COPY, POST, LIST',
    tier2: 'GET, SELECT and all other',
    transition: 'Lifecycle transition',
    free: 'DELETE, CANCEL, expiry, copy source (free)',
  };
  q.requests_by_class = top(
    groups(rs, (r) => [priceClass(r.operation)]),
    [
      [(g) => g.rs.length, 'desc'],
      [(g) => g.k[0]!, 'asc'],
    ],
  ).map((g) => {
    const c = g.k[0] as keyof typeof labels;
    return {
      price_class: c,
      pricing: labels[c],
      requests: g.rs.length,
      usd_per_1000: o.prices.requestsPer1000[c],
      request_cost: (g.rs.length * o.prices.requestsPer1000[c]) / 1000,
    };
  });
  q.operations_by_class = top(
    groups(rs, (r) => [priceClass(r.operation), r.operation ?? '(none)']),
    [
      [(g) => g.k[0]!, 'asc'],
      [(g) => g.rs.length, 'desc'],
      [(g) => g.k[1]!, 'asc'],
    ],
    30,
  ).map((g) => ({ price_class: g.k[0]!, operation: g.k[1]!, requests: g.rs.length }));
  const destinations = {
    internet: 'Out to the internet',
    inter_region: 'To another AWS region',
    same_region: 'Within the region / VPC endpoint (free)',
  };
  q.transfer_by_class = top(
    groups(rs, (r) => [transferClass(r, o.prices.region)]),
    [
      [(g) => sum(g.rs, sent), 'desc'],
      [(g) => g.k[0]!, 'asc'],
    ],
  ).map((g) => {
    const c = g.k[0] as keyof typeof destinations;
    return {
      transfer_class: c,
      destination: destinations[c],
      bytes_sent: sum(g.rs, sent),
      usd_per_gb: o.prices.transferPerGB[c],
      transfer_cost: (sum(g.rs, sent) * o.prices.transferPerGB[c]) / 1073741824,
    };
  });
  for (const [id, field, key] of [
    ['cost_by_requester', 'requester', who],
    ['cost_by_bucket', 'bucket', (r: Truth) => r.bucket_name!],
  ] as const) {
    const rowsOf = groups(rs, (r) => [key(r)]).map((g) => {
      const c = costs(g.rs, o.prices);
      return {
        [field]: g.k[0]!,
        requests: g.rs.length,
        request_cost: c.request_cost,
        bytes_sent: sum(g.rs, sent),
        transfer_cost: c.transfer_cost,
        total_cost: c.request_cost + c.transfer_cost,
      };
    });
    q[id] = top(
      rowsOf,
      [
        [(r) => r.total_cost as number, 'desc'],
        [(r) => r[field] as string, 'asc'],
      ],
      10,
    );
  }
  const is4xx = (r: Truth): boolean => r.httpstatus !== null && r.httpstatus >= 400 && r.httpstatus <= 499;
  const is5xx = (r: Truth): boolean => r.httpstatus !== null && r.httpstatus >= 500 && r.httpstatus <= 599;
  const failed = rs.filter((r) => r.httpstatus !== null && r.httpstatus >= 400 && isWrite(r));
  q.operations_summary = [
    {
      requests: rs.length,
      errors_4xx: count(rs, is4xx),
      errors_5xx: count(rs, is5xx),
      slowdowns: count(rs, isSlowDown),
      failed_writes: failed.length,
      p99_total_ms: pct(
        rs.flatMap((r) => (r.totaltime === null ? [] : [r.totaltime])),
        0.99,
      ),
    },
  ];
  q.error_rates = byHour.map((g) => {
    const [e4, e5] = [count(g.rs, is4xx), count(g.rs, is5xx)];
    return {
      dt: g.k[0]!,
      hour_utc: g.k[1]!,
      requests: g.rs.length,
      errors_4xx: e4,
      errors_5xx: e5,
      rate_4xx: e4 / g.rs.length,
      rate_5xx: e5 / g.rs.length,
    };
  });
  q.failed_writes = top(
    groups(failed, (r) => [r.bucket_name!, r.operation!, r.httpstatus!, r.errorcode ?? '-']),
    [
      [(g) => g.rs.length, 'desc'],
      [(g) => g.k[0]!, 'asc'],
      [(g) => g.k[1]!, 'asc'],
      [(g) => g.k[2]!, 'asc'],
      [(g) => g.k[3]!, 'asc'],
    ],
    20,
  ).map((g) => ({ bucket: g.k[0]!, operation: g.k[1]!, httpstatus: g.k[2]!, errorcode: g.k[3]!, requests: g.rs.length }));
  q.slowdown_by_prefix = top(
    prefixes
      .map((p) => ({
        bucket: p.bucket,
        prefix: p.prefix,
        slowdowns: count(p.rs, isSlowDown),
        requests: p.requests,
        slowdown_rate: count(p.rs, isSlowDown) / p.requests,
      }))
      .filter((p) => p.slowdowns > 0),
    [
      [(p) => p.slowdowns, 'desc'],
      [(p) => p.bucket, 'asc'],
      [(p) => p.prefix, 'asc'],
    ],
    10,
  );
  const timed = rs.filter((r) => r.operation !== null && r.totaltime !== null);
  q.latency_by_operation = top(
    groups(timed, (r) => [r.operation!]),
    [
      [(g) => g.rs.length, 'desc'],
      [(g) => g.k[0]!, 'asc'],
    ],
    12,
  ).map((g) => {
    const total = g.rs.map((r) => r.totaltime!);
    const turn = g.rs.flatMap((r) => (r.turnaroundtime === null ? [] : [r.turnaroundtime]));
    return {
      operation: g.k[0]!,
      requests: g.rs.length,
      p50_total_ms: pct(total, 0.5),
      p95_total_ms: pct(total, 0.95),
      p99_total_ms: pct(total, 0.99),
      p50_turnaround_ms: pct(turn, 0.5),
      p95_turnaround_ms: pct(turn, 0.95),
      p99_turnaround_ms: pct(turn, 0.99),
    };
  });
  q.slowest_requests = top(
    rs.filter((r) => r.totaltime !== null),
    [
      [(r) => r.totaltime, 'desc'],
      [(r) => r.requestdatetime, 'asc'],
      [(r) => r.requestid, 'asc'],
      [(r) => r.bucket_name, 'asc'],
    ],
    10,
  ).map((r) => ({
    requestdatetime: new Date(r.requestdatetime!).toISOString(),
    bucket: r.bucket_name,
    operation: r.operation,
    object_key: r.key_decoded,
    httpstatus: r.httpstatus,
    bytes_sent: sent(r),
    totaltime: r.totaltime,
    turnaroundtime: r.turnaroundtime,
    requester: who(r),
  }));
  return { queries: q, rowCount: rs.length, buckets: [...new Set(rs.map((r) => r.bucket_name!))].sort(), partitions: q.coverage.length };
}
