/**
 * The fast path (scanOrdinary) against the exact parser (parseLine): every object is parsed twice, once
 * with the fast path and once exact only, and the built column buffers must be byte for byte the same,
 * with the same rejects. Inputs: a generated key date with every kind of record the generator writes,
 * every log file of the corpus (../shared/corpus, or the vendored copies), and edge cases made by
 * mutating real lines (cuts, glued records, raw quotes, empty fields, wrong shapes, odd bytes …).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateKeyDate } from '../scripts/genLogs.js';
import { Random } from '../scripts/random.js';
import { RowBatch } from '../src/stages/build.js';
import { LineSpans, parseLogObject, scanOrdinary } from '../src/stages/parse.js';
import { corpusDir, isLogFile, listFiles } from './helpers/corpus.js';

interface Outcome {
  columns: Array<{ kind: string; length: number; nulls: number; validity: Buffer; values: Buffer; offsets: Buffer }>;
  rejects: string[];
  counts: unknown;
}

function parse(bytes: Uint8Array, exactOnly: boolean): Outcome {
  const batch = new RowBatch();
  const rejects: string[] = [];
  const counts = parseLogObject(
    bytes,
    {
      row: (buf, spans) => batch.appendRow(buf, spans),
      reject: (line, reason, detail, raw) => rejects.push(`${line} ${reason} ${detail} ${Buffer.from(raw).toString('hex')}`),
    },
    new LineSpans(),
    exactOnly,
  );
  const columns = batch.columns.map((c) => {
    const s = c.state();
    const valueBytes =
      s.kind === 'utf8' ? (s.bytes ?? 0) : s.kind === 'bool' ? (s.length + 7) >> 3 : s.length * (s.kind === 'int32' ? 4 : 8);
    return {
      kind: s.kind,
      length: s.length,
      nulls: s.nulls,
      validity: Buffer.from(s.validity.subarray(0, (s.length + 7) >> 3)),
      values: Buffer.from(s.values.subarray(0, valueBytes)),
      offsets: Buffer.from(
        s.offsets ? new Uint8Array(s.offsets.buffer, s.offsets.byteOffset, s.kind === 'utf8' ? (s.length + 1) * 4 : 0) : [],
      ),
    };
  });
  return { columns, rejects, counts };
}

function expectSame(bytes: Uint8Array, label: string): Outcome {
  const fast = parse(bytes, false);
  const exact = parse(bytes, true);
  expect(fast.counts, label).toEqual(exact.counts);
  expect(fast.rejects, label).toEqual(exact.rejects);
  for (let i = 0; i < exact.columns.length; i++) {
    const [f, e] = [fast.columns[i]!, exact.columns[i]!];
    // Buffers compared byte for byte; on a difference, the message names the column.
    expect(
      { i, ...f, validity: f.validity.toString('hex'), values: f.values.toString('hex'), offsets: f.offsets.toString('hex') },
      label,
    ).toEqual({
      i,
      ...e,
      validity: e.validity.toString('hex'),
      values: e.values.toString('hex'),
      offsets: e.offsets.toString('hex'),
    });
  }
  return fast;
}

/** Lines of a body, without their LF. */
function linesOf(body: Uint8Array): Buffer[] {
  const out: Buffer[] = [];
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  for (let s = 0; s < b.length; ) {
    let e = b.indexOf(0x0a, s);
    if (e === -1) e = b.length;
    out.push(b.subarray(s, e));
    s = e + 1;
  }
  return out;
}

function fastShare(lines: Buffer[]): number {
  const spans = new LineSpans();
  let fast = 0;
  for (const line of lines) if (scanOrdinary(line, 0, line.length, spans)) fast++;
  return fast / lines.length;
}

const generated = [
  ...generateKeyDate({
    seed: 14,
    keyDate: '2024-03-03',
    layout: 'simple',
    targetBytes: 3 * 1024 * 1024,
    minObjectBytes: 64 * 1024,
    maxObjectBytes: 512 * 1024,
    quoteFraction: 0.05,
    extraFieldsFraction: 0.05,
    oldFormatFraction: 0.1,
    rejectFraction: 0.01,
    lateFraction: 0.05,
  }),
];

