/**
 * --redact on bytes: presigned-URL secrets in request_uri / request_query / referrer columns and in
 * rejected lines, remote IP truncation, the flag, and the catalog record (local catalog; Glue in
 * redact.glue.test.ts). Hand-written edge cases, then the generated corpus against a regex oracle.
 */
import { describe, expect, it } from 'vitest';
import { generateKeyDate } from '../scripts/genLogs.js';
import { ACCESS_LOG_COLUMNS } from '../schemas/accessLog.js';
import { LocalCatalog } from '../src/catalog/local.js';
import { parseConvertConfig, parseRedact } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { tableDefinition } from '../src/schema/table.js';
import { toArrowTable } from '../src/stages/arrowTable.js';
import { RowBatch } from '../src/stages/build.js';
import { Column } from '../src/stages/columns.js';
import { parseLogObject } from '../src/stages/parse.js';
import {
  canonicalIpv6,
  Redactor,
  redactPresignedColumn,
  redactPresignedText,
  truncateIp,
  truncateIpColumn,
  type QueryShape,
  type Utf8Buffers,
} from '../src/stages/redact.js';
import { LocalStorage } from '../src/storage/local.js';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function column(values: ReadonlyArray<string | null>): Column {
  const c = new Column('utf8');
  c.ensureRows(values.length);
  for (const v of values) {
    if (v === null) c.appendNull();
    else {
      const b = Buffer.from(v);
      c.appendBytes(b, new DataView(b.buffer, b.byteOffset, b.byteLength), 0, b.length);
    }
  }
  return c;
}

function valuesOf(c: Utf8Buffers & { validity?: Uint8Array }): Array<string | null> {
  const out: Array<string | null> = [];
  for (let i = 0; i < c.length; i++) {
    const valid = c.validity ? (c.validity[i >> 3]! >> (i & 7)) & 1 : 1;
    out.push(valid ? Buffer.from(c.data.subarray(c.offsets[i]!, c.offsets[i + 1]!)).toString('utf8') : null);
  }
  return out;
}

function redacted(values: ReadonlyArray<string | null>, shape: QueryShape): Array<string | null> {
  const c = column(values);
  redactPresignedColumn(c, shape);
  return valuesOf(c);
}

