/**
 * decompress stage: gzip and zstd recognised by their magic bytes and decompressed; everything else
 * handed on untouched. Real compressed data comes from Node's zlib (gzip) and, for zstd, from files the
 * `zstd` CLI wrote once from the committed corpus (test/fixtures/compressed, made by
 * scripts/makeCompressedFixtures.sh; nothing in node_modules encodes zstd, and the tests never run the
 * CLI). Frames built by hand below (raw and RLE blocks, RFC 8878 §3.1.1.2) cover what the CLI will not
 * write: skippable frames in odd places, bombs, oversized windows.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { generateKeyDate } from '../scripts/genLogs.js';
import {
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  DecompressError,
  decompressObject,
  detectCompression,
  type DecompressErrorCode,
} from '../src/stages/decompress.js';

const MiB = 1024 * 1024;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const corpusDir = path.join(repoRoot, 'test/fixtures/corpus');
const fixturesDir = path.join(repoRoot, 'test/fixtures/compressed');

/**
 * The inputs of scripts/makeCompressedFixtures.sh, rebuilt from the same committed files: corpus.cat is
 * every log file of test/fixtures/corpus (not *.md, *.jsonl, *.yaml) concatenated in the bytewise order
 * of their relative paths (the script's `LC_ALL=C sort`); corpus-x60 is corpus.cat 60 times over.
 */
function corpusLogFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const rel = prefix ? `${prefix}/${name}` : name;
    if (statSync(path.join(dir, name)).isDirectory()) out.push(...corpusLogFiles(path.join(dir, name), rel));
    else if (!/\.(md|jsonl|yaml)$/.test(name)) out.push(rel);
  }
  return prefix ? out : out.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}
const CORPUS_CAT = Buffer.concat(corpusLogFiles(corpusDir).map((rel) => readFileSync(path.join(corpusDir, rel))));
const CORPUS_X60 = Buffer.concat(Array.from({ length: 60 }, () => CORPUS_CAT));

/** A committed zstd fixture (test/fixtures/compressed/README.md has the command that wrote it). */
function fixture(name: string): Buffer {
  return readFileSync(path.join(fixturesDir, name));
}

/** A fixture's decompressed bytes must be its input; when not, the corpus probably changed after the fixtures were made. */
function expectInput(actual: Uint8Array, input: Uint8Array, what: string): void {
  expect(
    Buffer.compare(actual, input),
    `${what} does not decompress to its input (${actual.length} bytes, expected ${input.length}): after a change under test/fixtures/corpus, run scripts/makeCompressedFixtures.sh`,
  ).toBe(0);
}

type BlockType = 'raw' | 'rle' | 'compressed';
interface ZstdFrameInfo {
  /** The frame's bytes in the file: [start, end). */
  start: number;
  end: number;
  contentSize: number | undefined;
  /** From the window descriptor; undefined for a single-segment frame (the window is the content size). */
  windowBytes: number | undefined;
  checksum: boolean;
  /** Each block's type, where its content starts and how many bytes of the file that content takes. */
  blocks: { type: BlockType; at: number; size: number }[];
}