describe('parse fast path', () => {
  it('gives byte-identical columns and the same rejects on a generated key date, and takes most of its lines', () => {
    let lines = 0;
    for (const o of generated) {
      const out = expectSame(o.body, o.key);
      lines += (out.counts as { lines: number }).lines;
    }
    expect(lines).toBeGreaterThan(4000);
    // Not a test that cannot fail: the fast path must carry the ordinary lines (≥ 90% here, with 5% raw
    // quotes, 5% extra fields and 1% junk), or the equality above proves nothing.
    expect(fastShare(generated.flatMap((o) => linesOf(o.body)))).toBeGreaterThan(0.9);
  });

  it('gives byte-identical columns and the same rejects on every log file of the corpus', () => {
    const files = listFiles(corpusDir).filter(isLogFile);
    expect(files.length).toBeGreaterThan(10);
    let fastLines = 0;
    for (const rel of files) {
      const bytes = readFileSync(path.join(corpusDir, rel));
      expectSame(bytes, rel);
      fastLines += Math.round(fastShare(linesOf(bytes)) * linesOf(bytes).length);
    }
    expect(fastLines).toBeGreaterThan(0);
  });

  it('agrees with the exact parser on mutated lines: cuts, glued records, raw quotes, empty fields, wrong shapes', () => {
    const random = new Random(17);
    const source = generated.flatMap((o) => linesOf(o.body)).filter((l) => l.length > 0);
    const corpus = listFiles(corpusDir)
      .filter(isLogFile)
      .flatMap((rel) => linesOf(readFileSync(path.join(corpusDir, rel))))
      .filter((l) => l.length > 0);
    const pool = [...source.slice(0, 150), ...corpus];
    const OAI = 'arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2EXAMPLE';
    const replacements = [
      '',
      '-',
      '"-"',
      '"',
      '""',
      'a"b',
      '"a" b"',
      '"x"y"',
      'Yes',
      'No',
      'SigV4',
      'SigV3',
      'AuthHeader',
      'TLSv1.3',
      'tls',
      'SSL',
      '1234567890',
      '123456789012345678',
      '12a',
      '[29/Jan/2024:22:28:12 +0000]',
      '[29/Jan/2024:22:28:12',
      '[31/Feb/2024:00:00:00 +0000]',
      OAI,
      'two tokens',
      '\t',
      'é',
      '\u00ff\u00fe',
    ];
    const mutants: Buffer[] = [];
    for (const line of pool) {
      const text = line.toString('latin1');
      const tokens = text.split(' ');
      for (let k = 0; k < 6; k++) {
        const t = [...tokens];
        const i = random.int(0, t.length - 1);
        switch (random.int(0, 7)) {
          case 0: // replace a token
            t[i] = random.pick(replacements);
            break;
          case 1: // double space
            t[i] = `${t[i]} `;
            break;
          case 2: // a raw quote inside a token
            t[i] = `${t[i]!.slice(0, 3)}"${t[i]!.slice(3)}`;
            break;
          case 3: // a longer owner ID
            t[0] = `${t[0]}${'0123456789abcdef'.slice(0, random.int(1, 16))}`;
            break;
          case 4: // extra fields, possibly holding a record start
            t.push(random.chance(0.5) ? 'extra' : text.slice(0, 120));
            break;
          case 5: // drop trailing fields
            t.splice(random.int(1, t.length));
            break;
        }
        let mutated = Buffer.from(t.join(' '), 'latin1');
        if (random.chance(0.2)) mutated = Buffer.concat([mutated, Buffer.from(random.pick(['\r', ' ', '\t', ' \r']))]);
        if (random.chance(0.1)) mutated = Buffer.concat([mutated.subarray(0, random.int(0, mutated.length)), random.pick(pool)]);
        mutants.push(mutated);
      }
      // Cut points, and cuts glued to another line.
      for (let cut = random.int(0, 20); cut < line.length; cut += 25) {
        mutants.push(line.subarray(0, cut));
        if (random.chance(0.3)) mutants.push(Buffer.concat([line.subarray(0, cut), random.pick(pool)]));
      }
    }
    // Invalid UTF-8 in some lines: those objects take the per-line repair path.
    const bytes = Buffer.concat(
      mutants.flatMap((m, n) => [n % 97 === 0 ? Buffer.concat([m, Buffer.from([0xc3, 0x28])]) : m, Buffer.from('\n')]),
    );
    const out = expectSame(bytes, 'mutants');
    expect((out.counts as { rows: number }).rows).toBeGreaterThan(1000);
    expect((out.counts as { rejects: number }).rejects).toBeGreaterThan(1000);
  });
});
