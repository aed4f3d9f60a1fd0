/**
 * Compressed corpus conformance (issue #13): a gzip or zstd copy of a log object gives exactly the rows
 * and rejects of the object itself. The copy is decompressed by the decompress stage and parsed; the
 * parse of the original file is the expectation.
 *
 * gzip: every log file of the corpus that corpus.conformance.test.ts reads (../shared/corpus when present,
 * else test/fixtures/corpus) is compressed here with Node's zlib.
 * zstd: nothing in node_modules encodes zstd, so the copies are committed files the zstd CLI wrote once
 * (test/fixtures/compressed/corpus, made by scripts/makeCompressedFixtures.sh), one per log file of the
 * vendored corpus test/fixtures/corpus (the shared corpus's other files may not be redistributed). They
 * are checked in both corpus modes; the tests never run the CLI.
 *
 * Each file is also split at the middle of its bytes (usually inside a line) into two gzip members and
 * two zstd frames, as `cat a.gz b.gz` or a multi-frame `zstd` file would be.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decompressObject, type ObjectCompression } from '../src/stages/decompress.js';
import { corpusDir, fixtureCorpus, isLogFile, listFiles, repoRoot, useShared } from './helpers/corpus.js';
import { parseRows } from './helpers/parseRows.js';

const COMPRESSORS: Record<string, { compression: ObjectCompression; compress: (bytes: Buffer) => Buffer }> = {
  gzip: { compression: 'gzip', compress: (bytes) => zlib.gzipSync(bytes) },
  'gzip, two members': { compression: 'gzip', compress: (bytes) => Buffer.concat(halves(bytes).map((h) => zlib.gzipSync(h))) },
};

function halves(bytes: Buffer): Buffer[] {
  const middle = bytes.length >> 1;
  return [bytes.subarray(0, middle), bytes.subarray(middle)];
}

const logFiles = listFiles(corpusDir).filter(isLogFile);

describe(`compressed corpus, gzip (${useShared ? 'shared corpus' : 'vendored fixtures'})`, () => {
  it('has log files to compress', () => {
    expect(logFiles.length).toBeGreaterThan(10);
  });

  describe.each(logFiles)('%s', (rel) => {
    const original = readFileSync(path.join(corpusDir, rel));
    const expected = parseRows(original);

    it.each(Object.keys(COMPRESSORS))('%s: same rows, rejects and counts as the uncompressed object', async (name) => {
      const { compression, compress } = COMPRESSORS[name]!;
      const compressed = compress(original);
      const result = await decompressObject(compressed);
      expect(result.compression).toBe(compression);
      expect(result.compressedBytes).toBe(compressed.length);
      expect(Buffer.compare(result.bytes, original)).toBe(0);
      expect(parseRows(result.bytes)).toEqual(expected);
    });
  });
});

const zstdFixtures = path.join(repoRoot, 'test/fixtures/compressed/corpus');
const vendoredLogFiles = listFiles(fixtureCorpus).filter(isLogFile);
/** The CLI's copies of each vendored log file: one frame (-3, content size, checksum), and its two halves as two such frames. */
const ZSTD_COPIES: Record<string, string> = { zstd: '.zst', 'zstd, two frames': '.two-frames.zst' };
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const STALE = 'after a change under test/fixtures/corpus, run scripts/makeCompressedFixtures.sh';

describe("compressed corpus, zstd (the CLI's copies of test/fixtures/corpus in test/fixtures/compressed/corpus)", () => {
  it('has both copies of every vendored log file, and no copy of a file that is gone', () => {
    expect(vendoredLogFiles.length).toBeGreaterThan(10);
    const wanted = vendoredLogFiles.flatMap((rel) => Object.values(ZSTD_COPIES).map((suffix) => `${rel}${suffix}`)).sort();
    expect(listFiles(zstdFixtures).sort(), STALE).toEqual(wanted);
  });

  describe.each(vendoredLogFiles)('%s', (rel) => {
    const original = readFileSync(path.join(fixtureCorpus, rel));
    const expected = parseRows(original);

    it.each(Object.keys(ZSTD_COPIES))('%s: same rows, rejects and counts as the uncompressed object', async (name) => {
      const compressed = readFileSync(path.join(zstdFixtures, `${rel}${ZSTD_COPIES[name]!}`));
      const result = await decompressObject(compressed);
      expect(result.compression).toBe('zstd');
      expect(result.compressedBytes).toBe(compressed.length);
      expect(Buffer.compare(result.bytes, original), `${name} copy differs from the file: ${STALE}`).toBe(0);
      expect(parseRows(result.bytes)).toEqual(expected);
      const second = compressed.indexOf(ZSTD_MAGIC, 1);
      if (name === 'zstd') {
        expect(second, 'one frame').toBe(-1);
      } else {
        // Two frames: the first alone is the first half.
        expect(second).toBeGreaterThan(0);
        expect(compressed.indexOf(ZSTD_MAGIC, second + 1), 'two frames').toBe(-1);
        const first = await decompressObject(compressed.subarray(0, second));
        expect(Buffer.compare(first.bytes, halves(original)[0]!)).toBe(0);
      }
    });
  });
});