describe('presigned secrets in a request line (request_uri)', () => {
  const cases: Array<[string, string, string]> = [
    ['only parameter', 'GET /b/k?X-Amz-Signature=0a1b2c HTTP/1.1', 'GET /b/k?X-Amz-Signature=REDACTED HTTP/1.1'],
    [
      'first and last, others kept',
      'GET /b/k?X-Amz-Credential=AKIAEXAMPLE%2F20240310%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240310T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=ab12 HTTP/1.1',
      'GET /b/k?X-Amz-Credential=REDACTED&X-Amz-Date=20240310T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=REDACTED HTTP/1.1',
    ],
    [
      'security token with encoded base64',
      'PUT /k?X-Amz-Security-Token=IQo%2Bb3%3D%3D&x=1 HTTP/1.1',
      'PUT /k?X-Amz-Security-Token=REDACTED&x=1 HTTP/1.1',
    ],
    [
      'names in any case',
      'GET /k?x-amz-signature=1&X-AMZ-CREDENTIAL=2&x-amz-security-token=3 HTTP/1.1',
      'GET /k?x-amz-signature=REDACTED&X-AMZ-CREDENTIAL=REDACTED&x-amz-security-token=REDACTED HTTP/1.1',
    ],
    [
      'SigV2 query auth',
      'GET /k?AWSAccessKeyId=AKIAEXAMPLE&Expires=1710000000&Signature=abc%2Bdef%3D HTTP/1.1',
      'GET /k?AWSAccessKeyId=REDACTED&Expires=1710000000&Signature=REDACTED HTTP/1.1',
    ],
    [
      'repeated parameter',
      'GET /k?Signature=a&Signature=b&Signature=c HTTP/1.1',
      'GET /k?Signature=REDACTED&Signature=REDACTED&Signature=REDACTED HTTP/1.1',
    ],
    [
      'nested URL, encoded %3D and %26',
      'GET /r?u=https%3A%2F%2Fb.s3.amazonaws.com%2Fk%3FX-Amz-Signature%3Dfeed%26X-Amz-Date%3D1&v=2 HTTP/1.1',
      'GET /r?u=https%3A%2F%2Fb.s3.amazonaws.com%2Fk%3FX-Amz-Signature%3DREDACTED%26X-Amz-Date%3D1&v=2 HTTP/1.1',
    ],
    ['lower-case escapes', 'GET /r?u=x%3fsignature%3dfeed%26a%3d1 HTTP/1.1', 'GET /r?u=x%3fsignature%3dREDACTED%26a%3d1 HTTP/1.1'],
    ['no value, empty value', 'GET /k?Signature&X-Amz-Signature=&a=1 HTTP/1.1', 'GET /k?Signature&X-Amz-Signature=&a=1 HTTP/1.1'],
    [
      'look-alike names',
      'GET /k?MyX-Amz-Signature=1&X-Amz-SignatureX=2&SignatureVersion=2&x-Signature=3 HTTP/1.1',
      'GET /k?MyX-Amz-Signature=1&X-Amz-SignatureX=2&SignatureVersion=2&x-Signature=3 HTTP/1.1',
    ],
    [
      'the path before ? is not a query',
      'GET /b/a&Signature=x/k?Signature=y HTTP/1.1',
      'GET /b/a&Signature=x/k?Signature=REDACTED HTTP/1.1',
    ],
    ['no query', 'GET /b/k HTTP/1.1', 'GET /b/k HTTP/1.1'],
    ['already redacted', 'GET /k?X-Amz-Signature=REDACTED HTTP/1.1', 'GET /k?X-Amz-Signature=REDACTED HTTP/1.1'],
    ['value ends at #', 'GET /k?Signature=abc#frag HTTP/1.1', 'GET /k?Signature=REDACTED#frag HTTP/1.1'],
    ['UTF-8 around', 'GET /ü/ключ?X-Amz-Signature=ab&n=ü HTTP/1.1', 'GET /ü/ключ?X-Amz-Signature=REDACTED&n=ü HTTP/1.1'],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(redacted([input], 'url')).toEqual([expected]);
  });

  it('rewrites offsets so neighbours, nulls and empty values keep their bytes', () => {
    const input = [
      'GET /a HTTP/1.1',
      null,
      'GET /k?X-Amz-Signature=0123456789abcdef0123456789abcdef HTTP/1.1',
      '',
      'GET /k?Signature=x HTTP/1.1',
      null,
      'last',
    ];
    const out = redacted(input, 'url');
    expect(out).toEqual([
      'GET /a HTTP/1.1',
      null,
      'GET /k?X-Amz-Signature=REDACTED HTTP/1.1',
      '',
      'GET /k?Signature=REDACTED HTTP/1.1',
      null,
      'last',
    ]);
  });

  it('leaves the buffers untouched when nothing matches', () => {
    const c = column(['GET /k?a=1 HTTP/1.1', 'GET /x?b=%3D HTTP/1.1']);
    const { data, offsets } = c;
    expect(redactPresignedColumn(c, 'url')).toBe(0);
    expect(c.data).toBe(data);
    expect(c.offsets).toBe(offsets);
  });
});

describe('presigned secrets in request_query (the whole value is the query)', () => {
  it.each([
    ['X-Amz-Signature=abc', 'X-Amz-Signature=REDACTED'],
    ['a=1&X-Amz-Security-Token=t%2Bo%3D', 'a=1&X-Amz-Security-Token=REDACTED'],
    ['X-Amz-Signature%3Dabc', 'X-Amz-Signature%3DREDACTED'],
    ['versionId=3&uploads', 'versionId=3&uploads'],
  ])('%s', (input, expected) => {
    expect(redacted([input, null], 'query')).toEqual([expected, null]);
  });

  it('a value in request_uri only is redacted there (request_query null: no ? in the line)', () => {
    // e.g. a request line cut short: the query column is derived from request_uri, both get the same treatment.
    expect(redacted(['GET /k?Signature=x'], 'url')).toEqual(['GET /k?Signature=REDACTED']);
    expect(redacted([null], 'query')).toEqual([null]);
  });
});

describe('rejected lines', () => {
  it('redacts after any separator and keeps the rest of the line', () => {
    const line = 'junk "GET /k?X-Amz-Credential=AKIA%2Fx&X-Amz-Signature=ff HTTP/1.1" "https://r/?Signature=s" trailing';
    expect(Buffer.from(redactPresignedText(Buffer.from(line))).toString()).toBe(
      'junk "GET /k?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED HTTP/1.1" "https://r/?Signature=REDACTED" trailing',
    );
  });
  it('returns the same bytes when there is nothing to redact', () => {
    const bytes = Buffer.from('Signature=x at the start is no parameter');
    expect(redactPresignedText(bytes)).toBe(bytes);
  });
  it('the reject detail too', () => {
    const r = new Redactor(['presigned']);
    const out = r.redactReject(Buffer.from('x?Signature=abc'), 'field 9 is neither quoted nor -: "/k?Signature=abc"');
    expect(out.detail).toBe('field 9 is neither quoted nor -: "/k?Signature=REDACTED"');
    expect(new Redactor(['ip']).redactReject(Buffer.from('x?Signature=abc'), 'd').raw.toString()).toBe('x?Signature=abc');
  });
});

