import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACCESS_LOG_COLUMNS } from '../schemas/accessLog.js';
import {
  generateKeyDate,
  writeKeyDateToDirectory,
  type ExpectedRow,
  type GenerateOptions,
  type GeneratedObject,
} from '../scripts/genLogs.js';
import { Random } from '../scripts/random.js';

const KEY_DATE = '2024-01-29';
const DAY_START = Date.UTC(2024, 0, 29);
const DAY_END = DAY_START + 86_400_000;

function generate(options: Partial<GenerateOptions> = {}): GeneratedObject[] {
  return [...generateKeyDate({ seed: 7, keyDate: KEY_DATE, layout: 'simple', ...options })];
}

function allRows(objects: GeneratedObject[]): ExpectedRow[] {
  return objects.flatMap((o) => o.rows);
}

/** Independent of the generator: `[29/Jan/2024:22:28:12 +0000]` from Date#toUTCString. */
function logTime(ms: number): string {
  const [, day, month, year, hms] = new Date(ms).toUTCString().split(' ');
  return `[${day}/${month}/${year}:${hms} +0000]`;
}

/**
 * Walks a line field by field with the schema's own syntax declarations and the row's values;
 * returns what differs, or null. Quoted nulls may be written `-` or `"-"`.
 */
function mismatch(line: string, row: ExpectedRow): string | null {
  let pos = 0;
  const take = (text: string): boolean => {
    if (!line.startsWith(text, pos)) return false;
    pos += text.length;
    return true;
  };
  for (const column of ACCESS_LOG_COLUMNS) {
    if (column.source !== 'field') continue;
    const value = row[column.name];
    if (column.position > row.field_count) {
      if (value !== null) return `${column.name} should be null beyond field ${row.field_count}`;
      continue;
    }
    if (column.position > 1 && !take(' ')) return `no separator before ${column.name} at ${pos}`;
    let ok: boolean;
    switch (column.syntax) {
      case 'token':
        ok = take(value === null ? '-' : String(value));
        break;
      case 'quoted':
        ok = value === null ? take('"-"') || take('-') : take(`"${String(value)}"`);
        break;
      case 'time':
        ok = typeof value === 'number' && take(logTime(value));
        break;
      case 'integer':
        ok = take(value === null ? '-' : String(value));
        break;
      case 'acl':
        ok = value !== null && take(value === true ? 'Yes' : '-');
        break;
    }
    if (!ok) return `${column.name}=${JSON.stringify(value)} does not match at ${pos}: ${line.slice(pos, pos + 60)}`;
  }
  if (row.extra_fields !== null && !take(' ' + row.extra_fields)) return `extra_fields do not match at ${pos}`;
  return pos === line.length ? null : `trailing text at ${pos}: ${line.slice(pos, pos + 60)}`;
}

/** The decoding rule of the schema's key_decoded column, written out independently. */
function decodeKey(operation: string, key: string): string | undefined {
  if (/^(REST|WEBSITE|SOAP)\./.test(operation)) return decodeURIComponent(decodeURIComponent(key));
  if (operation === 'BATCH.DELETE.OBJECT' || operation.startsWith('S3.')) return decodeURIComponent(key.replaceAll('+', ' '));
  return undefined;
}

