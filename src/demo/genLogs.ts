/**
 * Seeded synthetic S3 server access log generator (FORMAT.md, EDGE_CASES.md) that also returns the
 * ground truth: the exact values the parser must produce for every line. Used by `s3logs demo`, property
 * tests, end-to-end tests and `npm run bench`; scripts/genLogs.ts is its command line.
 *
 * Truth is correct by construction: every field is generated as a value first and only then written
 * as log text, so the row never has to be re-parsed from the line. Generated values keep the line
 * unambiguous for the parser rules (no `" ` inside a quoted value, no space inside a token field).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ACCESS_LOG_COLUMNS, KNOWN_FIELD_COUNT, type ColumnName } from '../../schemas/accessLog.js';
import { Random, WeightedPicker } from './random.js';
import { DAY_MS, formatRecord, pad2 } from './genLogs/format.js';
import { makeEvent, makeRejectLine } from './genLogs/records.js';
import { createWorld, type World } from './genLogs/world.js';

/** The parsed values of one log line: one property per schema column, `null` for SQL NULL. */
export interface ExpectedRow {
  bucketowner: string | null;
  bucket_name: string | null;
  /** Epoch milliseconds, UTC. */
  requestdatetime: number | null;
  remoteip: string | null;
  requester: string | null;
  requestid: string | null;
  operation: string | null;
  key: string | null;
  request_uri: string | null;
  httpstatus: number | null;
  errorcode: string | null;
  bytessent: number | null;
  objectsize: number | null;
  totaltime: number | null;
  turnaroundtime: number | null;
  referrer: string | null;
  useragent: string | null;
  versionid: string | null;
  hostid: string | null;
  sigv: string | null;
  ciphersuite: string | null;
  authtype: string | null;
  endpoint: string | null;
  tlsversion: string | null;
  accesspointarn: string | null;
  aclrequired: boolean | null;
  sourceregion: string | null;
  request_method: string | null;
  request_path: string | null;
  request_query: string | null;
  request_protocol: string | null;
  key_decoded: string | null;
  field_count: number;
  extra_fields: string | null;
}

// Compile-time guard: ExpectedRow has exactly the schema's columns, no more, no fewer.
type MissingColumns = Exclude<ColumnName, keyof ExpectedRow>;
type UnknownColumns = Exclude<keyof ExpectedRow, ColumnName>;
const columnsMatch: [MissingColumns, UnknownColumns] extends [never, never] ? true : never = true;
void columnsMatch;

export type Layout = 'simple' | 'date-based';

export interface GenerateOptions {
  seed: number;
  /** Key date, `YYYY-MM-DD` (UTC): delivery date (simple) or event date (date-based). */
  keyDate: string;
  layout: Layout;
  /** Destination prefix, e.g. `logs/` or `emr` (S3 adds no separator). Default ''. */
  prefix?: string;
  /** Source account id, used in date-based keys and ARNs. Default 123456789012. */
  accountId?: string;
  /** Source region. Default us-east-1. */
  region?: string;
  /** Source bucket names. Default: three buckets. */
  buckets?: string[];
  /** Number of objects. Default 10 when targetBytes is not set, otherwise unlimited. */
  objects?: number;
  /** Stop once the total body size reaches this; the last object is cut to fit. */
  targetBytes?: number;
  /** Body size bounds of one object. Defaults 4 KiB and 6 MiB; sizes are log-normal between. */
  minObjectBytes?: number;
  maxObjectBytes?: number;
  /**
   * Share of records timed before the key date, up to ~9 days back. Default 0.02. Applies to the
   * date-based layout too (strict EventTime delivery would be 0) so partitioning by record time is exercised.
   */
  lateFraction?: number;
  /** Share of records with 1-2 fields beyond the 27th. Default 0.01. */
  extraFieldsFraction?: number;
  /** Share of requests with raw `"` inside Referer / User-Agent / Request-URI. Default 0.01. */
  quoteFraction?: number;
  /** Share of records written with an older width: 18, 24, 25 or 26 fields. Default 0.02. */
  oldFormatFraction?: number;
  /** Share of lines that are junk, truncated or two glued records. Default 0. */
  rejectFraction?: number;
}

export interface RejectLine {
  /** 1-based line number in the object body. */
  line: number;
  kind: 'junk' | 'truncated' | 'glued';
}

export interface GeneratedObject {
  /** Object key exactly as S3 delivers it (FORMAT.md §4). */
  key: string;
  /** Source bucket of every record in the object. */
  bucket: string;
  body: Buffer;
  /** Truth for every valid line, in line order (reject lines have no row). */
  rows: ExpectedRow[];
  /** Number of lines in body (rows.length + rejects.length). */
  lines: number;
  rejects: RejectLine[];
}

interface Settings {
  seed: number;
  dayStart: number;
  keyDate: string;
  layout: Layout;
  prefix: string;
  accountId: string;
  region: string;
  buckets: string[];
  objects: number;
  targetBytes: number;
  minObjectBytes: number;
  maxObjectBytes: number;
  lateFraction: number;
  extraFieldsFraction: number;
  quoteFraction: number;
  oldFormatFraction: number;
  rejectFraction: number;
}