/** The frame and block headers of a zstd file (RFC 8878 §3.1.1), to check that a fixture holds what its name says. */
function zstdFrames(data: Buffer): ZstdFrameInfo[] {
  const frames: ZstdFrameInfo[] = [];
  for (let at = 0; at < data.length; ) {
    const start = at;
    if (data.readUInt32LE(at) !== 0xfd2fb528) throw new Error(`no zstd frame at byte ${at}`);
    const descriptor = data[at + 4]!;
    at += 5;
    const singleSegment = (descriptor & 0x20) !== 0;
    let windowBytes: number | undefined;
    if (!singleSegment) {
      const window = data[at++]!;
      const base = 2 ** (10 + (window >> 3));
      windowBytes = base + (base / 8) * (window & 7);
    }
    at += [0, 1, 2, 4][descriptor & 3]!; // dictionary id
    const sizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6]!;
    if (sizeBytes === 8 && data.readUInt16LE(at + 6) !== 0) throw new Error('content size above 2^48');
    const contentSize = sizeBytes === 0 ? undefined : data.readUIntLE(at, Math.min(sizeBytes, 6)) + (sizeBytes === 2 ? 256 : 0);
    at += sizeBytes;
    const blocks: ZstdFrameInfo['blocks'] = [];
    for (let last = false; !last; ) {
      const header = data.readUIntLE(at, 3);
      at += 3;
      last = (header & 1) === 1;
      const type = (['raw', 'rle', 'compressed', 'reserved'] as const)[(header >> 1) & 3]!;
      if (type === 'reserved') throw new Error(`reserved block type at byte ${at - 3}`);
      const size = type === 'rle' ? 1 : header >>> 3;
      blocks.push({ type, at, size });
      at += size;
    }
    const checksum = (descriptor & 0x04) !== 0;
    if (checksum) at += 4;
    if (at > data.length) throw new Error(`frame at byte ${start} runs past the end of the data`);
    frames.push({ start, end: at, contentSize, windowBytes, checksum, blocks });
  }
  return frames;
}

/** Frame header with no dictionary and no checksum; content size written when given; window as log2. */
function frameHeader(options: { contentSize?: number; windowLog?: number } = {}): Buffer {
  const magic = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
  if (options.contentSize !== undefined) {
    // Frame_Content_Size_Flag 2 (4 bytes), Single_Segment_Flag 1 (no window descriptor).
    const fcs = Buffer.alloc(4);
    fcs.writeUInt32LE(options.contentSize);
    return Buffer.concat([magic, Buffer.from([0b1010_0000]), fcs]);
  }
  return Buffer.concat([magic, Buffer.from([0, ((options.windowLog ?? 17) - 10) << 3])]);
}

function blockHeader(last: boolean, type: 0 | 1, size: number): Buffer {
  const header = Buffer.alloc(3);
  header.writeUIntLE((size << 3) | (type << 1) | (last ? 1 : 0), 0, 3);
  return header;
}

/** A zstd frame of raw (stored) blocks: valid zstd any decoder must read, no encoder needed. */
function rawFrame(content: Uint8Array, options: { contentSize?: boolean } = {}): Buffer {
  const parts = [frameHeader(options.contentSize ? { contentSize: content.length } : {})];
  const BLOCK = 128 * 1024;
  if (content.length === 0) parts.push(blockHeader(true, 0, 0));
  for (let at = 0; at < content.length; at += BLOCK) {
    const piece = content.subarray(at, at + BLOCK);
    parts.push(blockHeader(at + BLOCK >= content.length, 0, piece.length), Buffer.from(piece));
  }
  return Buffer.concat(parts);
}

/** A frame of RLE blocks: `blocks` × 128 KiB of one byte from 4 bytes per block. */
function rleBomb(blocks: number, byte = 0x41): Buffer {
  const parts = [frameHeader({ windowLog: 17 })];
  for (let i = 0; i < blocks; i++) parts.push(blockHeader(i === blocks - 1, 1, 128 * 1024), Buffer.from([byte]));
  return Buffer.concat(parts);
}

function skippableFrame(payload: Uint8Array, magicLowNibble = 0): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0x184d2a50 + magicLowNibble, 0);
  header.writeUInt32LE(payload.length, 4);
  return Buffer.concat([header, Buffer.from(payload)]);
}

/** Generated access logs, `size` bytes of whole lines at most. */
function logs(size: number, seed = 1): Buffer {
  const bodies: Buffer[] = [];
  for (const object of generateKeyDate({ seed, keyDate: '2024-01-29', layout: 'simple', targetBytes: size })) bodies.push(object.body);
  return Buffer.concat(bodies);
}