function bodyLines(object: GeneratedObject): string[] {
  const text = object.body.toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

describe('random', () => {
  it('is deterministic per seed and spreads nearby seeds apart', () => {
    const draw = (seed: number): number[] => {
      const r = new Random(seed);
      return Array.from({ length: 5 }, () => r.uint32());
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
    const r = new Random(3);
    for (let i = 0; i < 1000; i++) {
      const n = r.int(-2, 2);
      expect(n >= -2 && n <= 2 && Number.isInteger(n)).toBe(true);
    }
  });
});

describe('generateKeyDate', () => {
  it('is deterministic: same options give byte-identical objects, another seed does not', () => {
    const options = { objects: 4, maxObjectBytes: 128 * 1024, rejectFraction: 0.01 };
    const a = generate(options);
    const b = generate(options);
    expect(a.map((o) => o.key)).toEqual(b.map((o) => o.key));
    a.forEach((o, i) => {
      expect(o.body.equals(b[i]!.body)).toBe(true);
    });
    expect(a.map((o) => o.rows)).toEqual(b.map((o) => o.rows));
    const other = generate({ ...options, seed: 8 });
    expect(other.map((o) => o.key)).not.toEqual(a.map((o) => o.key));
    expect(other[0]!.body.equals(a[0]!.body)).toBe(false);
  });

  it('names simple-layout objects like S3 with the delivery time after their records', () => {
    const objects = generate({ prefix: 'logs/', objects: 6, maxObjectBytes: 64 * 1024, lateFraction: 0 });
    for (const o of objects) {
      const m = /^logs\/2024-01-29-(\d{2})-(\d{2})-(\d{2})-[0-9A-F]{16}$/.exec(o.key);
      expect(m, o.key).not.toBeNull();
      const delivered = DAY_START + (Number(m![1]) * 3600 + Number(m![2]) * 60 + Number(m![3])) * 1000;
      expect(delivered).toBeLessThan(DAY_END);
      for (const row of o.rows) {
        expect(row.requestdatetime!).toBeGreaterThanOrEqual(DAY_START);
        expect(row.requestdatetime!).toBeLessThan(delivered);
        expect(row.bucket_name).toBe(o.bucket); // one source bucket per object
      }
    }
    // A prefix without a slash is glued to the date, as S3 does (`emr2021-11-08-…`).
    expect(generate({ prefix: 'emr', objects: 1, maxObjectBytes: 8 * 1024 })[0]!.key).toMatch(
      /^emr2024-01-29-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}$/,
    );
  });

  it('names date-based objects with account, region, bucket, date and 00-00-00', () => {
    const objects = generate({
      layout: 'date-based',
      prefix: 'sal/',
      accountId: '111122223333',
      region: 'eu-west-1',
      objects: 6,
      maxObjectBytes: 64 * 1024,
    });
    const buckets = new Set<string>();
    for (const o of objects) {
      const m = /^sal\/111122223333\/eu-west-1\/([a-z0-9.-]+)\/2024\/01\/29\/2024-01-29-00-00-00-[0-9A-F]{16}$/.exec(o.key);
      expect(m, o.key).not.toBeNull();
      expect(m![1]).toBe(o.bucket);
      buckets.add(o.bucket);
      expect(new Set(o.rows.map((r) => r.bucket_name))).toEqual(new Set([o.bucket]));
    }
    expect(buckets.size).toBeGreaterThan(1);
  });

  it('writes every line exactly as its ExpectedRow says, with derived columns following the parser rules', () => {
    const objects = generate({
      targetBytes: 3 * 1024 * 1024,
      maxObjectBytes: 256 * 1024,
      quoteFraction: 0.05,
      extraFieldsFraction: 0.05,
      oldFormatFraction: 0.05,
    });
    const problems: string[] = [];
    const columnNames = ACCESS_LOG_COLUMNS.map((c) => c.name);
    let checked = 0;
    for (const o of objects) {
      const lines = bodyLines(o);
      expect(lines.length).toBe(o.lines);
      expect(o.rows.length).toBe(o.lines);
      expect([...o.body].every((byte) => byte < 0x80)).toBe(true); // keys are percent-encoded
      lines.forEach((line, i) => {
        const row = o.rows[i]!;
        const problem = mismatch(line, row);
        if (problem !== null) problems.push(`${o.key}:${i + 1} ${problem}`);
        if (Object.keys(row).join() !== columnNames.join()) problems.push(`${o.key}:${i + 1} columns out of schema order`);
        if (row.request_uri === null) {
          if (row.request_method !== null || row.request_path !== null || row.request_query !== null || row.request_protocol !== null)
            problems.push(`${o.key}:${i + 1} request parts without request_uri`);
        } else {
          const rebuilt = `${row.request_method} ${row.request_path}${row.request_query === null ? '' : '?' + row.request_query} ${row.request_protocol}`;
          if (rebuilt !== row.request_uri || row.request_path!.includes('?') || row.request_uri.includes('" '))
            problems.push(`${o.key}:${i + 1} request_uri split`);
        }
        if (row.key === null ? row.key_decoded !== null : decodeKey(row.operation!, row.key) !== row.key_decoded)
          problems.push(`${o.key}:${i + 1} key_decoded ${row.key_decoded}`);
        // REST keys are the request path encoded once more (FORMAT.md §3).
        if (
          row.key !== null &&
          row.request_path !== null &&
          /^REST\.(GET|HEAD|PUT)\.OBJECT$/.test(row.operation!) &&
          !row.request_path.endsWith('/' + decodeURIComponent(row.key))
        ) {
          problems.push(`${o.key}:${i + 1} key ${row.key} vs path ${row.request_path}`);
        }
        for (const quotedValue of [row.referrer, row.useragent]) {
          if (quotedValue?.includes('" ')) problems.push(`${o.key}:${i + 1} ambiguous quote`);
        }
        checked++;
      });
    }
    expect(problems.slice(0, 10)).toEqual([]);
    expect(checked).toBeGreaterThan(2000);
  });

  it('dates ~2% of records before the key date, up to ~9 days back, and none after it', () => {
    const rows = allRows(generate({ targetBytes: 4 * 1024 * 1024 }));
    const late = rows.filter((r) => r.requestdatetime! < DAY_START);
    expect(rows.length).toBeGreaterThan(4000);
    expect(late.length / rows.length).toBeGreaterThan(0.01);
    expect(late.length / rows.length).toBeLessThan(0.035);
    expect(Math.min(...late.map((r) => r.requestdatetime!))).toBeGreaterThanOrEqual(DAY_START - 9 * 86_400_000);
    expect(rows.every((r) => r.requestdatetime! < DAY_END)).toBe(true);
    expect(allRows(generate({ objects: 3, lateFraction: 0 })).every((r) => r.requestdatetime! >= DAY_START)).toBe(true);
  });

  it('writes records of every width: 18, 24, 25, 26, 27 and 28-29 with extra fields', () => {
    const rows = allRows(generate({ targetBytes: 2 * 1024 * 1024, extraFieldsFraction: 0.05, oldFormatFraction: 0.08 }));
    const counts = new Set(rows.map((r) => r.field_count));
    for (const width of [18, 24, 25, 26, 27, 28, 29]) expect(counts.has(width), `width ${width}`).toBe(true);
    for (const r of rows) {
      expect(r.extra_fields !== null).toBe(r.field_count > 27);
      if (r.extra_fields !== null) expect(r.extra_fields.split(' ').length).toBe(r.field_count - 27);
      if (r.field_count < 26) expect(r.aclrequired).toBeNull();
      else expect(typeof r.aclrequired).toBe('boolean');
    }
    expect(rows.some((r) => r.aclrequired === true)).toBe(true);
  });

  it('puts raw quotes inside quoted fields, including a leading quote and a trailing doubled quote', () => {
    const objects = generate({ targetBytes: 2 * 1024 * 1024, quoteFraction: 0.1 });
    const rows = allRows(objects);
    expect(rows.some((r) => r.useragent?.startsWith('"'))).toBe(true);
    expect(rows.some((r) => r.useragent?.endsWith('"'))).toBe(true);
    expect(rows.some((r) => r.referrer?.includes('"'))).toBe(true);
    expect(rows.some((r) => r.request_uri?.includes('"'))).toBe(true);
    const text = objects.map((o) => o.body.toString('utf8')).join('');
    expect(text).toContain('"" '); // `…Safari/604.1"" -`
    expect(text).toContain(' ""'); // `""Mozilla/5.0 …`
  });

  it('respects targetBytes within one object and keeps objects between the size bounds', () => {
    const target = 3 * 1024 * 1024;
    const maxObjectBytes = 512 * 1024;
    const objects = generate({ targetBytes: target, maxObjectBytes });
    const total = objects.reduce((sum, o) => sum + o.body.length, 0);
    expect(total).toBeGreaterThanOrEqual(target);
    // The last object is cut to the remaining budget, so the overshoot is one event (a few lines).
    expect(total - target).toBeLessThan(16 * 1024);
    expect(total - objects[objects.length - 1]!.body.length).toBeLessThan(target);
    // One event (at most a handful of lines) may overshoot an object's drawn size.
    for (const o of objects) expect(o.body.length).toBeLessThan(maxObjectBytes + 16 * 1024);
    expect(generate({ objects: 5, maxObjectBytes: 32 * 1024 })).toHaveLength(5);
  });

  it('lists junk, truncated and glued lines as rejects and keeps the rows of the other lines in order', () => {
    const objects = generate({ targetBytes: 2 * 1024 * 1024, rejectFraction: 0.03 });
    const kinds = new Set<string>();
    for (const o of objects) {
      const lines = bodyLines(o);
      expect(lines.length).toBe(o.lines);
      expect(o.rows.length + o.rejects.length).toBe(o.lines);
      const rejected = new Map(o.rejects.map((r) => [r.line, r.kind]));
      let rowIndex = 0;
      lines.forEach((line, i) => {
        const kind = rejected.get(i + 1);
        if (kind === undefined) {
          expect(mismatch(line, o.rows[rowIndex++]!)).toBeNull();
          return;
        }
        kinds.add(kind);
        const times = line.match(/\[\d{2}\/[A-Z][a-z]{2}\/\d{4}:/g) ?? [];
        if (kind === 'junk') expect(line).not.toMatch(/^[0-9a-f]{64} /);
        if (kind === 'truncated') expect(line.split(' ').length).toBeLessThan(17);
        if (kind === 'glued') expect(times.length).toBe(2);
      });
      expect(rowIndex).toBe(o.rows.length);
    }
    expect(kinds).toEqual(new Set(['junk', 'truncated', 'glued']));
    expect(generate({ objects: 3 }).every((o) => o.rejects.length === 0)).toBe(true);
  });

  it('has realistic operations, statuses, error codes, auth, addresses and record shapes', () => {
    const objects = generate({ targetBytes: 4 * 1024 * 1024 });
    const rows = allRows(objects);
    const share = (pred: (r: ExpectedRow) => boolean): number => rows.filter(pred).length / rows.length;
    expect(share((r) => r.operation === 'REST.GET.OBJECT')).toBeGreaterThan(0.45);
    expect(share((r) => r.operation === 'REST.GET.OBJECT')).toBeGreaterThan(share((r) => r.operation === 'REST.HEAD.OBJECT'));
    for (const op of [
      'REST.HEAD.OBJECT',
      'REST.PUT.OBJECT',
      'REST.GET.BUCKET',
      'REST.PUT.PART',
      'REST.COPY.OBJECT',
      'REST.COPY.OBJECT_GET',
      'BATCH.DELETE.OBJECT',
      'S3.EXPIRE.OBJECT',
      'WEBSITE.GET.OBJECT',
    ]) {
      expect(
        rows.some((r) => r.operation === op),
        op,
      ).toBe(true);
    }
    const expectedError: Record<number, string[]> = {
      403: ['AccessDenied'],
      404: ['NoSuchKey', 'NoSuchBucketPolicy', 'NoSuchTagSet'],
      500: ['InternalError'],
      503: ['SlowDown'],
    };
    for (const status of [200, 204, 206, 304, 403, 404, 500, 503])
      expect(
        rows.some((r) => r.httpstatus === status),
        `status ${status}`,
      ).toBe(true);
    for (const r of rows) {
      if (r.httpstatus !== null && r.httpstatus >= 400) expect(expectedError[r.httpstatus]).toContain(r.errorcode);
      else expect(r.errorcode).toBeNull();
    }
    // Copy: the GET side shares the PUT side's request id and has no request line.
    for (const get of rows.filter((r) => r.operation === 'REST.COPY.OBJECT_GET')) {
      expect(get.request_uri).toBeNull();
      expect(rows.some((r) => r.operation === 'REST.COPY.OBJECT' && r.requestid === get.requestid)).toBe(true);
    }
    for (const r of rows.filter((x) => x.operation === 'S3.EXPIRE.OBJECT')) {
      expect([r.requester, r.remoteip, r.request_uri]).toEqual(['AmazonS3', null, null]);
    }
    expect(rows.some((r) => r.operation === 'BATCH.DELETE.OBJECT' && r.key!.includes('+'))).toBe(true);
    const text = objects.map((o) => o.body.toString('utf8')).join('');
    expect(text).toMatch(/ BATCH\.DELETE\.OBJECT \S+ - 204 /); // bare `-` request line
    expect(text).toMatch(/ S3\.EXPIRE\.OBJECT \S+ "-" - /); // quoted `"-"` request line
    expect(rows.some((r) => r.requester === null && r.sigv === null && r.authtype === null)).toBe(true);
    expect(new Set(rows.map((r) => r.sigv))).toEqual(new Set(['SigV2', 'SigV4', null]));
    expect(rows.some((r) => r.authtype === 'QueryString' && /X-Amz-Signature=[0-9a-f]{64}/.test(r.request_query ?? ''))).toBe(true);
    expect(rows.some((r) => r.authtype === 'QueryString' && /Signature=/.test(r.request_query ?? '') && r.sigv === 'SigV2')).toBe(true);
    expect(rows.some((r) => r.remoteip?.includes(':'))).toBe(true);
    expect(rows.some((r) => /^\d+\.\d+\.\d+\.\d+$/.test(r.remoteip ?? ''))).toBe(true);
    expect(new Set(rows.map((r) => r.tlsversion))).toEqual(new Set(['TLSv1.2', 'TLSv1.3', null]));
    expect(rows.some((r) => (r.objectsize ?? 0) > 2 ** 31)).toBe(true);
    expect(
      rows.every((r) => (r.objectsize === null || Number.isSafeInteger(r.objectsize)) && (r.bytessent === null || r.bytessent > 0)),
    ).toBe(true);
    expect(rows.some((r) => r.useragent !== null && r.useragent.length > 120)).toBe(true);
    // Keys that need encoding: spaces, `=` and unicode, logged double-encoded for REST.
    expect(rows.some((r) => r.operation!.startsWith('REST.') && r.key?.includes('%2520'))).toBe(true);
    expect(rows.some((r) => r.key?.includes('%253D'))).toBe(true);
    expect(rows.some((r) => /[^\x00-\x7f]/.test(r.key_decoded ?? ''))).toBe(true);
    expect(text).toContain(' +0000]');
  });

  it('rejects invalid options with a message naming the option', () => {
    expect(() => generate({ keyDate: '2024-02-30' })).toThrow(/keyDate/);
    expect(() => generate({ lateFraction: 2 })).toThrow(/lateFraction/);
    expect(() => generate({ buckets: [] })).toThrow(/buckets/);
    expect(() => generate({ layout: 'hourly' as never })).toThrow(/layout/);
  });
});

describe('writeKeyDateToDirectory', () => {
  it('writes each object under its key and reports the totals', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'genlogs-'));
    try {
      const options: GenerateOptions = {
        seed: 3,
        keyDate: KEY_DATE,
        layout: 'date-based',
        prefix: 'sal/',
        objects: 3,
        maxObjectBytes: 32 * 1024,
      };
      const summary = await writeKeyDateToDirectory(dir, options);
      const objects = [...generateKeyDate(options)];
      expect(summary).toEqual({
        objects: 3,
        bytes: objects.reduce((s, o) => s + o.body.length, 0),
        lines: objects.reduce((s, o) => s + o.lines, 0),
        rows: objects.reduce((s, o) => s + o.rows.length, 0),
      });
      for (const o of objects) expect((await readFile(join(dir, ...o.key.split('/')))).equals(o.body)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
