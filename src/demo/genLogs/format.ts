/** Writes a record as log text, with the exact values the parser must produce for it (the truth). */
import type { ExpectedRow } from '../genLogs.js';
import type { Rec } from './records.js';

export const DAY_MS = 86_400_000;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const dayPrefixCache = new Map<number, string>();

export function pad2(n: number): string {
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
export function recordFields(rec: Rec): string[] {
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