async function expectDecompressError(promise: Promise<unknown>, code: DecompressErrorCode, message?: RegExp): Promise<DecompressError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DecompressError);
  const typed = error as DecompressError;
  expect(typed.code, typed.message).toBe(code);
  if (message) expect(typed.message).toMatch(message);
  return typed;
}

const LOGS = logs(3 * MiB);
const SMALL = logs(64 * 1024, 2);

describe('detectCompression', () => {
  it('knows gzip, zstd frames and zstd skippable frames by their first bytes', () => {
    expect(detectCompression(zlib.gzipSync(SMALL))).toBe('gzip');
    expect(detectCompression(Buffer.from([0x1f, 0x8b]))).toBe('gzip');
    expect(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(detectCompression(skippableFrame(Buffer.alloc(0), 0x0))).toBe('zstd');
    expect(detectCompression(skippableFrame(Buffer.alloc(0), 0xf))).toBe('zstd');
  });

  it('calls anything else uncompressed, however short', () => {
    expect(detectCompression(new Uint8Array(0))).toBeUndefined();
    expect(detectCompression(Buffer.from([0x1f]))).toBeUndefined();
    expect(detectCompression(Buffer.from([0x28, 0xb5, 0x2f]))).toBeUndefined();
    expect(detectCompression(SMALL)).toBeUndefined();
    // Other formats are not this stage's: they stay "uncompressed" (and their lines become rejects).
    expect(detectCompression(Buffer.from('BZh91AY&SY'))).toBeUndefined(); // bzip2
    expect(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))).toBeUndefined(); // xz
    expect(detectCompression(Buffer.from([0x04, 0x22, 0x4d, 0x18]))).toBeUndefined(); // lz4 frame
    // 0x184D2A4F is one below the skippable range.
    expect(detectCompression(Buffer.from([0x4f, 0x2a, 0x4d, 0x18]))).toBeUndefined();
  });

  it('goes by the bytes, never by a name: hex text spelling a magic number is a plain log', () => {
    // A log line whose bucket owner id starts with the magic numbers written as hex text.
    for (const owner of ['1f8b', '28b52ffd']) {
      const line = Buffer.from(
        `${owner}${'0'.repeat(64 - owner.length)} access.log.gz [06/Feb/2019:00:00:38 +0000] 192.0.2.3 - A - - "-" 200 - - - - - "-" "-" -\n`,
      );
      expect(detectCompression(line)).toBeUndefined();
    }
  });
});