describe('remote IP truncation', () => {
  const ip = (text: string): string => {
    const out = new Uint8Array(64);
    const n = truncateIp(Buffer.from(text), 0, text.length, out);
    return n < 0 ? text : Buffer.from(out.subarray(0, n)).toString();
  };
  it.each([
    ['192.0.2.44', '192.0.2.0'],
    ['10.1.2.0', '10.1.2.0'],
    ['255.255.255.255', '255.255.255.0'],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', '2001:db8:85a3::'],
    ['2001:0DB8:0000:0000::1', '2001:db8::'],
    ['2600:1f18:4a3:6900:5d1c:ad7b:c4e1:2b42', '2600:1f18:4a3::'],
    ['2600:1f18:4a3:6900::1', '2600:1f18:4a3::'],
    ['::1', '::'],
    ['1:0:0:2::', '1::'],
    ['::ffff:192.0.2.7', '::ffff:192.0.2.0'],
    ['::ffff:c000:207', '::ffff:c000:200'],
    // Not addresses: left as they are.
    ['256.1.1.1', '256.1.1.1'],
    ['01.2.3.4', '01.2.3.4'],
    ['1.2.3', '1.2.3'],
    ['1.2.3.4.5', '1.2.3.4.5'],
    ['fe80::1%eth0', 'fe80::1%eth0'],
    ['1::2::3', '1::2::3'],
    ['1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8:9'],
    ['12345::', '12345::'],
    ['-', '-'],
    ['unknown', 'unknown'],
  ])('%s → %s', (input, expected) => {
    expect(ip(input)).toBe(expected);
  });

  it('a column: nulls stay null, offsets follow', () => {
    const c = column(['192.0.2.44', null, '2001:db8:85a3:8d3:1319:8a2e:370:7348', 'x', '10.0.0.0']);
    expect(truncateIpColumn(c)).toBe(2);
    expect(valuesOf(c)).toEqual(['192.0.2.0', null, '2001:db8:85a3::', 'x', '10.0.0.0']);
  });

  it('RFC 5952 text', () => {
    expect(canonicalIpv6([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1])).toBe('2001:db8::1:0:0:1');
    expect(canonicalIpv6([1, 0, 2, 0, 3, 0, 4, 0])).toBe('1:0:2:0:3:0:4:0');
    expect(canonicalIpv6([0, 0, 0, 0, 0, 0, 0, 0])).toBe('::');
  });
});

describe('--redact', () => {
  it('takes presigned, ip, both in any order, or none', () => {
    expect(parseRedact(undefined)).toEqual([]);
    expect(parseRedact('none')).toEqual([]);
    expect(parseRedact('presigned')).toEqual(['presigned']);
    expect(parseRedact('presigned,ip')).toEqual(['ip', 'presigned']);
    expect(parseRedact('ip, presigned,ip')).toEqual(['ip', 'presigned']);
    expect(parseConvertConfig(['--source', 'a', '--dest', 'b', '--date', '2024-03-10', '--redact', 'presigned,ip']).redact).toEqual([
      'ip',
      'presigned',
    ]);
    expect(parseConvertConfig(['--source', 'a', '--dest', 'b', '--date', '2024-03-10']).redact).toEqual([]);
  });
  it('refuses anything else, naming the flag', () => {
    for (const bad of ['', 'presign', 'ip,none', 'all']) {
      const error = (() => {
        try {
          parseRedact(bad);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).flag).toBe('--redact');
      expect((error as Error).message).toContain('presigned');
    }
  });
});

describe('local catalog s3logs.redact: what holds for every registered row', () => {
  it('set on create, narrowed (never widened) by later registrations', async () => {
    const dir = await mkdtemp(join(tmpdir(), 's3logs-redact-catalog-'));
    const catalog = new LocalCatalog(new LocalStorage(dir));
    const def = tableDefinition(dir + '/');
    await catalog.ensureTable({ ...def, redact: ['ip', 'presigned'] });
    expect(await catalog.tableRedact()).toEqual(['ip', 'presigned']);
    await catalog.ensureTable({ ...def, redact: ['ip', 'presigned'] });
    expect(await catalog.tableRedact()).toEqual(['ip', 'presigned']);
    await catalog.ensureTable({ ...def, redact: ['presigned'] });
    expect(await catalog.tableRedact()).toEqual(['presigned']);
    await catalog.ensureTable({ ...def, redact: ['ip', 'presigned'] });
    expect(await catalog.tableRedact()).toEqual(['presigned']);
    await catalog.ensureTable({ ...def, redact: [] });
    expect(await catalog.tableRedact()).toEqual([]);
  });
  it('a table from before the record holds rows as logged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 's3logs-redact-catalog-'));
    const catalog = new LocalCatalog(new LocalStorage(dir));
    const def = tableDefinition(dir + '/');
    await catalog.ensureTable(def);
    expect(await catalog.tableRedact()).toEqual([]);
    await catalog.ensureTable({ ...def, redact: ['presigned'] });
    expect(await catalog.tableRedact()).toEqual([]);
  });
});

