/**
 * One test per entry of EDGE_CASES.md (#1–#31): each line goes through parse → build → Arrow and the
 * cells are checked against the entry's "Right value" and the column rules of schemas/accessLog.ts.
 * Every expectation below was written from those texts, not from the parser's output.
 *
 * Licences: a corpus line is copied here only when its source allows redistribution:
 *  - #5  tstack/lnav @bb0005f9 src/formats/s3_log.json (BSD-2-Clause)
 *  - #6  open-telemetry/opentelemetry-collector-contrib @1ca0305c …/testdata/too_many_values.log (Apache-2.0)
 *  - #7  aws-samples/siem-on-amazon-opensearch-service PR #34 (MIT-0), as quoted in EDGE_CASES.md
 *  - #9  aws-samples/siem-on-amazon-opensearch-service issue #254 (MIT-0), as quoted in EDGE_CASES.md
 *  - #24 awsdocs/amazon-s3-userguide @a79892c2 doc_source/LogFormat.md (CC-BY-SA-4.0, © Amazon.com, Inc.)
 * Every other entry comes from a source with no licence, AGPL or the Elastic License, so its test uses a
 * synthetic line written for this file (built by rec() below) that exercises the same feature.
 */
import { describe, expect, it } from 'vitest';
import { parseOne, parseRows, type Row } from './helpers/parseRows.js';

// ---------------------------------------------------------------------------------------------------
// Synthetic record builder: the 27 documented fields in order (FORMAT.md §2), joined by single spaces.
// ---------------------------------------------------------------------------------------------------
const FIELD_ORDER = [
  'owner',
  'bucket',
  'time',
  'ip',
  'requester',
  'requestId',
  'operation',
  'key',
  'uri',
  'status',
  'error',
  'bytes',
  'size',
  'total',
  'turnaround',
  'referer',
  'ua',
  'version',
  'hostId',
  'sigv',
  'cipher',
  'auth',
  'endpoint',
  'tls',
  'apArn',
  'acl',
  'region',
] as const;
type FieldName = (typeof FIELD_ORDER)[number];

const OWNER = '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0';
const HOST_ID = 'c3ludGhldGljLWhvc3QtaWQtZm9yLXMzbG9ncy10ZXN0cy0wMTIzNDU2Nzg5YWJjZGVmZ2hpams=';

const DEFAULTS: Record<FieldName, string> = {
  owner: OWNER,
  bucket: 'example-src',
  time: '[03/Mar/2021:04:05:06 +0000]',
  ip: '198.51.100.7',
  requester: 'arn:aws:iam::111122223333:user/tester',
  requestId: 'A1B2C3D4E5F60718',
  operation: 'REST.GET.OBJECT',
  key: 'docs/readme.txt',
  uri: '"GET /docs/readme.txt HTTP/1.1"',
  status: '200',
  error: '-',
  bytes: '1024',
  size: '1024',
  total: '12',
  turnaround: '10',
  referer: '"-"',
  ua: '"curl/8.4.0"',
  version: '-',
  hostId: HOST_ID,
  sigv: 'SigV4',
  cipher: 'ECDHE-RSA-AES128-GCM-SHA256',
  auth: 'AuthHeader',
  endpoint: 'example-src.s3.us-east-2.amazonaws.com',
  tls: 'TLSv1.2',
  apArn: '-',
  acl: '-',
  region: 'us-east-2',
};

/** A synthetic record of the first `count` fields, with some fields replaced (values are raw log text). */
function rec(overrides: Partial<Record<FieldName, string>>, count: number): string {
  return FIELD_ORDER.slice(0, count)
    .map((name) => overrides[name] ?? DEFAULTS[name])
    .join(' ');
}