describe('decompressObject', () => {
  it('hands an uncompressed body on as the same buffer, no copy', async () => {
    const result = await decompressObject(SMALL);
    expect(result.bytes).toBe(SMALL);
    expect(result).toMatchObject({ compression: undefined, compressedBytes: SMALL.length });
  });

  it('hands an empty body on as it is', async () => {
    const empty = new Uint8Array(0);
    const result = await decompressObject(empty);
    expect(result.bytes).toBe(empty);
    expect(result).toMatchObject({ compression: undefined, compressedBytes: 0 });
  });

  describe('gzip', () => {
    it('decompresses a gzip object and reports both sizes', async () => {
      const gz = zlib.gzipSync(LOGS);
      const result = await decompressObject(gz);
      expect(result.compression).toBe('gzip');
      expect(result.compressedBytes).toBe(gz.length);
      expect(Buffer.compare(result.bytes, LOGS)).toBe(0);
      expect(result.bytes.length).toBe(LOGS.length);
    });

    it('takes a plain Uint8Array as well as a Buffer', async () => {
      for (const compressed of [zlib.gzipSync(SMALL), rawFrame(SMALL)]) {
        const plain = new Uint8Array(compressed);
        expect(Buffer.isBuffer(plain)).toBe(false);
        expect(Buffer.compare((await decompressObject(plain)).bytes, SMALL)).toBe(0);
      }
    });

    it('decompresses a view into a larger buffer (byteOffset ≠ 0)', async () => {
      const gz = zlib.gzipSync(SMALL);
      const padded = Buffer.concat([Buffer.from('xxxx'), gz, Buffer.from('yyyy')]);
      const view = padded.subarray(4, 4 + gz.length);
      expect(Buffer.compare((await decompressObject(view)).bytes, SMALL)).toBe(0);
    });

    it('decompresses every member of a multi-member file (cat a.gz b.gz), including an empty one', async () => {
      const a = LOGS.subarray(0, 1_000_001); // mid-line
      const b = LOGS.subarray(1_000_001);
      const gz = Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(Buffer.alloc(0)), zlib.gzipSync(b, { level: 1 })]);
      const result = await decompressObject(gz);
      expect(result.compression).toBe('gzip');
      expect(Buffer.compare(result.bytes, LOGS)).toBe(0);
    });

    it('decompresses content of sizes around the 256 KiB output chunk', async () => {
      const K256 = 256 * 1024;
      for (const size of [1, K256 - 1, K256, K256 + 1, 4 * K256]) {
        const content = LOGS.subarray(0, size);
        expect(Buffer.compare((await decompressObject(zlib.gzipSync(content))).bytes, content), `${size}`).toBe(0);
      }
    });

    it('decompresses an empty gzip file to an empty body', async () => {
      const result = await decompressObject(zlib.gzipSync(Buffer.alloc(0)));
      expect(result.compression).toBe('gzip');
      expect(result.bytes.length).toBe(0);
    });

    it('ignores zero padding after the last member, as gzip -d does', async () => {
      const gz = Buffer.concat([zlib.gzipSync(SMALL), Buffer.alloc(512)]);
      expect(Buffer.compare((await decompressObject(gz)).bytes, SMALL)).toBe(0);
    });

    it('refuses other bytes after the last member, also after zero padding (where zlib alone stops silently)', async () => {
      const text = Buffer.from('an uncompressed line\n');
      // zlib reads a non-zero byte after a member as the start of another member.
      await expectDecompressError(decompressObject(Buffer.concat([zlib.gzipSync(SMALL), text])), 'corrupt', /incorrect header check/);
      const padded = Buffer.concat([zlib.gzipSync(SMALL), Buffer.alloc(3), text]);
      await expectDecompressError(decompressObject(padded), 'corrupt', /followed by 24 bytes that are not gzip/);
    });

    it('a truncated gzip object is a typed `truncated` error', async () => {
      const gz = zlib.gzipSync(LOGS);
      for (const cut of [10, 100, gz.length >> 1, gz.length - 4, gz.length - 1]) {
        const error = await expectDecompressError(decompressObject(gz.subarray(0, cut)), 'truncated', /gzip .*truncated/);
        expect(error.compression).toBe('gzip');
      }
    });

    it('a corrupt gzip object is a typed `corrupt` error (CRC-32, header, data)', async () => {
      const gz = zlib.gzipSync(LOGS);
      const crc = Buffer.from(gz);
      crc[crc.length - 8]! ^= 0xff;
      await expectDecompressError(decompressObject(crc), 'corrupt', /gzip data is corrupt: incorrect data check/);
      const method = Buffer.from(gz);
      method[2] = 7; // compression method other than deflate
      await expectDecompressError(decompressObject(method), 'corrupt', /gzip data is corrupt/);
      const middle = Buffer.from(gz);
      for (let i = 1000; i < 1100; i++) middle[i] = 0xff;
      await expectDecompressError(decompressObject(middle), 'corrupt');
    });
  });

  describe('zstd', () => {
    it('decodes hand-built frames: raw blocks, with and without a content size', async () => {
      for (const contentSize of [true, false]) {
        const result = await decompressObject(rawFrame(LOGS, { contentSize }));
        expect(result.compression).toBe('zstd');
        expect(Buffer.compare(result.bytes, LOGS)).toBe(0);
      }
    });

    it('decodes content that ends exactly at the 128 KiB output step, and sizes around it', async () => {
      // A frame ending as the output buffer fills returns 0 with the output full: decoding must stop there.
      const K128 = 128 * 1024;
      for (const size of [0, 1, K128 - 1, K128, K128 + 1, 2 * K128, MiB, MiB + 1]) {
        const content = LOGS.subarray(0, size);
        for (const contentSize of [true, false]) {
          expect(Buffer.compare((await decompressObject(rawFrame(content, { contentSize }))).bytes, content), `${size}`).toBe(0);
        }
        // The same sizes written by the CLI from a pipe: no content size (libzstd writes 0 for no data at all), checksum.
        const name = `corpus-x60.first-${size}.pipe.zst`;
        const zst = fixture(name);
        expect(
          zstdFrames(zst).map((f) => [f.contentSize, f.checksum]),
          name,
        ).toEqual([[size === 0 ? 0 : undefined, true]]);
        expectInput((await decompressObject(zst)).bytes, CORPUS_X60.subarray(0, size), name);
      }
    });

    it('decodes concatenated frames and skips skippable frames wherever they are', async () => {
      const parts = [LOGS.subarray(0, 123_457), LOGS.subarray(123_457, 2_000_000), LOGS.subarray(2_000_000)];
      const zst = Buffer.concat([
        skippableFrame(Buffer.from('pzstd-style header'), 0xa),
        rawFrame(parts[0]!, { contentSize: true }),
        skippableFrame(Buffer.alloc(0)),
        rawFrame(Buffer.alloc(0)),
        rawFrame(parts[1]!),
        rawFrame(parts[2]!, { contentSize: true }),
        skippableFrame(Buffer.alloc(100), 0xf), // as the seekable format's seek table
      ]);
      expect(Buffer.compare((await decompressObject(zst)).bytes, LOGS)).toBe(0);
    });

    it('a body of skippable frames only is zstd with no content', async () => {
      const result = await decompressObject(skippableFrame(Buffer.from('metadata')));
      expect(result).toMatchObject({ compression: 'zstd', compressedBytes: 16 });
      expect(result.bytes.length).toBe(0);
    });

    it('refuses a frame whose window is above 128 MiB, before allocating it', async () => {
      const frame = Buffer.concat([frameHeader({ windowLog: 28 }), blockHeader(true, 0, 1), Buffer.from('x')]);
      await expectDecompressError(decompressObject(frame), 'unsupported', /window above 128 MiB/);
      // 2^27 is still read.
      const ok = Buffer.concat([frameHeader({ windowLog: 27 }), blockHeader(true, 0, 1), Buffer.from('x')]);
      expect(Buffer.from((await decompressObject(ok)).bytes).toString()).toBe('x');
    });

    it('bytes after the last frame are a typed `corrupt` error', async () => {
      const zst = Buffer.concat([rawFrame(SMALL), Buffer.from('trailing text\n')]);
      await expectDecompressError(decompressObject(zst), 'corrupt', /unknown frame magic/);
    });

    it('magic number alone, or a frame cut anywhere, is a typed `truncated` error', async () => {
      await expectDecompressError(decompressObject(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'truncated', /zstd .*truncated/);
      const zst = rawFrame(LOGS);
      for (const cut of [5, 7, 1000, zst.length >> 1, zst.length - 1]) {
        await expectDecompressError(decompressObject(zst.subarray(0, cut)), 'truncated');
      }
    });

    describe('data written by the zstd CLI (committed fixtures in test/fixtures/compressed)', () => {
      const PIPE = 'corpus-x60.pipe.zst';

      it('decodes a file compressed with a known size (content size and checksum in the header), at levels 1, 3 and 19', async () => {
        for (const level of [1, 3, 19]) {
          const name = `corpus-x60.level${level}.stream-size.zst`;
          const zst = fixture(name);
          const frames = zstdFrames(zst);
          expect(
            frames.map((f) => [f.contentSize, f.checksum]),
            name,
          ).toEqual([[CORPUS_X60.length, true]]);
          expect(frames[0]!.blocks.length, name).toBeGreaterThan(CORPUS_X60.length / (128 * 1024));
          expect(
            frames[0]!.blocks.map((b) => b.type),
            name,
          ).toContain('compressed');
          const result = await decompressObject(zst);
          expect(result).toMatchObject({ compression: 'zstd', compressedBytes: zst.length });
          expectInput(result.bytes, CORPUS_X60, name);
        }
      });

      it('decodes a file compressed from a pipe (no content size), a long-window one and a multi-threaded one', async () => {
        for (const name of [PIPE, 'corpus-x60.pipe.long27.zst', 'corpus-x60.pipe.T2-B524288.zst']) {
          const zst = fixture(name);
          const frames = zstdFrames(zst);
          expect(
            frames.map((f) => [f.contentSize, f.checksum]),
            name,
          ).toEqual([[undefined, true]]);
          expect(frames[0]!.blocks.length, name).toBeGreaterThan(CORPUS_X60.length / (128 * 1024));
          expectInput((await decompressObject(zst)).bytes, CORPUS_X60, name);
        }
        // --long=27: the largest window the reader takes (a larger one is refused, above).
        expect(zstdFrames(fixture('corpus-x60.pipe.long27.zst'))[0]!.windowBytes).toBe(128 * MiB);
      });

      it('decodes concatenated files (cat a.zst b.zst c.zst), cut mid-line, one without a checksum', async () => {
        const name = 'corpus-x60.3-frames.cut-500001-1100003.zst';
        const zst = fixture(name);
        const frames = zstdFrames(zst);
        expect(frames.map((f) => [f.contentSize, f.checksum])).toEqual([
          [undefined, true],
          [undefined, false], // --no-check
          [undefined, true],
        ]);
        expectInput((await decompressObject(zst)).bytes, CORPUS_X60, name);
        // Each frame alone is its piece, and the first two pieces end inside a line.
        const pieces = await Promise.all(
          frames.map(async (f) => Buffer.from((await decompressObject(zst.subarray(f.start, f.end))).bytes)),
        );
        expect(pieces.map((p) => p.length)).toEqual([500_001, 600_002, CORPUS_X60.length - 1_100_003]);
        for (const piece of pieces.slice(0, 2)) expect(piece.at(-1)).not.toBe(0x0a);
        expectInput(Buffer.concat(pieces), CORPUS_X60, `${name}, frame by frame`);
      });

      it('a flipped content checksum is a typed `corrupt` error (libzstd verifies XXH64)', async () => {
        const zst = fixture(PIPE);
        expect(zstdFrames(zst).at(-1)!.checksum).toBe(true);
        zst[zst.length - 1]! ^= 0x01;
        await expectDecompressError(decompressObject(zst), 'corrupt', /checksum mismatch \(libzstd error 22\)/);
      });

      it('a single flipped bit anywhere in the data is an error, never different rows', async () => {
        const zst = fixture(PIPE);
        for (const at of [20, zst.length / 3, zst.length / 2, (zst.length * 2) / 3, zst.length - 10].map(Math.floor)) {
          const flipped = Buffer.from(zst);
          flipped[at]! ^= 0x40;
          // Usually the checksum or a block check; a flip in a block size can also read as a cut-off frame.
          const error = await decompressObject(flipped).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(error, `bit flipped at ${at}`).toBeInstanceOf(DecompressError);
          expect(['corrupt', 'truncated']).toContain((error as DecompressError).code);
        }
      });

      it('damaged blocks are a typed `corrupt` error', async () => {
        const zst = fixture(PIPE);
        // 200 bytes inside the first block, which holds the entropy-coded first copy of the corpus.
        const first = zstdFrames(zst)[0]!.blocks[0]!;
        expect(first).toMatchObject({ type: 'compressed' });
        expect(first.size).toBeGreaterThan(400);
        for (let i = first.at + 100; i < first.at + 300; i++) zst[i] = 0xa5;
        await expectDecompressError(decompressObject(zst), 'corrupt', /zstd data is corrupt/);
      });

      it('a truncated CLI file is a typed `truncated` error, even when only the checksum is missing', async () => {
        const zst = fixture(PIPE);
        for (const cut of [zst.length - 4, zst.length - 1, zst.length >> 1]) {
          await expectDecompressError(decompressObject(zst.subarray(0, cut)), 'truncated');
        }
      });
    });

    it('decodes several objects at once (one shared wasm instance)', async () => {
      const inputs = [rawFrame(LOGS), zlib.gzipSync(SMALL), rawFrame(SMALL, { contentSize: true }), rawFrame(LOGS.subarray(5))];
      const expected = [LOGS, SMALL, SMALL, LOGS.subarray(5)];
      const results = await Promise.all(inputs.map((input) => decompressObject(input)));
      results.forEach((result, i) => {
        expect(Buffer.compare(result.bytes, expected[i]!), `input ${i}`).toBe(0);
      });
    });
  });

  describe('size limit', () => {
    it('is 1 GiB by default', () => {
      expect(DEFAULT_MAX_DECOMPRESSED_BYTES).toBe(1024 * MiB);
    });

    it('allows exactly maxBytes and refuses one byte more, naming the limit', async () => {
      for (const compressed of [zlib.gzipSync(SMALL), rawFrame(SMALL)]) {
        expect((await decompressObject(compressed, { maxBytes: SMALL.length })).bytes.length).toBe(SMALL.length);
        const error = await expectDecompressError(decompressObject(compressed, { maxBytes: SMALL.length - 1 }), 'too_large', /maxBytes/);
        expect(error.limit).toBe(SMALL.length - 1);
        expect(error.message).toContain(`${SMALL.length - 1} bytes`);
      }
    });

    it('must be a whole, non-negative number of bytes', async () => {
      await expect(decompressObject(rawFrame(SMALL), { maxBytes: -1 })).rejects.toThrow(RangeError);
      await expect(decompressObject(rawFrame(SMALL), { maxBytes: 1.5 })).rejects.toThrow(/maxBytes must be a whole number/);
    });

    it('applies only to compressed bodies (an uncompressed body is never copied or measured)', async () => {
      expect((await decompressObject(SMALL, { maxBytes: 10 })).bytes).toBe(SMALL);
    });

    it('stops a gzip bomb while decoding (64 MiB of zeros, limit 4 MiB)', async () => {
      const bomb = zlib.gzipSync(Buffer.alloc(64 * MiB), { level: 9 });
      expect(bomb.length).toBeLessThan(100 * 1024);
      const error = await expectDecompressError(
        decompressObject(bomb, { maxBytes: 4 * MiB }),
        'too_large',
        /gzip data decompresses to more than 4 MiB/,
      );
      expect(error.compression).toBe('gzip');
    });

    it('stops a zstd bomb while decoding (1 GiB of RLE blocks in 32 KiB, limit 16 MiB), without growing memory by the bomb', async () => {
      const bomb = rleBomb(8192);
      expect(bomb.length).toBeLessThan(33 * 1024);
      const before = process.memoryUsage();
      const started = performance.now();
      const error = await expectDecompressError(
        decompressObject(bomb, { maxBytes: 16 * MiB }),
        'too_large',
        /zstd data decompresses to more than 16 MiB/,
      );
      const after = process.memoryUsage();
      expect(error.compression).toBe('zstd');
      // Decoding the whole 1 GiB would take seconds and a 1 GiB buffer; stopping at 16 MiB takes neither.
      expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(256 * MiB);
      expect(after.rss - before.rss).toBeLessThan(512 * MiB);
      expect(performance.now() - started).toBeLessThan(5000);
    });
  });
});