/**
 * An independent spelling of the presigned rule as a regular expression over strings, for the generated
 * corpus: secret name after a separator, `=` or `%3D`, value up to `&`, `%26`, space, `#`, `"` or the end.
 */
const ORACLE =
  /((?:^|[?&]|%3F|%26))(x-amz-credential|x-amz-signature|x-amz-security-token|awsaccesskeyid|signature)(=|%3D)((?:(?!%26)[^&\s#"])+)/gi;
function oracle(value: string | null, shape: QueryShape): string | null {
  if (value === null) return null;
  const replace = (text: string) => text.replace(ORACLE, (_m, sep: string, name: string, eq: string) => `${sep}${name}${eq}REDACTED`);
  if (shape === 'query') return replace(value);
  const q = value.indexOf('?');
  return q < 0 ? value : value.slice(0, q + 1) + replace(value.slice(q + 1));
}

describe('the generated corpus', () => {
  it('redacts exactly what the oracle does, and nothing else in any column', () => {
    const index = (name: string) => ACCESS_LOG_COLUMNS.findIndex((c) => c.name === name);
    const plain = new RowBatch();
    const batch = new RowBatch();
    let lines = 0;
    for (const object of generateKeyDate({
      seed: 7,
      keyDate: '2024-03-10',
      layout: 'date-based',
      objects: 8,
      minObjectBytes: 128 * 1024,
      maxObjectBytes: 256 * 1024,
      quoteFraction: 0.03,
      rejectFraction: 0,
    })) {
      parseLogObject(object.body, {
        row: (buf, spans) => {
          plain.appendRow(buf, spans);
          batch.appendRow(buf, spans);
        },
        reject: () => undefined,
      });
      lines += object.lines;
    }
    expect(batch.length).toBeGreaterThan(2000);
    const redactor = new Redactor(['presigned', 'ip']);
    redactor.redactColumns(batch.columns);
    const valuesBefore = (name: string) => valuesOf(plain.columns[index(name)] as Column);
    const valuesAfter = (name: string) => valuesOf(batch.columns[index(name)] as Column);
    const shapes: Record<string, QueryShape> = { request_uri: 'url', request_query: 'query', referrer: 'url' };
    let changedRows = 0;
    for (const [name, shape] of Object.entries(shapes)) {
      const original = valuesBefore(name);
      const expected = original.map((v) => oracle(v, shape));
      expect(valuesAfter(name)).toEqual(expected);
      changedRows += expected.filter((v, i) => v !== original[i]).length;
    }
    // The generator writes presigned URLs: there was something to redact, and it is gone.
    expect(changedRows).toBeGreaterThan(100);
    expect(valuesAfter('request_query').filter((v) => v !== null && /X-Amz-Signature=(?!REDACTED)/i.test(v))).toEqual([]);
    expect(valuesBefore('request_query').filter((v) => v !== null && /X-Amz-Security-Token=(?!REDACTED)/i.test(v)).length).toBeGreaterThan(
      10,
    );
    // remoteip: /24 and /48 of the original.
    const ips = valuesBefore('remoteip');
    valuesAfter('remoteip').forEach((v, i) => {
      const o = ips[i] ?? null;
      if (o === null) expect(v).toBeNull();
      else if (o.includes(':')) expect(v!.endsWith('::') || v!.startsWith('::ffff:')).toBe(true);
      else expect(v).toBe(o.replace(/\.\d+$/, '.0'));
    });
    // Every other column holds the same buffers it held.
    for (const [i, spec] of ACCESS_LOG_COLUMNS.entries()) {
      if (['request_uri', 'request_query', 'referrer', 'remoteip'].includes(spec.name)) continue;
      const a = plain.columns[i]!.state();
      const b = batch.columns[i]!.state();
      expect(
        Buffer.from(b.values.buffer, 0, b.values.byteLength).equals(Buffer.from(a.values.buffer, 0, a.values.byteLength)),
        spec.name,
      ).toBe(true);
      expect(Buffer.from(b.validity).equals(Buffer.from(a.validity)), spec.name).toBe(true);
    }
    // The redacted batch is still a valid Arrow table.
    expect(toArrowTable(batch).numRows).toBe(batch.length);
    expect(lines).toBeGreaterThan(0);
  });
});
