/**
 * Corpus conformance: every log file of the corpus is parsed whole; every line must become a row or a
 * reject, and the rejected lines must be exactly the ones listed below (decided by reading each file
 * against FORMAT.md and the reject rules, not by running the parser).
 *
 * The corpus is ../shared/corpus when it exists, else test/fixtures/corpus (the licence-permitted subset,
 * see its README.md). Comparisons with other parsers' expected output (Elastic, NCBI, OTel) need files
 * that are only in the shared corpus, so they run only when it is present.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LineSpans, parseLogObject, type RejectReason } from '../src/stages/parse.js';
import { corpusDir, fixtureCorpus, isLogFile, listFiles, sharedCorpus, useShared } from './helpers/corpus.js';
import { parseRows, type Parsed, type Row } from './helpers/parseRows.js';

/** Expected reject per 1-based line: one reason, or the reasons allowed when a line has several defects. */
type Rejects = Record<number, RejectReason | RejectReason[]>;

interface FileExpectation {
  /** Copied into test/fixtures/corpus (licence permits redistribution). */
  vendored: boolean;
  rejects: Rejects;
  /** Lines whose outcome is not asserted (a known parser bug, see the comment at the file). */
  unchecked?: number[];
  /** field_count of every row (one number for all rows, or one per row in order), when known by reading. */
  fieldCounts?: number | number[];
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const each = (lines: number[], reason: RejectReason | RejectReason[]): Rejects => Object.fromEntries(lines.map((n) => [n, reason]));

const ROTEMFOGEL = [
  'emr2021-11-08-13-10-55-E99D7343D993A492',
  'emr2021-11-08-13-11-04-06F2E5E44C34EA69',
  'emr2021-11-08-13-11-05-46DA7A05C14C8475',
  'emr2021-11-08-13-11-08-BAC5E2C2DAA267D2',
  'emr2021-11-08-13-11-10-AEC10C88A38804BD',
  'emr2021-11-08-13-11-13-284EF81FC8E582C2',
  'emr2021-11-08-13-11-19-92D7CD238B0F7270',
  'emr2021-11-08-13-11-19-AC275A1834E3755A',
  'emr2021-11-08-13-11-19-BA56C53B504E7C3F',
  'emr2021-11-08-13-11-29-53CBE5769F0AAEA1',
  'emr2021-11-08-13-11-29-A916DD40348B62A9',
  'emr2021-11-08-13-11-29-EF8B6D12325F2C6C',
  'emr2021-11-08-13-11-34-9BF1676BE952B601',
];

const STRIDES = ['jo', 'li', 'zajo', 'zali', 'zbjo', 'zbli'];

/** The NCBI parser's test literals, one `test_name<TAB>line` per line; the tab is not a field separator. */
const NCBI_TSV_REJECTS: Rejects = {
  // every probe line carries Time `-`: no event time
  ...each([2, 3, 5, 6, 8, 9, ...range(10, 34), 36, 37, 38, 39, ...range(40, 47), 51, 52, 54, 55], 'bad_time'),
  1: 'too_few_fields', // the header `test_name<TAB>line`
  4: ['bad_time', 'bad_number'], // all "-": Time "-" and HTTP status "-"
  35: ['bad_time', 'bad_quoted_field'], // Time - and a bare, unquoted Referer `referrrer`
  48: 'embedded_record', // repeated_time_shifts_tls_vers: two records glued (EDGE #20)
  50: ['bad_time', 'bad_aclrequired'], // extra_data: Time - and aclRequired `tokens`
};
// Rows: 7 (parse_time, the one probe with a real time), 49 (percent_in_key), 53 (investigate).

/** parser__data__aws_bucket_log.log.at-467d861: 9 CRLF records, then NCBI's commentary block (lines 10–35). */
const NCBI_COMMENTARY: Rejects = {
  10: 'blank_line', // a lone CR
  // `name<padding>value` lines. Runs of spaces give empty fields, so a line is either too short or has an
  // empty (unquoted) value in the Request-URI slot; both are right, which one comes first is the parser's.
  ...each(range(11, 35), ['too_few_fields', 'bad_quoted_field']),
};

const EXPECTED: Record<string, FileExpectation> = {
  'aws-docs/devguide-2017-12-07-mybucket-18fields.log': { vendored: true, rejects: {}, fieldCounts: 18 },
  'aws-docs/devguide-2019-06-07-awsexamplebucket-24fields.log': { vendored: true, rejects: {}, fieldCounts: 24 },
  'aws-docs/devguide-2020-01-10-awsexamplebucket-24fields.log': { vendored: true, rejects: {}, fieldCounts: 24 },
  'aws-docs/devguide-2020-05-08-awsexamplebucket1-24fields.log': { vendored: true, rejects: {}, fieldCounts: 24 },
  'aws-docs/userguide-2022-11-16-DOC-EXAMPLE-BUCKET1-26fields.log': { vendored: true, rejects: {}, fieldCounts: 26 },
  'aws-docs/userguide-current-amzn-s3-demo-bucket1-27fields.first2lines.log': { vendored: true, rejects: {}, fieldCounts: 27 },
  'otel-collector-contrib/valid_s3_access_log.log': { vendored: true, rejects: {}, fieldCounts: 26 },
  'otel-collector-contrib/stream__valid_log_multi.log': { vendored: true, rejects: {}, fieldCounts: 26 },
  'otel-collector-contrib/unknown_request_uri.log': { vendored: true, rejects: {}, fieldCounts: 26 },
  'otel-collector-contrib/too_many_values.log': { vendored: true, rejects: {}, fieldCounts: 28 },
  'otel-collector-contrib/too_many_values.at-e3bd2d1.log': { vendored: true, rejects: {}, fieldCounts: 27 },
  // cut after the HTTP status: 10 fields
  'otel-collector-contrib/too_few_values.log': { vendored: true, rejects: { 1: 'too_few_fields' } },
  'lnav/s3_log.json.samples.log': { vendored: true, rejects: {}, fieldCounts: [17, 24] },
  'logstash-patterns-core/aws_spec.rb.S3_ACCESS_LOG.lines.log': { vendored: true, rejects: {}, fieldCounts: [18, 18, 24] },
  'icodeforlove-s3-access-log-parser/matches.test.js.lines.log': {
    vendored: true,
    // 2: all-dash record, Time `-`. 4: owner missing, so `+0000]` lands in the Time slot. 5: `bad match`.
    rejects: { 2: 'bad_time', 4: 'bad_time', 5: 'too_few_fields' },
    fieldCounts: 18,
  },
  'elastic-beats/s3_server_access.log': { vendored: false, rejects: {}, fieldCounts: 24 },
  'elastic-beats/test.log': { vendored: false, rejects: {}, fieldCounts: 24 },
  'elastic-integrations/test-s3-server-access.log': { vendored: false, rejects: {}, fieldCounts: [24, 24, 24, 24, 24, 24, 25, 26, 26, 26] },
  'panther/s3_server_access_samples.log': { vendored: false, rejects: {}, fieldCounts: 24 },
  // Line 4 ends `TLSV1.1 test1 test2`: aclRequired `test2` is neither Yes nor -, so it is a
  // bad_aclrequired reject (not a row with Referer and User-Agent merged into one).
  'panther/s3_server_access_test.go.lines.log': { vendored: false, rejects: { 4: 'bad_aclrequired' } },
  // Every sample is a record: line 11 has a raw quote at the end of its Referer (kept, like EDGE #7) and
  // line 18 ends with ` any other fields` (21 fields: loaded, the enum checks only choose tokenisations).
  'kdgm-logstash-plugins/s3_access_log_spec.rb.samples.unique.log': { vendored: false, rejects: {} },
  'kdgm-logstash-plugins/s3_access_log_spec.rb.samples.all-in-order.log': { vendored: false, rejects: {} },
  'ncbi-logging/parser__data__aws_testlines.log': { vendored: false, rejects: {}, fieldCounts: 24 },
  'ncbi-logging/parser__data__aws_testlines.log.at-954caf2-2023-trailing-fields-added-by-upstream': {
    vendored: false,
    rejects: {},
    fieldCounts: [26, 26, 25, 26, 26, 26, 26, 26, 26],
  },
  'ncbi-logging/parser__data__aws_unrecognized.log.at-6d1efc1': { vendored: false, rejects: {}, fieldCounts: 24 },
  'ncbi-logging/parser__data__aws_unrecognized.log.at-b66d089-has-git-conflict-markers': {
    vendored: false,
    rejects: { 7: 'too_few_fields', 9: 'too_few_fields', 12: 'too_few_fields' },
    fieldCounts: 24,
  },
  'ncbi-logging/parser__data__aws_bucket_log.log.at-467d861': { vendored: false, rejects: NCBI_COMMENTARY, fieldCounts: 24 },
  'ncbi-logging/parser__aws__aws_test_parse.cpp.string-literals.tsv': { vendored: false, rejects: NCBI_TSV_REJECTS, fieldCounts: 24 },
  ...Object.fromEntries(
    STRIDES.map((s) => [`ncbi-logging/strides_analytics__fuzz_s3__fuzz_s3_test${s}`, { vendored: false, rejects: {}, fieldCounts: 24 }]),
  ),
  ...Object.fromEntries(
    ROTEMFOGEL.map((f) => [`rotemfogel-s3-access-logs-parser/test-le-logs/${f}`, { vendored: false, rejects: {}, fieldCounts: 25 }]),
  ),
};

/** Line count by the framing rule: split on LF; a final LF does not start another line. */
function countLines(bytes: Buffer): number {
  if (bytes.length === 0) return 0;
  let n = 0;
  for (const b of bytes) if (b === 0x0a) n++;
  return bytes[bytes.length - 1] === 0x0a ? n : n + 1;
}

const parsedCache = new Map<string, Parsed>();
function parseFile(rel: string): Parsed {
  let parsed = parsedCache.get(rel);
  if (!parsed) {
    parsed = parseRows(readFileSync(path.join(corpusDir, rel)));
    parsedCache.set(rel, parsed);
  }
  return parsed;
}

const logFiles = listFiles(corpusDir).filter(isLogFile);

describe(`corpus conformance (${useShared ? 'shared corpus' : 'vendored fixtures'})`, () => {
  it('every log file of the corpus has an expectation, and every expected file is there', () => {
    const expected = Object.keys(EXPECTED)
      .filter((rel) => useShared || EXPECTED[rel]!.vendored)
      .sort();
    expect(logFiles).toEqual(expected);
  });

  // Registered only when the shared corpus is there (nothing to compare with otherwise).
  if (useShared)
    it('the vendored fixtures are byte-for-byte copies of the shared corpus files', () => {
      const vendored = listFiles(fixtureCorpus).filter(isLogFile);
      expect(vendored).toEqual(
        Object.keys(EXPECTED)
          .filter((rel) => EXPECTED[rel]!.vendored)
          .sort(),
      );
      for (const rel of vendored) {
        expect(readFileSync(path.join(fixtureCorpus, rel)).equals(readFileSync(path.join(sharedCorpus, rel))), rel).toBe(true);
      }
    });

  describe.each(logFiles)('%s', (rel) => {
    const expectation = EXPECTED[rel];

    it('every line is one row or one reject, and the rejects are exactly the expected lines', () => {
      expect(expectation, `no expectation for ${rel}`).toBeDefined();
      const bytes = readFileSync(path.join(corpusDir, rel));
      const { rows, rowLines, rejects, counts } = parseFile(rel);
      const lines = countLines(bytes);
      expect(counts.lines).toBe(lines);
      expect(rows.length + rejects.length).toBe(lines);
      expect(counts).toMatchObject({ rows: rows.length, rejects: rejects.length });

      const unchecked = new Set(expectation!.unchecked ?? []);
      const expectedLines = Object.keys(expectation!.rejects)
        .map(Number)
        .sort((a, b) => a - b);
      const checkedRejects = rejects.filter((r) => !unchecked.has(r.line));
      expect(checkedRejects.map((r) => r.line)).toEqual(expectedLines);
      for (const reject of checkedRejects) {
        const allowed = [expectation!.rejects[reject.line]!].flat();
        expect(allowed, `line ${reject.line}: ${reject.reason} (${reject.detail})`).toContain(reject.reason);
      }
      const rejected = new Set(expectedLines);
      expect(rowLines.filter((n) => !unchecked.has(n))).toEqual(range(1, lines).filter((n) => !rejected.has(n) && !unchecked.has(n)));
    });

    it('rows have the field counts their record format has, and a time', () => {
      const { rows } = parseFile(rel);
      const fc = expectation?.fieldCounts;
      const counts = rows.map((r) => r.field_count);
      if (fc === undefined) for (const c of counts) expect(c).toBeGreaterThanOrEqual(17);
      else expect(counts).toEqual(typeof fc === 'number' ? rows.map(() => fc) : fc);
      for (const row of rows) expect(typeof row.requestdatetime).toBe('number');
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// Glued records (EDGE #20, issue #13 point 4): a record cut anywhere and run into the next by a lost
// newline is a reject, never a row.
// ---------------------------------------------------------------------------------------------------

describe('glued records built from corpus lines', () => {
  it('a log object of the AWS doc example records, some glued to the next by a lost newline: exactly those are rejects', () => {
    // The five records of the 2022 doc example (vendored, CC-BY-SA-4.0), assembled at run time rather than
    // kept as a fixture file: line 2 is record 1 cut inside its Request-URI + record 2, line 4 record 2 cut
    // inside its User-Agent + record 3, line 5 record 3 whole (trailing space and all) + record 4, line 6
    // record 4 cut inside its Bucket Owner + record 5, line 7 record 4 cut inside its Requester + record 5
    // (NCBI's production case). Before issue #13 only line 7 was a reject: lines 2, 4, 5 and 6 loaded as one
    // row each, with the second record inside a field.
    const doc = fileLines('aws-docs/userguide-2022-11-16-DOC-EXAMPLE-BUCKET1-26fields.log');
    expect(doc).toHaveLength(5);
    const cutAt = (line: string, text: string, into: number): string => {
      const i = line.indexOf(text);
      expect(i, text).toBeGreaterThan(0);
      return line.slice(0, i + into);
    };
    const heads: Array<[number, string]> = [
      [2, cutAt(doc[0]!, '"GET /DOC-EXAMPLE-BUCKET1?versioning', 12)],
      [4, cutAt(doc[1]!, '"S3Console/0.4"', 10)],
      [5, doc[2]!],
      [6, doc[3]!.slice(0, 20)],
      [7, cutAt(doc[3]!, ' 7B4A0FABBEXAMPLE ', -34)],
    ];
    const lines = [
      doc[0]!,
      heads[0]![1] + doc[1]!,
      doc[1]!,
      heads[1]![1] + doc[2]!,
      heads[2]![1] + doc[3]!,
      heads[3]![1] + doc[4]!,
      heads[4]![1] + doc[4]!,
      doc[4]!,
    ];
    const { rows, rowLines, rejects, counts } = parseRows(`${lines.join('\n')}\n`);
    expect(counts).toMatchObject({ lines: 8, rows: 3, rejects: 5 });
    expect(rowLines).toEqual([1, 3, 8]);
    expect(rows.map((r) => [r.requestid, r.field_count])).toEqual([
      ['3E57427F3EXAMPLE', 26],
      ['891CE47D2EXAMPLE', 26],
      ['DD6CC733AEXAMPLE', 26],
    ]);
    // Each reject names where the second record starts: right after the kept head of the first.
    expect(rejects.map((r) => [r.line, r.reason, r.raw, r.detail.replace(/ \(.*\)$/, '')])).toEqual(
      heads.map(([line, head]) => [line, 'embedded_record', lines[line - 1], `a second record starts at byte ${head.length}`]),
    );
  });

  /**
   * Records of every width and shape among the licence-permitted files (and a few real ones when the shared
   * corpus is there). As second records only ones with a canonical 64-hex owner: a record start is that
   * shape (see findRecordStart in src/stages/parse.ts); the logstash sample's owner `79a5` is a shortened
   * doc owner, and as a second record it is not recognisable.
   */
  const picks: Array<[string, number]> = [
    ['aws-docs/devguide-2017-12-07-mybucket-18fields.log', 1], // 18 fields
    ['aws-docs/devguide-2020-05-08-awsexamplebucket1-24fields.log', 5], // 24 fields, PUT with a key
    ['aws-docs/userguide-2022-11-16-DOC-EXAMPLE-BUCKET1-26fields.log', 3], // 26 fields, ends with `Yes `
    ['aws-docs/userguide-current-amzn-s3-demo-bucket1-27fields.first2lines.log', 1], // 27 fields
    ['otel-collector-contrib/too_many_values.log', 1], // 28 fields
    ['otel-collector-contrib/unknown_request_uri.log', 1], // Request-URI "-"
    ['lnav/s3_log.json.samples.log', 1], // 17 fields, ends at the User-Agent
    ['icodeforlove-s3-access-log-parser/matches.test.js.lines.log', 1],
    ...(useShared
      ? ([
          ['elastic-integrations/test-s3-server-access.log', 5], // BATCH.DELETE.OBJECT: bare - Request-URI, Referer, UA
          ['kdgm-logstash-plugins/s3_access_log_spec.rb.samples.unique.log', 11], // raw quote in the Referer
          ['ncbi-logging/parser__data__aws_testlines.log', 9], // two-token Host Id
          ['rotemfogel-s3-access-logs-parser/test-le-logs/emr2021-11-08-13-11-04-06F2E5E44C34EA69', 52], // UA with [hadoop]
        ] as Array<[string, number]>)
      : []),
  ];

  it('every cut point of every ordered pair of corpus records gives an embedded_record reject', () => {
    const records = picks.map(([rel, n]) => {
      const line = fileLines(rel)[n - 1]!.replace(/\r$/, '');
      // Each pick is a row on its own, so only the glueing can make it a reject.
      expect(parseRows(line).rows, `${rel}:${n}`).toHaveLength(1);
      return { name: `${rel}:${n}`, line };
    });
    const spans = new LineSpans();
    let glued = 0;
    for (const first of records) {
      for (const second of records) {
        // One object per pair: line c is first[0:c] + second, for every cut c (the last: only the newline lost).
        const lines: string[] = [];
        for (let cut = 1; cut <= first.line.length; cut++) lines.push(first.line.slice(0, cut) + second.line);
        const outcomes = new Map<string, number>();
        const counts = parseLogObject(
          Buffer.from(lines.join('\n')),
          {
            row: (_buf, _spans, lineNumber) => outcomes.set(`row at cut ${lineNumber}`, 1),
            reject: (lineNumber, reason, detail) => {
              // The second record's owner ID starts exactly where the first was cut.
              const key = `${reason} ${detail.startsWith(`a second record starts at byte ${lineNumber} `) || detail === `a second record starts at byte ${lineNumber}`}`;
              outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
            },
          },
          spans,
        );
        expect(counts.rows, `${first.name} + ${second.name}`).toBe(0);
        expect(Object.fromEntries(outcomes), `${first.name} + ${second.name}`).toEqual({ 'embedded_record true': lines.length });
        glued += lines.length;
      }
    }
    expect(glued).toBeGreaterThan(records.length ** 2 * 300);
  });
});

// ---------------------------------------------------------------------------------------------------
// Comparisons with other parsers' expected output (shared corpus only).
// ---------------------------------------------------------------------------------------------------

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `[dd/Mon/yyyy:HH:mm:ss ±hhmm]` → epoch ms, written here independently of src/stages/time.ts. */
function logTimeMs(text: string): number {
  const m = /^\[(\d\d)\/(\w{3})\/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)\]$/.exec(text);
  if (!m) throw new Error(`not a log time: ${text}`);
  const local = Date.UTC(Number(m[3]), MONTHS.indexOf(m[2]!), Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  return local - (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9])) * 60_000;
}

function fileLines(rel: string): string[] {
  const text = readFileSync(path.join(corpusDir, rel), 'utf8');
  return text.split('\n').filter((line, i, all) => !(i === all.length - 1 && line === ''));
}

// Registered only when the shared corpus is there: the expected-output files are not vendored.
if (useShared)
  describe('agreement with other parsers (shared corpus)', () => {
    it('Elastic integrations: aws.s3access fields of the 10 expected events', () => {
      /*
       * Elastic → our column. Conventions that differ and how they are mapped:
       *  - Elastic drops a field whose value is `-`: an absent field is our null.
       *  - request_uri: Elastic keeps a quoted `"-"` as the string "-" (event 10); ours is null.
       *  - aclrequired: Elastic keeps the text "Yes" and drops `-`; ours is true / false (null only when the
       *    record has fewer than 26 fields).
       *  - key: Elastic keeps the key as logged (`Screen+Shot+…`), so it is compared with `key`, not key_decoded.
       *  - point_arn is Elastic's name for the access point ARN; turn_around_time for turnaroundtime.
       *  - @timestamp (ISO, UTC) is compared with requestdatetime.
       * Elastic's ECS/geo/user_agent enrichments are not in the subset file and are not compared.
       */
      const MAP: Record<string, string> = {
        bucket_owner: 'bucketowner',
        bucket: 'bucket_name',
        remote_ip: 'remoteip',
        requester: 'requester',
        request_id: 'requestid',
        operation: 'operation',
        key: 'key',
        request_uri: 'request_uri',
        http_status: 'httpstatus',
        error_code: 'errorcode',
        bytes_sent: 'bytessent',
        object_size: 'objectsize',
        total_time: 'totaltime',
        turn_around_time: 'turnaroundtime',
        referrer: 'referrer',
        user_agent: 'useragent',
        version_id: 'versionid',
        host_id: 'hostid',
        signature_version: 'sigv',
        cipher_suite: 'ciphersuite',
        authentication_type: 'authtype',
        host_header: 'endpoint',
        tls_version: 'tlsversion',
        point_arn: 'accesspointarn',
      };
      const logRel = 'elastic-integrations/test-s3-server-access.log';
      const lines = fileLines(logRel);
      const { rows } = parseFile(logRel);
      const events = readFileSync(path.join(corpusDir, `${logRel}-expected.aws_s3access_subset.jsonl`), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { 'event.original': string; '@timestamp': string; aws: { s3access: Record<string, unknown> } });
      expect(events).toHaveLength(lines.length);
      events.forEach((event, i) => {
        expect(event['event.original']).toBe(lines[i]);
        const row = rows[i]!;
        const s3 = event.aws.s3access;
        for (const name of Object.keys(s3)) expect(name in MAP || name === 'aclrequired', `unmapped Elastic field ${name}`).toBe(true);
        const expected: Row = {};
        const actual: Row = {};
        for (const [elastic, ours] of Object.entries(MAP)) {
          let value = s3[elastic] ?? null;
          if (elastic === 'request_uri' && value === '-') value = null;
          expected[ours] = value;
          actual[ours] = row[ours];
        }
        expected.aclrequired = s3.aclrequired === 'Yes' ? true : (row.field_count as number) >= 26 ? false : null;
        actual.aclrequired = row.aclrequired;
        expected.requestdatetime = Date.parse(event['@timestamp']);
        actual.requestdatetime = row.requestdatetime;
        expect(actual, `event ${i + 1}`).toEqual(expected);
      });
    });

    it('NCBI: out.good.jsonl of parser/data/aws_testlines.log', () => {
      /*
       * NCBI → our column. NCBI writes "" for an absent value (`-`, `"-"`): "" is our null. NCBI's `path` is
       * the whole request target (path and query), so it is compared with request_path + "?" + request_query.
       * `time` is the bracketed text, converted here independently. `key` is the key as logged (`*` kept).
       * accession/filename/extension/vdb_* are NCBI's own derived fields and are not compared.
       */
      const MAP: Record<string, string> = {
        owner: 'bucketowner',
        bucket: 'bucket_name',
        ip: 'remoteip',
        requester: 'requester',
        request_id: 'requestid',
        operation: 'operation',
        key: 'key',
        method: 'request_method',
        vers: 'request_protocol',
        res_code: 'httpstatus',
        error: 'errorcode',
        res_len: 'bytessent',
        obj_size: 'objectsize',
        total_time: 'totaltime',
        turnaround_time: 'turnaroundtime',
        referer: 'referrer',
        agent: 'useragent',
        version_id: 'versionid',
        host_id: 'hostid',
        sig_ver: 'sigv',
        cipher_suite: 'ciphersuite',
        auth_type: 'authtype',
        host_header: 'endpoint',
        tls_version: 'tlsversion',
      };
      const NUMERIC = new Set(['httpstatus', 'bytessent', 'objectsize', 'totaltime', 'turnaroundtime']);
      const { rows } = parseFile('ncbi-logging/parser__data__aws_testlines.log');
      const expectedLines = readFileSync(path.join(corpusDir, 'ncbi-logging/parser__expected__aws_testlines__out.good.jsonl'), 'utf8')
        .trim()
        .split('\n');
      expect(expectedLines).toHaveLength(rows.length);
      expectedLines.forEach((line, i) => {
        const ncbi = JSON.parse(line) as Record<string, string>;
        const row = rows[i]!;
        const expected: Row = {};
        const actual: Row = {};
        for (const [theirs, ours] of Object.entries(MAP)) {
          const v = ncbi[theirs];
          expect(v, `NCBI field ${theirs}`).toBeDefined();
          expected[ours] = v === '' ? null : NUMERIC.has(ours) ? Number(v) : v;
          actual[ours] = row[ours];
        }
        expected.target = ncbi.path === '' ? null : ncbi.path;
        actual.target =
          row.request_path === null ? null : row.request_query === null ? row.request_path : `${row.request_path}?${row.request_query}`;
        expected.requestdatetime = logTimeMs(ncbi.time!);
        actual.requestdatetime = row.requestdatetime;
        expect(actual, `line ${i + 1}`).toEqual(expected);
      });
    });

    it('OTel: too_many_values_expected.yaml for too_many_values.log', () => {
      /*
       * OTel attribute → our column; attributes are read with a regex (no YAML dependency). OTel splits the
       * protocol into name/version (`http`, `1.1`) and writes TLS as the bare version (`1.2`); both are compared
       * after rebuilding our text form. `duration` is Total Time. The unknown 28th field has no attribute.
       */
      const yaml = readFileSync(path.join(corpusDir, 'otel-collector-contrib/too_many_values_expected.yaml'), 'utf8');
      const attrs = new Map<string, string | number | boolean>();
      for (const m of yaml.matchAll(/- key: (\S+)\n\s+value:\n\s+(stringValue|intValue|boolValue): (.+)/g)) {
        const raw = m[3]!.trim().replace(/^"(.*)"$/, '$1');
        attrs.set(m[1]!, m[2] === 'intValue' ? Number(raw) : m[2] === 'boolValue' ? raw === 'true' : raw);
      }
      const nanos = /timeUnixNano: "(\d+)"/.exec(yaml)![1]!;
      const { rows } = parseFile('otel-collector-contrib/too_many_values.log');
      expect(rows).toHaveLength(1);
      const row = rows[0]!;
      const MAP: Record<string, string> = {
        'aws.s3.bucket': 'bucket_name',
        'aws.s3.owner': 'bucketowner',
        'source.address': 'remoteip',
        'user.id': 'requester',
        'aws.request_id': 'requestid',
        'rpc.method': 'operation',
        'http.request.method': 'request_method',
        'url.path': 'request_path',
        'url.query': 'request_query',
        'http.response.status_code': 'httpstatus',
        'http.response.body.size': 'bytessent',
        duration: 'totaltime',
        'user_agent.original': 'useragent',
        'aws.extended_request_id': 'hostid',
        'aws.signature.version': 'sigv',
        'tls.cipher': 'ciphersuite',
        'aws.s3.auth_type': 'authtype',
        'http.request.header.host': 'endpoint',
        'aws.s3.access_point.arn': 'accesspointarn',
        'aws.s3.acl_required': 'aclrequired',
        'aws.s3.source_region': 'sourceregion',
      };
      const expected: Row = {};
      const actual: Row = {};
      for (const [otel, ours] of Object.entries(MAP)) {
        expect(attrs.has(otel), `OTel attribute ${otel}`).toBe(true);
        expected[ours] = attrs.get(otel);
        actual[ours] = row[ours];
      }
      expected.protocol = `${String(attrs.get('network.protocol.name')).toUpperCase()}/${attrs.get('network.protocol.version')}`;
      actual.protocol = row.request_protocol;
      expected.tls = attrs.get('tls.protocol.version');
      actual.tls = String(row.tlsversion).replace(/^tlsv/i, '');
      expected.requestdatetime = Number(BigInt(nanos) / 1_000_000n);
      actual.requestdatetime = row.requestdatetime;
      expect(actual).toEqual(expected);
      // Fields OTel leaves out because they are `-` are null on our side.
      expect([row.errorcode, row.objectsize, row.turnaroundtime, row.referrer, row.versionid, row.key]).toEqual([
        null,
        null,
        null,
        null,
        null,
        null,
      ]);
      expect(row.extra_fields).toBe('ExtraUnknownField');
    });
  });