/** Epoch ms of a UTC wall-clock time (month 1-based), computed independently of the parser. */
function utc(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

const FIELD_COLUMNS = [
  'bucketowner',
  'bucket_name',
  'requestdatetime',
  'remoteip',
  'requester',
  'requestid',
  'operation',
  'key',
  'request_uri',
  'httpstatus',
  'errorcode',
  'bytessent',
  'objectsize',
  'totaltime',
  'turnaroundtime',
  'referrer',
  'useragent',
  'versionid',
  'hostid',
  'sigv',
  'ciphersuite',
  'authtype',
  'endpoint',
  'tlsversion',
  'accesspointarn',
  'aclrequired',
  'sourceregion',
];

function expectRow(row: Row, expected: Row): void {
  expect(pick(row, Object.keys(expected))).toEqual(expected);
}

function pick(row: Row, names: string[]): Row {
  const out: Row = {};
  for (const name of names) {
    if (!(name in row)) throw new Error(`no column ${name}`);
    out[name] = row[name];
  }
  return out;
}

describe('EDGE_CASES.md', () => {
  it('#1 bare - Request-URI, Referer and UA on a BATCH.DELETE.OBJECT record (24 fields)', () => {
    const line = rec(
      {
        operation: 'BATCH.DELETE.OBJECT',
        key: 'release-1.5.0.war',
        uri: '-',
        status: '204',
        bytes: '-',
        size: '344017',
        total: '-',
        turnaround: '-',
        referer: '-',
        ua: '-',
        cipher: 'ECDHE-RSA-AES128-SHA',
        endpoint: 's3.eu-central-1.amazonaws.com',
      },
      24,
    );
    expectRow(parseOne(line), {
      key: 'release-1.5.0.war',
      request_uri: null,
      request_method: null,
      request_path: null,
      request_query: null,
      request_protocol: null,
      httpstatus: 204,
      bytessent: null,
      objectsize: 344017,
      totaltime: null,
      turnaroundtime: null,
      referrer: null,
      useragent: null,
      versionid: null,
      hostid: HOST_ID,
      sigv: 'SigV4',
      tlsversion: 'TLSv1.2',
      accesspointarn: null,
      aclrequired: null,
      sourceregion: null,
      field_count: 24,
      extra_fields: null,
    });
  });

  it('#2 quoted "-" Request-URI, lifecycle record with remote IP - and seven trailing - (26 fields)', () => {
    const version = 'Vq3kPzSyntheticVersionId0123456';
    const lifecycleHostId = 'U3ludGhldGljTGlmZWN5Y2xlSG9zdElkV2l0aG91dFBhZGRpbmcwMTIzNDU2Nzg5';
    const line = rec(
      {
        ip: '-',
        requester: 'AmazonS3',
        requestId: '9F8E7D6C5B4A3921',
        operation: 'S3.EXPIRE.OBJECT',
        key: 'tmp/cache/state_flags.sst',
        uri: '"-"',
        status: '-',
        bytes: '-',
        size: '317',
        total: '-',
        turnaround: '-',
        ua: '"-"',
        version,
        hostId: lifecycleHostId,
        sigv: '-',
        cipher: '-',
        auth: '-',
        endpoint: '-',
        tls: '-',
      },
      26,
    );
    expectRow(parseOne(line), {
      remoteip: null,
      requester: 'AmazonS3',
      operation: 'S3.EXPIRE.OBJECT',
      request_uri: null,
      request_method: null,
      httpstatus: null,
      errorcode: null,
      bytessent: null,
      objectsize: 317,
      referrer: null,
      useragent: null,
      versionid: version,
      hostid: lifecycleHostId,
      sigv: null,
      ciphersuite: null,
      authtype: null,
      endpoint: null,
      tlsversion: null,
      accesspointarn: null,
      aclrequired: false,
      field_count: 26,
    });
  });

  it('#3 remote IP - for an AWS service principal; Key differs from the Request-URI path (25 fields)', () => {
    const key = 'AWSLogs/111122223333/vpcflowlogs/us-east-2/flowlog_fl-_20210713T1855Z.log.gz';
    const path = '/AWSLogs/111122223333/vpcflowlogs/us-east-2/flowlog_fl-0a1b2c3d4e5f_20210713T1855Z.log.gz';
    const line = rec(
      {
        ip: '-',
        requester: 'svc:delivery.logs.amazonaws.com',
        operation: 'REST.PUT.OBJECT',
        key,
        uri: `"PUT ${path} HTTP/1.1"`,
        bytes: '-',
        size: '773',
        total: '103',
        turnaround: '13',
        ua: '"-"',
      },
      25,
    );
    expectRow(parseOne(line), {
      remoteip: null,
      requester: 'svc:delivery.logs.amazonaws.com',
      key,
      key_decoded: key,
      request_method: 'PUT',
      request_path: path,
      objectsize: 773,
      totaltime: 103,
      turnaroundtime: 13,
      accesspointarn: null,
      aclrequired: null,
      field_count: 25,
    });
  });

  it('#4 old 18-field record ending at Version Id is kept, later columns null', () => {
    const line = rec(
      {
        ip: '10.20.30.40',
        operation: 'REST.GET.LIFECYCLE',
        key: '-',
        uri: '"GET /legacy-bucket?lifecycle HTTP/1.1"',
        status: '404',
        error: 'NoSuchLifecycleConfiguration',
        bytes: '313',
        size: '-',
        total: '28',
        turnaround: '28',
        ua: '"S3Console/0.4"',
      },
      18,
    );
    const row = parseOne(line);
    expectRow(row, {
      key: null,
      key_decoded: null,
      request_path: '/legacy-bucket',
      request_query: 'lifecycle',
      httpstatus: 404,
      errorcode: 'NoSuchLifecycleConfiguration',
      bytessent: 313,
      objectsize: null,
      totaltime: 28,
      turnaroundtime: 28,
      useragent: 'S3Console/0.4',
      versionid: null,
      field_count: 18,
      extra_fields: null,
    });
    for (const column of FIELD_COLUMNS.slice(18)) expect(row[column], column).toBeNull();
  });

  it('#5 17-field record ending at User-Agent, with a -0500 offset applied (lnav sample)', () => {
    // tstack/lnav src/formats/s3_log.json, BSD-2-Clause.
    const line =
      'b659b576cff1e15e4c0313ff8930fba9f53e6794567f5c60dab3abf2f8dfb6cc www.example.com [10/Feb/2012:16:42:07 -0500] 1.2.3.4 arn:aws:iam::179580289999:user/phillip.boss EB3502676500C6BE WEBSITE.GET.OBJECT index "GET /index HTTP/1.1" 200 - 368 368 10 9 "-" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/535.11 (KHTML, like Gecko) Chrome/17.0.963.56 Safari/535.11"';
    const row = parseOne(line);
    expectRow(row, {
      bucket_name: 'www.example.com',
      requestdatetime: utc(2012, 2, 10, 21, 42, 7),
      remoteip: '1.2.3.4',
      requester: 'arn:aws:iam::179580289999:user/phillip.boss',
      operation: 'WEBSITE.GET.OBJECT',
      key: 'index',
      request_method: 'GET',
      request_path: '/index',
      request_protocol: 'HTTP/1.1',
      bytessent: 368,
      objectsize: 368,
      totaltime: 10,
      turnaroundtime: 9,
      useragent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/535.11 (KHTML, like Gecko) Chrome/17.0.963.56 Safari/535.11',
      versionid: null,
      field_count: 17,
    });
    for (const column of FIELD_COLUMNS.slice(17)) expect(row[column], column).toBeNull();
  });

  it('#6 a field after the 27th is kept in extra_fields (OTel too_many_values.log)', () => {
    // open-telemetry/opentelemetry-collector-contrib …/testdata/too_many_values.log, Apache-2.0.
    const line =
      '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /amzn-s3-demo-bucket1?versioning HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com TLSV1.2 arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP Yes us-east-1 ExtraUnknownField';
    expectRow(parseOne(line), {
      requestdatetime: utc(2019, 2, 6, 0, 0, 38),
      tlsversion: 'TLSV1.2',
      accesspointarn: 'arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP',
      aclrequired: true,
      sourceregion: 'us-east-1',
      extra_fields: 'ExtraUnknownField',
      field_count: 28,
    });
    // More than one unknown field: all of their raw text, in order.
    const wider = parseOne(rec({ acl: 'Yes' }, 27) + ' next-field 42');
    expectRow(wider, { sourceregion: 'us-east-2', extra_fields: 'next-field 42', field_count: 29 });
  });

  it('#7 raw quote at the end of the User-Agent (doubled closing quote)', () => {
    // aws-samples/siem-on-amazon-opensearch-service PR #34, MIT-0 (IDs masked upstream).
    const line =
      'BucketOwner email-contents.sansan.com [24/Dec/2020:20:00:00 +0000] xxx.xxxx.xx.xxx - xxxxxIDxxxx REST.GET.OBJECT aaa/fizzbuzz.txt "GET /some-path/fizzbuzz.txt HTTP/1.1" 200 - 49851 49851 23 22 "https://example,com/some/url" "Mozilla/5.0 (iPad; CPU OS 13_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0.1 Mobile/15E148 Safari/604.1"" - someIDstring - ECDHE-RSA-AES128-GCM-SHA256 - s3-ap-northeast-1.amazonaws.com TLSv1.2';
    expectRow(parseOne(line), {
      referrer: 'https://example,com/some/url',
      useragent:
        'Mozilla/5.0 (iPad; CPU OS 13_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0.1 Mobile/15E148 Safari/604.1"',
      versionid: null,
      hostid: 'someIDstring',
      sigv: null,
      ciphersuite: 'ECDHE-RSA-AES128-GCM-SHA256',
      authtype: null,
      endpoint: 's3-ap-northeast-1.amazonaws.com',
      tlsversion: 'TLSv1.2',
      field_count: 24,
    });
  });

  it('#8 User-Agent that starts with a quote; object size beyond 2^31 (int64)', () => {
    const line = rec(
      {
        requester: '-',
        operation: 'REST.GET.OBJECT',
        key: 'blobs/0a1/b2c/0a1b2c3d',
        uri: '"GET /blobs/0a1/b2c/0a1b2c3d HTTP/1.1"',
        bytes: '6616308',
        size: '422868123111',
        total: '205',
        turnaround: '35',
        ua: '""Mozilla/5.0 (Windows NT 10.0; Win64; x64) Synthetic/1.0 Safari/537.36"',
        sigv: '-',
        auth: '-',
      },
      26,
    );
    expectRow(parseOne(line), {
      useragent: '"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Synthetic/1.0 Safari/537.36',
      bytessent: 6616308,
      objectsize: 422868123111,
      versionid: null,
      hostid: HOST_ID,
      sigv: null,
      authtype: null,
      field_count: 26,
    });
  });

  it('#9 quotes and spaces inside both Referer and User-Agent (Shellshock probe)', () => {
    // aws-samples/siem-on-amazon-opensearch-service issue #254, MIT-0 (IDs masked upstream).
    const line =
      'masked masked [19/May/2022:12:59:47 +0000] 198.51.100.0 - masked REST.GET.BUCKET - "GET / HTTP/1.1" 403 AccessDenied 243 - 4 - "() { :;}; echo; echo "masked"" "() { :;}; echo; echo "masked"" - masked - ECDHE-RSA-AES128-GCM-SHA256 - masked.s3-ap-northeast-1.amazonaws.com TLSv1.2 -';
    const payload = '() { :;}; echo; echo "masked"';
    expectRow(parseOne(line), {
      requester: null,
      httpstatus: 403,
      errorcode: 'AccessDenied',
      referrer: payload,
      useragent: payload,
      versionid: null,
      hostid: 'masked',
      sigv: null,
      authtype: null,
      endpoint: 'masked.s3-ap-northeast-1.amazonaws.com',
      tlsversion: 'TLSv1.2',
      accesspointarn: null,
      field_count: 25,
    });
  });

  it('#10 raw " and \\ inside the Request-URI and the Referer (injection payload)', () => {
    const query = 's=idx/\\think\\tpl\\driver\\file/write&cache=r.php&c=x1<?php$p%20=%20"pw";$c%20=%20explode(".","a.b.c");?>';
    const target = `//?${query}`;
    const referer = `https://example-src.s3.amazonaws.com${target}`;
    const ua = 'Mozilla/5.0 (compatible; ExampleBot/2.0; +http://bot.example.org/bot.html)';
    const line = rec(
      {
        requester: '-',
        key: '/',
        uri: `"GET ${target} HTTP/1.1"`,
        status: '404',
        error: 'NoSuchKey',
        bytes: '272',
        size: '-',
        total: '9',
        turnaround: '-',
        referer: `"${referer}"`,
        ua: `"${ua}"`,
        sigv: '-',
        auth: '-',
      },
      26,
    );
    expectRow(parseOne(line), {
      key: '/',
      key_decoded: '/',
      request_uri: `GET ${target} HTTP/1.1`,
      request_method: 'GET',
      request_path: '//',
      request_query: query,
      request_protocol: 'HTTP/1.1',
      httpstatus: 404,
      errorcode: 'NoSuchKey',
      referrer: referer,
      useragent: ua,
      tlsversion: 'TLSv1.2',
      field_count: 26,
    });
  });

  it('#11 REST keys are decoded twice: %253D → =, and + is not a space', () => {
    const { rows, rejects } = parseRows(
      [
        rec(
          {
            operation: 'REST.PUT.PART',
            key: 'runs/sample_index%253Dlane2.fastq.gz',
            uri: '"PUT /runs/sample_index%3Dlane2.fastq.gz?partNumber=4&uploadId=Ab.Cd-- HTTP/1.1"',
          },
          24,
        ),
        rec({ key: 'a%253Db' }, 24),
        rec({ operation: 'WEBSITE.GET.OBJECT', key: 'a+b%2520c' }, 24),
      ].join('\n'),
    );
    expect(rejects).toEqual([]);
    expect(rows.map((r) => [r.key, r.key_decoded])).toEqual([
      ['runs/sample_index%253Dlane2.fastq.gz', 'runs/sample_index=lane2.fastq.gz'],
      ['a%253Db', 'a=b'],
      ['a+b%2520c', 'a+b c'],
    ]);
    expectRow(rows[0]!, { request_path: '/runs/sample_index%3Dlane2.fastq.gz', request_query: 'partNumber=4&uploadId=Ab.Cd--' });
  });

  it('a decoding stage whose bytes are not UTF-8 is not applied; one that gives UTF-8 is', () => {
    const { rows, rejects } = parseRows(
      [
        // second stage gives byte E9 alone: keep the first stage
        rec({ key: 'caf%25E9.txt' }, 24),
        // first stage already gives E9 alone: keep the key as logged
        rec({ key: 'caf%E9.txt' }, 24),
        // both stages valid: é
        rec({ key: 'caf%25C3%25A9.txt' }, 24),
        // form-encoded once, invalid: as logged
        rec({ ip: '-', requester: 'AmazonS3', operation: 'S3.EXPIRE.OBJECT', key: 'a+%E9', uri: '"-"' }, 26),
      ].join('\n'),
    );
    expect(rejects).toEqual([]);
    expect(rows.map((r) => [r.key, r.key_decoded])).toEqual([
      ['caf%25E9.txt', 'caf%E9.txt'],
      ['caf%E9.txt', 'caf%E9.txt'],
      ['caf%25C3%25A9.txt', 'café.txt'],
      ['a+%E9', 'a+%E9'],
    ]);
  });

  it('#12 BATCH.DELETE.OBJECT and S3.* keys are form-decoded once (+ is a space)', () => {
    const batch = (key: string) =>
      rec(
        {
          operation: 'BATCH.DELETE.OBJECT',
          key,
          uri: '-',
          status: '204',
          bytes: '-',
          size: '57138',
          total: '-',
          turnaround: '-',
          referer: '-',
          ua: '-',
        },
        24,
      );
    const { rows, rejects } = parseRows(
      [
        batch('Screen+Shot+x.png'),
        batch('report%2B2019+final.pdf'),
        rec({ ip: '-', requester: 'AmazonS3', operation: 'S3.EXPIRE.OBJECT', key: 'a+b%2Bc%2525', uri: '"-"' }, 26),
      ].join('\n'),
    );
    expect(rejects).toEqual([]);
    expect(rows.map((r) => [r.key, r.key_decoded])).toEqual([
      ['Screen+Shot+x.png', 'Screen Shot x.png'],
      ['report%2B2019+final.pdf', 'report+2019 final.pdf'],
      // once only: %2525 → %25, not %
      ['a+b%2Bc%2525', 'a b+c%25'],
    ]);
  });

  it('#13 key with * that the Request-URI percent-encodes, and a key that is just "."', () => {
    const { rows, rejects } = parseRows(
      [
        rec(
          {
            operation: 'REST.HEAD.OBJECT',
            key: 'SRR000001/*.fastq*',
            uri: '"HEAD /SRR000001/%2A.fastq%2A HTTP/1.1"',
            status: '404',
            error: 'NoSuchKey',
            size: '-',
          },
          24,
        ),
        rec({ operation: 'REST.HEAD.OBJECT', key: '.', uri: '"HEAD /. HTTP/1.1"', status: '404', error: 'NoSuchKey', size: '-' }, 24),
      ].join('\n'),
    );
    expect(rejects).toEqual([]);
    expectRow(rows[0]!, {
      key: 'SRR000001/*.fastq*',
      key_decoded: 'SRR000001/*.fastq*',
      request_method: 'HEAD',
      request_path: '/SRR000001/%2A.fastq%2A',
      httpstatus: 404,
      errorcode: 'NoSuchKey',
    });
    expectRow(rows[1]!, { key: '.', key_decoded: '.', request_path: '/.' });
  });

  it('#14 two-token Host Id is one field; the fields after it stay in place', () => {
    const hostId = 'AIDAEXAMPLEUNIQUEID01 U3ludGhldGljU2Vjb25kSG9zdElkVG9rZW4wMTIzNDU2Nzg5YWJjZGVmZ2hpams=';
    const line = rec(
      {
        operation: 'REST.GET.TAGGING',
        key: '-',
        uri: '"GET /example-src?tagging= HTTP/1.1"',
        status: '404',
        error: 'NoSuchTagSet',
        hostId,
        cipher: 'ECDHE-RSA-AES128-SHA',
        endpoint: 's3.amazonaws.com',
      },
      24,
    );
    expectRow(parseOne(line), {
      hostid: hostId,
      sigv: 'SigV4',
      ciphersuite: 'ECDHE-RSA-AES128-SHA',
      authtype: 'AuthHeader',
      endpoint: 's3.amazonaws.com',
      tlsversion: 'TLSv1.2',
      field_count: 24,
    });
  });

  it('#15 copy: PUT and GET records share one Request ID; the GET side is mostly - (18 fields)', () => {
    const requestId = '5E4932SYNTH0FAC3';
    const { rows, rejects } = parseRows(
      [
        rec(
          {
            requestId,
            operation: 'REST.COPY.OBJECT',
            key: 'media/2014/copy.mp3',
            uri: '"PUT /media/2014/copy.mp3 HTTP/1.1"',
            bytes: '234',
            size: '16251603',
            referer: '"-"',
            ua: '"-"',
          },
          18,
        ),
        rec(
          {
            requestId,
            operation: 'REST.COPY.OBJECT_GET',
            key: 'media/upload/source.mp3',
            uri: '-',
            bytes: '-',
            size: '16251603',
            total: '-',
            turnaround: '-',
            referer: '-',
            ua: '-',
          },
          18,
        ),
      ].join('\n'),
    );
    expect(rejects).toEqual([]);
    expect(rows.map((r) => r.requestid)).toEqual([requestId, requestId]);
    expectRow(rows[1]!, {
      operation: 'REST.COPY.OBJECT_GET',
      key: 'media/upload/source.mp3',
      request_uri: null,
      httpstatus: 200,
      errorcode: null,
      bytessent: null,
      objectsize: 16251603,
      totaltime: null,
      turnaroundtime: null,
      referrer: null,
      useragent: null,
      versionid: null,
      field_count: 18,
    });
  });

  it('#16 byte-identical duplicate records are both loaded (dedupe happens later, on a composite key)', () => {
    const line = rec({ operation: 'REST.HEAD.OBJECT', key: '.', uri: '"HEAD /. HTTP/1.1"', status: '404', error: 'NoSuchKey' }, 24);
    const { rows, rejects, counts } = parseRows(`${line}\n${line}\n`);
    expect(rejects).toEqual([]);
    expect(counts).toMatchObject({ lines: 2, rows: 2, rejects: 0 });
    expect(rows[0]).toEqual(rows[1]);
  });

  it('#17 HTTP status - with an object size; access point ARN present, aclRequired - is false', () => {
    const apArn = 'arn:aws:s3:us-west-1:111122223333:accesspoint/synthetic-ap';
    const line = rec(
      { ip: '-', requester: 'svc:delivery.logs.amazonaws.com', operation: 'REST.PUT.OBJECT', status: '-', bytes: '-', size: '773', apArn },
      26,
    );
    expectRow(parseOne(line), {
      httpstatus: null,
      errorcode: null,
      bytessent: null,
      objectsize: 773,
      accesspointarn: apArn,
      aclrequired: false,
      field_count: 26,
    });
  });

  it('#18 copy-GET record: bucket is the source, Host Header names another bucket', () => {
    const line = rec(
      {
        bucket: 'src-bucket-1',
        operation: 'REST.COPY.OBJECT_GET',
        key: 'runs/r1.fq',
        uri: '-',
        status: '-',
        bytes: '-',
        size: '351400',
        total: '-',
        turnaround: '-',
        referer: '-',
        ua: '-',
        endpoint: 'dest-bucket-2.s3.amazonaws.com',
      },
      24,
    );
    expectRow(parseOne(line), {
      bucket_name: 'src-bucket-1',
      endpoint: 'dest-bucket-2.s3.amazonaws.com',
      httpstatus: null,
      request_uri: null,
      objectsize: 351400,
    });
  });

  it('#19 96-hex requester, * in the key, TLS 1.3 cipher name', () => {
    const requester = 'ab'.repeat(48);
    expect(requester).toHaveLength(96);
    const line = rec(
      {
        requester,
        key: 'img/thumbs/75*75/photo-1.jpeg',
        uri: '"GET /img/thumbs/75*75/photo-1.jpeg HTTP/1.1"',
        ua: '"Amazon CloudFront"',
        cipher: 'TLS_AES_128_GCM_SHA256',
        tls: 'TLSv1.3',
      },
      26,
    );
    expectRow(parseOne(line), {
      requester,
      key: 'img/thumbs/75*75/photo-1.jpeg',
      key_decoded: 'img/thumbs/75*75/photo-1.jpeg',
      ciphersuite: 'TLS_AES_128_GCM_SHA256',
      tlsversion: 'TLSv1.3',
      accesspointarn: null,
      aclrequired: false,
      field_count: 26,
    });
  });

  it('#20 two records glued into one line are rejected as embedded_record; the neighbours load', () => {
    const second = rec({ bucket: 'bucket-b', time: '[05/Jan/2020:23:10:20 +0000]', operation: 'REST.GET.BUCKET', key: '-' }, 24);
    const glued = `${OWNER} bucket-a [05/Jan/2020:23:48:44 +0000] 198.51.100.9 rn:aws:iam::1111${second}`;
    const { rows, rowLines, rejects } = parseRows([second, glued, second].join('\n'));
    expect(rowLines).toEqual([1, 3]);
    expect(rows.map((r) => r.bucket_name)).toEqual(['bucket-b', 'bucket-b']);
    expect(rejects.map((r) => [r.line, r.reason, r.raw])).toEqual([[2, 'embedded_record', glued]]);
  });

  it('#21 presigned (QueryString) request, 206, path-style target with the bucket in the path', () => {
    const path = '/example-media/video/clip-1100.mp4';
    const query =
      'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20191019%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Expires=10800&X-Amz-Signature=0000';
    const line = rec(
      {
        bucket: 'example-media',
        key: 'video/clip-1100.mp4',
        uri: `"GET ${path}?${query} HTTP/1.1"`,
        status: '206',
        bytes: '6854150',
        size: '1251270047',
        auth: 'QueryString',
      },
      24,
    );
    const row = parseOne(line);
    expectRow(row, {
      authtype: 'QueryString',
      sigv: 'SigV4',
      httpstatus: 206,
      bytessent: 6854150,
      objectsize: 1251270047,
      request_path: path,
      request_query: query,
      request_protocol: 'HTTP/1.1',
    });
    expect(row.bytessent as number).toBeLessThan(row.objectsize as number);
  });

  it('#22 unauthenticated plain-HTTP request: requester, SigV, cipher, auth and TLS are null', () => {
    const line = rec(
      {
        requester: '-',
        status: '403',
        error: 'AccessDenied',
        bytes: '243',
        size: '-',
        sigv: '-',
        cipher: '-',
        auth: '-',
        endpoint: 'media.example.org',
        tls: '-',
      },
      24,
    );
    expectRow(parseOne(line), {
      requester: null,
      httpstatus: 403,
      errorcode: 'AccessDenied',
      sigv: null,
      ciphersuite: null,
      authtype: null,
      endpoint: 'media.example.org',
      tlsversion: null,
      field_count: 24,
    });
  });

  it('#23 legacy SOAP operation with a POST /soap/ request line', () => {
    const key = 'logs/2010-02-10-07-17-02-0123456789ABCDEF';
    const line = rec({ operation: 'SOAP.PUT.OBJECT', key, uri: '"POST /soap/ HTTP/1.1"', ua: '"Axis/1.3"' }, 18);
    expectRow(parseOne(line), {
      operation: 'SOAP.PUT.OBJECT',
      key,
      key_decoded: key,
      request_method: 'POST',
      request_path: '/soap/',
      request_query: null,
      request_protocol: 'HTTP/1.1',
      field_count: 18,
    });
  });

  it('#24 trailing space after aclRequired Yes: true, no empty extra field (AWS doc example)', () => {
    // awsdocs/amazon-s3-userguide @a79892c2 doc_source/LogFormat.md, line 3 of the example (CC-BY-SA-4.0).
    const line =
      '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be DOC-EXAMPLE-BUCKET1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be A1206F460EXAMPLE REST.GET.BUCKETPOLICY - "GET /DOC-EXAMPLE-BUCKET1?policy HTTP/1.1" 404 NoSuchBucketPolicy 297 - 38 - "-" "S3Console/0.4" - BNaBsXZQQDbssi6xMBdBU2sLt+Yf5kZDmeBUP35sFoKa3sLLeMC78iwEIWxs99CRUrbS4n11234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader DOC-EXAMPLE-BUCKET1.s3.us-west-1.amazonaws.com TLSV1.2 - Yes ';
    expect(line.endsWith('Yes ')).toBe(true);
    const expected = {
      aclrequired: true,
      sourceregion: null,
      extra_fields: null,
      field_count: 26,
      errorcode: 'NoSuchBucketPolicy',
      tlsversion: 'TLSV1.2',
      accesspointarn: null,
    };
    for (const text of [line, `${line}\n`, `${line}\r\n`]) expectRow(parseOne(text), expected);
  });

  it('#25 private remote IP, User-Agent with {} and commas, 25 fields', () => {
    const ua =
      'ElasticMapReduce/1.0.0 emrfs/s3n {} user:hadoop,groups:[hadoop], aws-sdk-java/1.11.711 Linux/4.14 OpenJDK_64-Bit_Server_VM/25.292-b10';
    const hostId88 = `${'Q'.repeat(86)}==`;
    const line = rec(
      {
        ip: '172.31.113.74',
        requester: 'arn:aws:sts::111122223333:assumed-role/EMR_EC2_DefaultRole/i-0123456789abcdef0',
        operation: 'REST.HEAD.OBJECT',
        key: 'events/2020/09/30/part-0001.gz',
        uri: '"HEAD /events/2020/09/30/part-0001.gz HTTP/1.1"',
        bytes: '-',
        size: '17887567',
        total: '21',
        turnaround: '-',
        ua: `"${ua}"`,
        hostId: hostId88,
      },
      25,
    );
    expectRow(parseOne(line), {
      remoteip: '172.31.113.74',
      useragent: ua,
      hostid: hostId88,
      bytessent: null,
      turnaroundtime: null,
      field_count: 25,
    });
  });

  it('#26 - and "-" are null everywhere; Time - is rejected', () => {
    // 24 fields, every value null (- or "-" for the quoted ones) except a valid time.
    const allNull = ['-', '-', '[03/Mar/2021:04:05:06 +0000]', ...Array<string>(21).fill('-')];
    allNull[8] = '"-"';
    allNull[15] = '"-"';
    allNull[16] = '"-"';
    const row = parseOne(allNull.join(' '));
    for (const column of FIELD_COLUMNS) {
      if (column === 'requestdatetime') expect(row[column]).toBe(utc(2021, 3, 3, 4, 5, 6));
      else expect(row[column], column).toBeNull();
    }
    expectRow(row, {
      request_method: null,
      request_path: null,
      request_query: null,
      request_protocol: null,
      key_decoded: null,
      field_count: 24,
      extra_fields: null,
    });

    // Time `-` has no event time to partition on: quarantine.
    const dashes = parseRows(Array<string>(24).fill('-').join(' '));
    expect(dashes.rows).toEqual([]);
    expect(dashes.rejects.map((r) => [r.line, r.reason])).toEqual([[1, 'bad_time']]);
    // All 24 fields "-": time is not a time and "-" is no number, either reason is right.
    const quoted = parseRows(Array<string>(24).fill('"-"').join(' '));
    expect(quoted.rows).toEqual([]);
    expect(quoted.rejects).toHaveLength(1);
    expect(['bad_time', 'bad_number']).toContain(quoted.rejects[0]!.reason);
  });

  it('#27 IPv6 remote IPs are kept as text', () => {
    const ips = ['2001:db8:85a3::8a2e:370:7334', '2001:db8::ffff:192.0.2.33', '::1'];
    const { rows, rejects } = parseRows(ips.map((ip) => rec({ ip }, 24)).join('\n'));
    expect(rejects).toEqual([]);
    expect(rows.map((r) => r.remoteip)).toEqual(ips);
  });

  it('#28 git conflict markers inside an object are rejected, the records around them load', () => {
    const a = rec({ requestId: 'AAAAAAAAAAAAAAA1' }, 24);
    const b = rec({ requestId: 'BBBBBBBBBBBBBBB2' }, 24);
    const c = rec({ requestId: 'CCCCCCCCCCCCCCC3' }, 24);
    const text = [a, '<<<<<<< Updated upstream', b, '=======', c, '>>>>>>> Stashed changes', ''].join('\n');
    const { rows, rowLines, rejects, counts } = parseRows(text);
    expect(counts).toMatchObject({ lines: 6, rows: 3, rejects: 3 });
    expect(rowLines).toEqual([1, 3, 5]);
    expect(rows.map((r) => r.requestid)).toEqual(['AAAAAAAAAAAAAAA1', 'BBBBBBBBBBBBBBB2', 'CCCCCCCCCCCCCCC3']);
    expect(rejects.map((r) => [r.line, r.reason, r.raw])).toEqual([
      [2, 'too_few_fields', '<<<<<<< Updated upstream'],
      [4, 'too_few_fields', '======='],
      [6, 'too_few_fields', '>>>>>>> Stashed changes'],
    ]);
  });

  it('#29 four-part operation and a UUID request ID (no public line: constructed from the documented facts)', () => {
    const requestId = 'e5042925-b524-4b3b-a869-f3881e78ff3a';
    const line = rec(
      {
        ip: '-',
        requester: 'AmazonS3',
        requestId,
        operation: 'S3.COMPUTE.OBJECT.CHECKSUM',
        key: 'data/part+1.bin',
        uri: '"-"',
        status: '-',
        bytes: '-',
        size: '2048',
        total: '-',
        turnaround: '-',
        ua: '"-"',
        sigv: '-',
        cipher: '-',
        auth: '-',
        endpoint: '-',
        tls: '-',
      },
      26,
    );
    expectRow(parseOne(line), {
      operation: 'S3.COMPUTE.OBJECT.CHECKSUM',
      requestid: requestId,
      key: 'data/part+1.bin',
      // an S3.* operation: form-decoded once
      key_decoded: 'data/part 1.bin',
      objectsize: 2048,
      field_count: 26,
    });
  });

  it('#30 CloudFront OAI requester with spaces is one field (no public line: constructed)', () => {
    const requester = 'arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2EXAMPLEID';
    const line = rec({ requester, requestId: 'MD9TCAF28XVJT7H7', ua: '"Amazon CloudFront"' }, 26);
    expectRow(parseOne(line), {
      requester,
      requestid: 'MD9TCAF28XVJT7H7',
      operation: 'REST.GET.OBJECT',
      key: 'docs/readme.txt',
      useragent: 'Amazon CloudFront',
      tlsversion: 'TLSv1.2',
      aclrequired: false,
      field_count: 26,
      extra_fields: null,
    });
  });

  it('#31 vendor samples: +0200 offset and OPTIONS * parse leniently; [2017-08-16] is rejected', () => {
    const options = rec(
      {
        bucket: 'faketest',
        time: '[09/Feb/2021:14:48:42 +0200]',
        requester: 'Anonymous',
        operation: 'REST.OPTIONS.FAKE',
        uri: '"OPTIONS * HTTP/1.0"',
      },
      24,
    );
    expectRow(parseOne(options), {
      requestdatetime: utc(2021, 2, 9, 12, 48, 42),
      requester: 'Anonymous',
      operation: 'REST.OPTIONS.FAKE',
      request_method: 'OPTIONS',
      request_path: '*',
      request_query: null,
      request_protocol: 'HTTP/1.0',
    });
    const dateOnly = rec({ time: '[2017-08-16]', requester: 'user/stag-bloomfilter' }, 24);
    const { rows, rejects } = parseRows(dateOnly);
    expect(rows).toEqual([]);
    expect(rejects.map((r) => [r.line, r.reason])).toEqual([[1, 'bad_time']]);
  });
});

describe('object framing and bytes', () => {
  it('CRLF line endings: no CR in the last field, every line a row', () => {
    const lines = [rec({}, 24), rec({ acl: 'Yes' }, 26), rec({}, 27)];
    const { rows, rejects } = parseRows(lines.map((l) => `${l}\r\n`).join(''));
    expect(rejects).toEqual([]);
    expect(rows.map((r) => [r.tlsversion, r.aclrequired, r.sourceregion, r.field_count])).toEqual([
      ['TLSv1.2', null, null, 24],
      ['TLSv1.2', true, null, 26],
      ['TLSv1.2', false, 'us-east-2', 27],
    ]);
  });

  it('a last line without a newline is still a record', () => {
    const { rows, counts } = parseRows(`${rec({ requestId: 'FIRST00000000001' }, 24)}\n${rec({ requestId: 'LAST000000000002' }, 24)}`);
    expect(counts).toMatchObject({ lines: 2, rows: 2, rejects: 0 });
    expect(rows.map((r) => r.requestid)).toEqual(['FIRST00000000001', 'LAST000000000002']);
  });

  it('an empty object has no lines, rows or rejects', () => {
    expect(parseRows(new Uint8Array(0))).toEqual({
      rows: [],
      rowLines: [],
      rejects: [],
      counts: { lines: 0, rows: 0, rejects: 0, repairedUtf8: 0 },
    });
  });

  it('non-UTF-8 bytes: the row is kept and invalid bytes become U+FFFD', () => {
    // UA "Agent/\xff1.0" and key "caf\xe9.txt" (Latin-1 é): invalid UTF-8 sequences of one byte each.
    const prefix = rec({}, 7);
    const bytes = Buffer.concat([
      Buffer.from(`${prefix} caf`),
      Buffer.from([0xe9]),
      Buffer.from('.txt "GET /caf%E9.txt HTTP/1.1" 200 - 5 5 1 1 "-" "Agent/'),
      Buffer.from([0xff]),
      Buffer.from(`1.0" - ${HOST_ID} SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader example-src.s3.us-east-2.amazonaws.com TLSv1.2\n`),
    ]);
    const { rows, rejects, counts } = parseRows(bytes);
    expect(rejects).toEqual([]);
    expect(counts.repairedUtf8).toBe(1);
    expectRow(rows[0]!, { key: 'caf\uFFFD.txt', useragent: 'Agent/\uFFFD1.0', request_path: '/caf%E9.txt', field_count: 24 });
  });
});

describe('reject reasons (one defect per line)', () => {
  const good = rec({}, 26);
  const cases: Array<[string, string, string]> = [
    ['blank_line', 'an empty line between records', ''],
    ['blank_line', 'a line of blanks', '   \t '],
    ['too_few_fields', 'a record cut after the HTTP status (10 fields)', rec({}, 10)],
    ['too_few_fields', 'free text', 'bad match'],
    ['bad_time', 'Time -', rec({ time: '-' }, 26)],
    ['bad_time', 'Time without a clock', rec({ time: '[2017-08-16]' }, 26)],
    ['bad_time', 'an unknown month', rec({ time: '[03/Foo/2021:04:05:06 +0000]' }, 26)],
    ['unterminated_quote', 'a User-Agent quote that never closes', rec({ ua: '"curl/8.4.0' }, 26)],
    ['bad_quoted_field', 'a bare Referer that is neither quoted nor -', rec({ referer: 'http://example.org/' }, 26)],
    ['bad_number', 'a non-numeric HTTP status', rec({ status: '2OO' }, 26)],
    ['bad_aclrequired', 'aclRequired No', rec({ referer: '-', acl: 'No' }, 26)],
    // With a quoted Referer "-" and a quoted User-Agent, no later quote may merge the two to make it fit.
    ['bad_aclrequired', 'aclRequired No after two quoted fields', rec({ acl: 'No' }, 26)],
  ];
  it.each(cases)('%s: %s', (reason, _what, line) => {
    const { rows, rowLines, rejects } = parseRows(`${good}\n${line}\n${good}\n`);
    expect(rows).toHaveLength(2);
    expect(rowLines).toEqual([1, 3]);
    expect(rejects.map((r) => [r.line, r.reason, r.raw])).toEqual([[2, reason, line]]);
  });
});

describe('glued records (EDGE #20, issue #13): a record cut anywhere and run into the next one is never a row', () => {
  // The first record holds text in every quoted field, so a cut can fall inside each of them; the second
  // is a well-formed record, as the next line of the object would be.
  const first = rec(
    {
      requestId: 'FIRST00000000001',
      uri: '"GET /photos/2021/cat.jpg?versionId=3HL4kqtJ HTTP/1.1"',
      referer: '"https://www.example.org/gallery/index.html"',
      ua: '"Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0"',
      version: '3HL4kqtJvjVBH40Nrjfkd',
    },
    27,
  );
  const second = rec(
    {
      requestId: 'SECOND0000000002',
      time: '[03/Mar/2021:04:05:07 +0000]',
      operation: 'REST.GET.BUCKET',
      key: '-',
      uri: '"GET /?list-type=2 HTTP/1.1"',
    },
    27,
  );
  const neighbour = rec({ requestId: 'NEIGHBOUR0000003' }, 26);

  /** Byte offset in the first record of `text` (which must occur once), plus `into`. */
  function at(text: string, into = 0): number {
    const i = first.indexOf(text);
    if (i === -1 || first.indexOf(text, i + 1) !== -1) throw new Error(`${text} is not in the first record exactly once`);
    return i + into;
  }

  /** Parses neighbour, glued, neighbour: the neighbours load and the glued line is one embedded_record reject. */
  function expectGluedReject(glued: string): string {
    const { rows, rowLines, rejects } = parseRows([neighbour, glued, neighbour].join('\n'));
    expect(rowLines).toEqual([1, 3]);
    expect(rows.map((r) => r.requestid)).toEqual(['NEIGHBOUR0000003', 'NEIGHBOUR0000003']);
    expect(rejects.map((r) => [r.line, r.reason, r.raw])).toEqual([[2, 'embedded_record', glued]]);
    return rejects[0]!.detail;
  }

  // [cut class, bytes of the first record kept, the field the detail names: only when the second record is
  // in that field however the line is tokenised, or when the line tokenised as a row]. Before the fix,
  // every class marked "was a row" loaded as one row: with the second record inside a field (a quoted value
  // grows to the second record's own closing quote, whose tail then fits), or with its fields as extras.
  const cases: Array<[string, number, string | null]> = [
    ['inside the Bucket Owner (was a row: a 74-digit owner, the rest the second record)', 10, 'inside the Bucket Owner'],
    ['inside the Bucket name (was bad_quoted_field)', at(' example-src ', 5), null],
    ['inside the Time (was bad_time)', at('[03/Mar/2021:04:05:06', 5), null],
    ['inside the Requester, as NCBI saw in production (already embedded_record)', at('arn:aws:iam::1111', 5), null],
    ['inside the Request-URI quote (was a row: Request-URI = the whole second record)', at('"GET /photos', 8), 'inside the Request-URI'],
    ['just after the closing quote of the Request-URI (was a row: a later quote ends the Request-URI)', at('HTTP/1.1" 200', 10), null],
    ['inside an integer field, Bytes Sent (was a row)', at(' 1024 1024 ', 3), null],
    ['inside the Referer quote (was a row)', at('"https://www.example.org', 12), 'inside the Referer'],
    ['inside the User-Agent quote (was a row)', at('"Mozilla/5.0', 9), 'inside the User-Agent'],
    ['inside the Version Id, after the quoted fields (was a row)', at(' 3HL4kqtJvjVBH40', 6), 'in field 18'],
    ['inside the Host Id (was a row)', at(HOST_ID, 20), null],
    ['inside the TLS version (was a row)', at('TLSv1.2', 4), null],
    ['just after aclRequired (was a row: Source region = the second owner, the rest extra fields)', at(' us-east-2', 1), 'in field 27'],
    ['a lost newline only: the whole first record, then the second (was a row)', first.length, 'in field 27'],
  ];

  it.each(cases)('cut %s', (_what, cut, where) => {
    const detail = expectGluedReject(first.slice(0, cut) + second);
    // The second record's owner ID starts exactly where the first record was cut.
    expect(detail).toBe(`a second record starts at byte ${cut}${where === null ? '' : ` (${where})`}`);
  });

  it('a lost LF in a CRLF object: the first record, its CR, then the second (was a row)', () => {
    const detail = expectGluedReject(`${first}\r${second}`);
    expect(detail).toBe(`a second record starts at byte ${first.length + 1} (in field 27)`);
  });

  it('every cut point of the first record, also with older, shorter and quote-free second records', () => {
    const seconds = [
      second,
      // 18 fields, the width of records before 2019
      rec(
        {
          requestId: 'SECOND0000000018',
          operation: 'REST.GET.VERSIONING',
          key: '-',
          uri: '"GET /example-src?versioning HTTP/1.1"',
          ua: '"S3Console/0.4"',
        },
        18,
      ),
      // BATCH.DELETE.OBJECT: bare - Request-URI (EDGE #1)
      rec(
        { requestId: 'SECOND0000000024', operation: 'BATCH.DELETE.OBJECT', uri: '-', status: '204', bytes: '-', referer: '-', ua: '-' },
        24,
      ),
      // copy-GET side: no quote at all (EDGE #15)
      rec(
        {
          requestId: 'SECOND0000000015',
          operation: 'REST.COPY.OBJECT_GET',
          uri: '-',
          status: '200',
          bytes: '-',
          total: '-',
          turnaround: '-',
          referer: '-',
          ua: '-',
        },
        18,
      ),
      // raw quotes in its own Referer and User-Agent (EDGE #9)
      rec({ requestId: 'SECOND0000000009', referer: '"() { :;}; echo; echo "masked""', ua: '"Mozilla/5.0 "quoted" (X11)"' }, 26),
    ];
    for (const next of seconds) {
      expect(parseOne(next).field_count, next).toBeGreaterThanOrEqual(18);
      const outcomes = new Map<string, number>();
      for (let cut = 1; cut <= first.length; cut++) {
        const { rows, rejects } = parseRows(first.slice(0, cut) + next);
        const outcome =
          rows.length > 0 ? 'row' : `${rejects[0]!.reason}: ${rejects[0]!.detail.startsWith(`a second record starts at byte ${cut}`)}`;
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
      expect(Object.fromEntries(outcomes), next).toEqual({ 'embedded_record: true': first.length });
    }
  });

  it('a bracketed time, a bucket-like token and hex inside real values is not a record start', () => {
    // A User-Agent and a Referer may hold any text, even a log timestamp after a hex string: only the
    // whole shape (64 hex, space, bucket, space, bracketed time) counts, and a value is only searched
    // when a glued record would have left a raw quote in it (or the row is otherwise out of shape).
    const lookalikes = [
      // raw quotes + timestamp + a 63-digit hex owner (one short)
      rec({ ua: `"curl "x" ${'a'.repeat(63)} bucket [03/Mar/2021:04:05:06 +0000]"` }, 26),
      // raw quotes + 64 hex + timestamp, but no bucket token between them
      rec({ referer: `"http://e.org/"q" ${'b'.repeat(64)} [03/Mar/2021:04:05:06 +0000]"` }, 26),
      // raw quotes + 64 hex + bucket + a time that is not a calendar time (month 13 style: Foo)
      rec({ ua: `"x"y" ${'c'.repeat(64)} bkt [03/Foo/2021:04:05:06 +0000]"` }, 26),
      // raw quotes + upper-case hex (canonical IDs are lower case)
      rec({ ua: `"x"y" ${'C'.repeat(64)} bkt [03/Mar/2021:04:05:06 +0000]"` }, 26),
      // the whole shape, but in a value without a raw quote (a glued record always brings one)
      rec({ ua: `"log-shipper/1.0 ${OWNER} example-src [03/Mar/2021:04:05:06 +0000] 198.51.100.7"` }, 26),
      rec({ uri: `"GET /search?q=${OWNER}+example-src+[03/Mar/2021:04:05:06+%2B0000] HTTP/1.1"` }, 26),
      // extra fields after the 27th with brackets and hex in them
      `${rec({}, 27)} [03/Mar/2021:04:05:06 +0000] ${'d'.repeat(64)}`,
    ];
    const { rows, rejects } = parseRows(lookalikes.join('\n'));
    expect(rejects).toEqual([]);
    expect(rows).toHaveLength(lookalikes.length);
  });
});