export const DEFAULT_BUCKETS = ['example-web-assets', 'example-data-lake', 'media.example.org'];

function fraction(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!(v >= 0 && v <= 1)) throw new RangeError(`genLogs: \`${name}\` must be within [0, 1], got ${v}`);
  return v;
}

function resolveOptions(o: GenerateOptions): Settings {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(o.keyDate);
  const dayStart = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || new Date(dayStart).toISOString().slice(0, 10) !== o.keyDate) {
    throw new RangeError(`genLogs: \`keyDate\` must be a real date YYYY-MM-DD, got ${JSON.stringify(o.keyDate)}`);
  }
  if (o.layout !== 'simple' && o.layout !== 'date-based') {
    throw new RangeError(`genLogs: \`layout\` must be simple or date-based, got ${JSON.stringify(o.layout)}`);
  }
  const buckets = o.buckets ?? DEFAULT_BUCKETS;
  if (buckets.length === 0 || buckets.some((b) => !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b))) {
    throw new RangeError(`genLogs: \`buckets\` must be non-empty S3 bucket names, got ${JSON.stringify(buckets)}`);
  }
  const accountId = o.accountId ?? '123456789012';
  if (!/^\d{12}$/.test(accountId)) throw new RangeError(`genLogs: \`accountId\` must be 12 digits, got ${accountId}`);
  const minObjectBytes = o.minObjectBytes ?? 4 * 1024;
  const maxObjectBytes = o.maxObjectBytes ?? 6 * 1024 * 1024;
  if (!(minObjectBytes > 0 && maxObjectBytes >= minObjectBytes)) {
    throw new RangeError('genLogs: need 0 < `minObjectBytes` <= `maxObjectBytes`');
  }
  const targetBytes = o.targetBytes ?? Infinity;
  const objects = o.objects ?? (o.targetBytes === undefined ? 10 : Infinity);
  if (!(targetBytes > 0) || !(objects >= 0)) throw new RangeError('genLogs: `targetBytes` must be > 0 and `objects` >= 0');
  return {
    seed: o.seed,
    dayStart,
    keyDate: o.keyDate,
    layout: o.layout,
    prefix: o.prefix ?? '',
    accountId,
    region: o.region ?? 'us-east-1',
    buckets,
    objects,
    targetBytes,
    minObjectBytes,
    maxObjectBytes,
    lateFraction: fraction('lateFraction', o.lateFraction, 0.02),
    extraFieldsFraction: fraction('extraFieldsFraction', o.extraFieldsFraction, 0.01),
    quoteFraction: fraction('quoteFraction', o.quoteFraction, 0.01),
    oldFormatFraction: fraction('oldFormatFraction', o.oldFormatFraction, 0.02),
    rejectFraction: fraction('rejectFraction', o.rejectFraction, 0),
  };
}

// ---- objects ------------------------------------------------------------------------------------

const OLD_WIDTHS = new WeightedPicker<number>([
  [18, 2],
  [24, 3],
  [25, 3],
  [26, 4],
]);
const EXTRA_FIELDS = [
  'ExtraUnknownField',
  'x-amz-future=1',
  'TLS_AES_256_GCM_SHA384',
  'Yes',
  '0',
  'arn:aws:kms:us-east-1:123456789012:key/example',
  'pq-hybrid',
];

function dateParts(ms: number): { y: string; m: string; d: string } {
  const iso = new Date(ms).toISOString();
  return { y: iso.slice(0, 4), m: iso.slice(5, 7), d: iso.slice(8, 10) };
}

function objectKey(s: Settings, random: Random, bucket: string, secondOfDay: number): string {
  const { y, m, d } = dateParts(s.dayStart);
  const unique = random.hex(16, true);
  if (s.layout === 'date-based') {
    // EventTime partitioning: hh-mm-ss are always 00 (FORMAT.md §4).
    return `${s.prefix}${s.accountId}/${s.region}/${bucket}/${y}/${m}/${d}/${y}-${m}-${d}-00-00-00-${unique}`;
  }
  const hh = pad2(Math.floor(secondOfDay / 3600));
  const mm = pad2(Math.floor(secondOfDay / 60) % 60);
  return `${s.prefix}${y}-${m}-${d}-${hh}-${mm}-${pad2(secondOfDay % 60)}-${unique}`;
}

/** A late record: mostly the last hours of the previous day, with a tail up to ~9 days back. */
function lateTime(random: Random, dayStart: number): number {
  const u = random.float();
  const backSeconds = u < 0.8 ? random.int(1, 3 * 3600) : u < 0.95 ? random.int(3 * 3600, 2 * 86400) : random.int(2 * 86400, 9 * 86400);
  return dayStart - backSeconds * 1000;
}

function generateObject(s: Settings, world: World, random: Random, bucketIndex: number, sizeTarget: number): GeneratedObject {
  const bucket = s.buckets[bucketIndex] as string;
  // Simple layout: the key carries the delivery time, records come from the hour before it.
  // Date-based (EventTime): the key says 00-00-00, records come from any one hour of the day.
  const delivery = random.int(600, 86_399);
  const windowStart = s.layout === 'simple' ? Math.max(0, delivery - 3600) : random.int(0, 86_400 - 3600);
  const windowEnd = s.layout === 'simple' ? delivery - 60 : windowStart + 3600;
  const key = objectKey(s, random, bucket, delivery);
  const lines: string[] = [];
  const rows: ExpectedRow[] = [];
  const rejects: RejectLine[] = [];
  let bytes = 0;
  while (bytes < sizeTarget) {
    if (s.rejectFraction > 0 && random.chance(s.rejectFraction)) {
      const reject = makeRejectLine(world, random, bucketIndex, s.dayStart + windowStart * 1000);
      lines.push(reject.line);
      bytes += reject.line.length + 1;
      rejects.push({ line: lines.length, kind: reject.kind });
      continue;
    }
    const late = random.chance(s.lateFraction);
    const progress = windowStart + (bytes / sizeTarget) * (windowEnd - windowStart);
    const second = Math.min(windowEnd, Math.max(windowStart, Math.round(progress + random.int(-30, 30))));
    const eventTime = late ? lateTime(random, s.dayStart) : s.dayStart + second * 1000;
    const quotes = random.chance(s.quoteFraction);
    for (const rec of makeEvent(world, random, bucketIndex, eventTime, quotes)) {
      // Multi-record events step forward a few seconds; keep each record on its side of midnight.
      rec.time = late ? Math.min(rec.time, s.dayStart - 1000) : Math.min(rec.time, s.dayStart + DAY_MS - 1000);
      let width = KNOWN_FIELD_COUNT;
      let extras: string[] = [];
      if (random.chance(s.oldFormatFraction)) width = OLD_WIDTHS.pick(random);
      else if (random.chance(s.extraFieldsFraction)) {
        extras = [random.pick(EXTRA_FIELDS)];
        if (random.chance(0.3)) extras.push(random.pick(EXTRA_FIELDS));
      }
      const { line, row } = formatRecord(rec, width, extras);
      lines.push(line);
      rows.push(row);
      // Every byte is ASCII (keys are percent-encoded), so string length is byte length.
      bytes += line.length + 1;
    }
  }
  return { key, bucket, body: Buffer.from(lines.join('\n') + '\n', 'utf8'), rows, lines: lines.length, rejects };
}

/** Generates the log objects S3 would deliver for one key date, deterministically from `seed`. */
export function* generateKeyDate(options: GenerateOptions): Generator<GeneratedObject> {
  const s = resolveOptions(options);
  const random = new Random(s.seed);
  const world = createWorld(random, { accountId: s.accountId, region: s.region, buckets: s.buckets, dayStart: s.dayStart });
  // The first bucket is the busiest, as in most accounts.
  const bucketPicker = new WeightedPicker(s.buckets.map((_, i) => [i, 1 / (i + 1)] as const));
  // Median ~130 KiB with the default bounds: most objects are a few hundred KiB, some a few MiB.
  const median = Math.sqrt(s.minObjectBytes * s.maxObjectBytes) / 1.2;
  let total = 0;
  for (let n = 0; n < s.objects && total < s.targetBytes; n++) {
    const drawn = Math.round(random.logNormal(median, 1.3));
    const size = Math.min(Math.max(drawn, s.minObjectBytes), s.maxObjectBytes, s.targetBytes - total);
    const object = generateObject(s, world, random, bucketPicker.pick(random), size);
    total += object.body.length;
    yield object;
  }
}

export interface WriteSummary {
  objects: number;
  bytes: number;
  lines: number;
  rows: number;
}

/** Writes every generated object to `dir/<object key>` (directories created as needed). */
export async function writeKeyDateToDirectory(dir: string, options: GenerateOptions): Promise<WriteSummary> {
  const summary: WriteSummary = { objects: 0, bytes: 0, lines: 0, rows: 0 };
  for (const object of generateKeyDate(options)) {
    const path = join(dir, ...object.key.split('/'));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, object.body);
    summary.objects += 1;
    summary.bytes += object.body.length;
    summary.lines += object.lines;
    summary.rows += object.rows.length;
  }
  return summary;
}

/** Column names in schema order; rows are built with their keys in this order. */
export const EXPECTED_ROW_COLUMNS: readonly ColumnName[] = ACCESS_LOG_COLUMNS.map((c) => c.name);

/**
 * A hash of the generator's own code (this module and the ones it uses, as they run: compiled or not),
 * so a benchmark's cached corpus is made again whenever the generator changes.
 */
export async function generatorCodeHash(): Promise<string> {
  const self = fileURLToPath(import.meta.url);
  const dir = dirname(self);
  const ext = extname(self);
  const hash = createHash('sha256');
  for (const file of ['genLogs', 'genLogs/world', 'genLogs/records', 'genLogs/format', 'random'])
    hash.update(await readFile(join(dir, file + ext)));
  return hash.digest('hex');
}
