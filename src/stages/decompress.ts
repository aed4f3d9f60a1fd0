/**
 * decompress: gzip and zstd log objects, recognised by their first bytes (never by name: copies and
 * archives rename freely), decompressed before parsing. Anything else is handed on as it is, without a copy.
 *
 * Why "as a stream" when the parser wants the whole object anyway: the decoders run incrementally into one
 * growing buffer, so
 *  - the size limit is enforced while decoding: a decompression bomb stops at `maxBytes` of output instead
 *    of allocating what a header claims or decoding to the end first;
 *  - nothing relies on sizes declared in headers (zstd frames without a content size, concatenated frames
 *    and gzip members all decode the same way), and a header is only a hint for the first allocation;
 *  - the decoders' own memory stays small and fixed: zlib's 32 KiB window; for zstd the frame's window
 *    (2–8 MiB at the CLI's levels, refused above 128 MiB) plus 1 MiB of input and 128 KiB of output
 *    staged in wasm memory, which never shrinks, so the compressed object is never copied into it whole.
 * What it does not buy: peak memory is still the decompressed object (plus the compressed one), because
 * parseLogObject takes one whole body. Access log objects are at most tens of MiB; a line-streaming parser
 * would be a parser change for no practical gain.
 *
 * zstd: Node 20's zlib has none (it arrived in 22.15/23.8), so libzstd comes compiled to wasm and inlined
 * in the `zstddec` package (no install script, no download, no native build). Its own streaming wrapper
 * ignores libzstd's error codes (a corrupt frame makes it spin) and frees nothing when abandoned, so the
 * loop below drives libzstd's exports directly: every error is checked, the context is freed in `finally`,
 * and the frame checksum is verified (libzstd does it; a pure-JS decoder such as fzstd skips it and returns
 * wrong bytes for a bit flip without an error).
 */
import zlib from 'node:zlib';
import { ZSTDDecoder } from 'zstddec/stream';
import { DecompressError, type DecompressErrorCode } from '../errors.js';

export type ObjectCompression = 'gzip' | 'zstd';

/** Decompressed bytes one object may have, unless the caller says otherwise. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 1024 * 1024 * 1024;

export interface DecompressLimits {
  /** Most bytes a compressed object may decompress to; more is a DecompressError `too_large`. Default 1 GiB. */
  maxBytes?: number;
}

export interface DecompressedObject {
  /** The log text: the body itself (same buffer) when it was not compressed. */
  bytes: Uint8Array;
  compression: ObjectCompression | undefined;
  /** The object's size as stored (and fetched): the body's length, compressed or not. */
  compressedBytes: number;
}

/** Defined in src/errors.ts with the other error classes; exported here too for existing importers. */
export { DecompressError, type DecompressErrorCode };

/**
 * The compression of a body, from its first bytes:
 *  - gzip: 1f 8b (RFC 1952). Every member starts so; a multi-member file is still gzip.
 *  - zstd: a frame, 28 b5 2f fd (RFC 8878 §3.1.1), or a skippable frame, 5? 2a 4d 18 (magic 0x184D2A50–5F,
 *    §3.1.2): pzstd and the seekable format write those, and libzstd skips them wherever they are.
 *    Legacy pre-1.0 zstd frames (0xFD2FB51E–27) are not recognised.
 * An access log line starts with a hex canonical user id, so none of these can be the start of a plain log.
 */
export function detectCompression(head: Uint8Array): ObjectCompression | undefined {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length < 4) return undefined;
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if ((head[0]! & 0xf0) === 0x50 && head[1] === 0x2a && head[2] === 0x4d && head[3] === 0x18) return 'zstd';
  return undefined;
}

/** Decompresses a gzip or zstd body; any other body is returned as it is (the same buffer, not a copy). */
export async function decompressObject(body: Uint8Array, limits: DecompressLimits = {}): Promise<DecompressedObject> {
  const compression = detectCompression(body);
  if (compression === undefined) return { bytes: body, compression, compressedBytes: body.length };
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a whole number of bytes, not ${maxBytes}`);
  const bytes = compression === 'gzip' ? await gunzip(body, maxBytes) : await unzstd(body, maxBytes);
  return { bytes, compression, compressedBytes: body.length };
}

// ---------------------------------------------------------------------------------------------------
// Output: one buffer, sized from the header's hint when it is plausible, doubled when it is not enough.
// ---------------------------------------------------------------------------------------------------

/** A hint above this many times the compressed size is not trusted for the first allocation (access logs compress 4–30×). */
const MAX_HINT_RATIO = 64;
const MIN_CAPACITY = 64 * 1024;

class Output {
  private buffer: Buffer;
  private length = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly compression: ObjectCompression,
    private readonly compressedBytes: number,
    hint: number | undefined,
  ) {
    const plausible = hint !== undefined && hint <= compressedBytes * MAX_HINT_RATIO ? hint : compressedBytes * 4;
    this.buffer = Buffer.allocUnsafe(Math.min(Math.max(plausible, MIN_CAPACITY), maxBytes));
  }

  write(chunk: Uint8Array): void {
    const needed = this.length + chunk.length;
    if (needed > this.maxBytes) {
      throw new DecompressError(
        `${this.compression} data decompresses to more than ${describeBytes(this.maxBytes)} (the maxBytes limit, ${this.maxBytes} bytes); ` +
          'an access log object is far smaller, so this is not one or it is a decompression bomb',
        'too_large',
        this.compression,
        this.maxBytes,
      );
    }
    if (needed > this.buffer.length) {
      // A hint that fell short (a gzip file of several members, whose ISIZE is the last one's) is no
      // guide: go at least to the 4× guess made without one.
      const capacity = Math.max(needed, this.buffer.length * 2, this.compressedBytes * 4);
      const grown = Buffer.allocUnsafe(Math.min(capacity, this.maxBytes));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(chunk, this.length);
    this.length = needed;
  }

  /** The bytes written. May be a view of a larger allocation (at most twice the size after growing). */
  bytes(): Uint8Array {
    return this.length === this.buffer.length ? this.buffer : this.buffer.subarray(0, this.length);
  }
}

function describeBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

// ---------------------------------------------------------------------------------------------------
// gzip: Node's zlib, as a stream (runs on the libuv thread pool, so the event loop goes on meanwhile).
// ---------------------------------------------------------------------------------------------------

/** Output chunk of the zlib stream: larger than the 16 KiB default, fewer thread-pool round trips. */
const GZIP_CHUNK_BYTES = 256 * 1024;

function gunzip(body: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  // ISIZE, the last 4 bytes: the size mod 2^32 of the last member (the whole file when it has one member).
  const hint = body.length >= 18 ? Buffer.from(body.buffer, body.byteOffset, body.length).readUInt32LE(body.length - 4) : undefined;
  const output = new Output(maxBytes, 'gzip', body.length, hint);
  return new Promise((resolve, reject) => {
    // Gunzip goes on into the next member when one follows (RFC 1952 §2.2); `gzip -d` does the same.
    const stream = zlib.createGunzip({ chunkSize: GZIP_CHUNK_BYTES });
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      stream.destroy();
      reject(error);
    };
    stream.on('data', (chunk: Buffer) => {
      try {
        output.write(chunk);
      } catch (error) {
        fail(error);
      }
    });
    stream.on('error', (error: NodeJS.ErrnoException) => fail(gzipError(error)));
    stream.on('end', () => {
      if (failed) return;
      // bytesWritten counts the input zlib consumed. After a member, zlib reads a non-zero byte as the
      // start of the next member (an error if it is not one) but stops silently at a zero byte, and drops
      // whatever follows: zero padding is fine (gzip -d ignores it too), anything else behind it is not.
      const rest = body.subarray(stream.bytesWritten);
      if (rest.some((b) => b !== 0)) {
        fail(
          new DecompressError(
            `gzip data is followed by ${rest.length} bytes that are not gzip (the object is corrupt, or not only gzip)`,
            'corrupt',
            'gzip',
          ),
        );
        return;
      }
      resolve(output.bytes());
    });
    stream.end(body);
  });
}

function gzipError(error: NodeJS.ErrnoException): DecompressError {
  // zlib: Z_BUF_ERROR "unexpected end of file" when the input ends inside a member; Z_DATA_ERROR for
  // "incorrect header check", "invalid block type", "incorrect data check" (CRC-32), "incorrect length check".
  if (error.code === 'Z_BUF_ERROR') {
    return new DecompressError(
      'gzip data ends before the end of its last member: the object is truncated',
      'truncated',
      'gzip',
      undefined,
      { cause: error },
    );
  }
  return new DecompressError(`gzip data is corrupt: ${error.message}`, 'corrupt', 'gzip', undefined, { cause: error });
}

// ---------------------------------------------------------------------------------------------------
// zstd: libzstd's streaming decoder (ZSTD_decompressStream) in zstddec's wasm, driven directly.
// ---------------------------------------------------------------------------------------------------

/** The exports of zstddec's stream build that the loop uses (wasm32: pointers and size_t are 32-bit). */
interface ZstdExports {
  memory: { readonly buffer: ArrayBuffer };
  malloc(size: number): number;
  free(ptr: number): void;
  ZSTD_createDCtx(): number;
  ZSTD_freeDCtx(dctx: number): number;
  ZSTD_DStreamOutSize(): number;
  ZSTD_decompressStream(dctx: number, output: number, input: number): number;
}

let zstdExports: Promise<ZstdExports> | undefined;

/**
 * zstddec keeps its wasm instance private; `_init` (declared in its typings) is what receives the
 * instantiated module, so a subclass records the exports there and hands on. The version is pinned
 * exactly in package.json: a release that changes this fails the decompress tests, loudly.
 */
function loadZstd(): Promise<ZstdExports> {
  zstdExports ??= (async () => {
    let captured: ZstdExports | undefined;
    class Decoder extends ZSTDDecoder {
      override _init(result: Parameters<ZSTDDecoder['_init']>[0]): void {
        captured = (result as unknown as { instance: { exports: ZstdExports } }).instance.exports;
        ZSTDDecoder.prototype._init.call(this, result);
      }
    }
    await new Decoder().init();
    if (!captured || typeof captured.ZSTD_decompressStream !== 'function') {
      throw new Error('zstddec did not hand over its wasm exports (initialised elsewhere first, or its internals changed)');
    }
    return captured;
  })();
  zstdExports.catch(() => (zstdExports = undefined));
  return zstdExports;
}

/** Compressed bytes copied into wasm memory per ZSTD_decompressStream round. */
const ZSTD_INPUT_BYTES = 1024 * 1024;
/** size_t results above this are errors, -code (zstd_errors.h: ZSTD_error_maxCode is 120). */
const ZSTD_ERROR_MIN = 0x1_0000_0000 - 120;
const ZSTD_ERRORS: Record<number, [DecompressErrorCode, string]> = {
  10: ['corrupt', 'unknown frame magic (not zstd, or bytes after the last frame)'],
  12: ['unsupported', 'unsupported zstd version'],
  14: ['corrupt', 'unsupported frame parameter'],
  16: ['unsupported', 'frame window above 128 MiB (written with zstd --long=28 or more)'],
  20: ['corrupt', 'corrupted block'],
  22: ['corrupt', 'content checksum mismatch'],
  32: ['unsupported', 'frame needs a dictionary'],
  64: ['unsupported', 'out of wasm memory'],
};

async function unzstd(body: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  const zstd = await loadZstd();
  const output = new Output(maxBytes, 'zstd', body.length, zstdContentSize(body));
  const outCapacity = zstd.ZSTD_DStreamOutSize();
  const inCapacity = Math.min(ZSTD_INPUT_BYTES, body.length);
  const dctx = zstd.ZSTD_createDCtx();
  const inData = zstd.malloc(inCapacity);
  const outData = zstd.malloc(outCapacity);
  // ZSTD_inBuffer { src, size, pos } then ZSTD_outBuffer { dst, size, pos }: six u32.
  const buffers = zstd.malloc(24);
  try {
    if (!dctx || !inData || !outData || !buffers) throw zstdError(64);
    let hint = 1;
    for (let offset = 0; offset < body.length; ) {
      const n = Math.min(inCapacity, body.length - offset);
      // Views are made after every call: memory.grow (malloc, or the context's window) replaces the buffer.
      new Uint8Array(zstd.memory.buffer, inData, n).set(body.subarray(offset, offset + n));
      offset += n;
      new Uint32Array(zstd.memory.buffer, buffers, 3).set([inData, n, 0]);
      for (;;) {
        new Uint32Array(zstd.memory.buffer, buffers + 12, 3).set([outData, outCapacity, 0]);
        hint = zstd.ZSTD_decompressStream(dctx, buffers + 12, buffers) >>> 0;
        if (hint >= ZSTD_ERROR_MIN) throw zstdError(0x1_0000_0000 - hint);
        const [, , inPos] = new Uint32Array(zstd.memory.buffer, buffers, 3);
        const produced = new Uint32Array(zstd.memory.buffer, buffers + 12, 3)[2]!;
        if (produced > 0) output.write(new Uint8Array(zstd.memory.buffer, outData, produced));
        // Done with this input once it is consumed and nothing is left to flush: the output was not
        // filled, or the frame ended (0). Calling again after a frame's end would start another frame.
        if (inPos === n && (produced < outCapacity || hint === 0)) break;
      }
    }
    // 0 means the last frame was decoded, checked and flushed; anything else is how much more input it wanted.
    if (hint !== 0) throw new DecompressError('zstd data ends inside a frame: the object is truncated', 'truncated', 'zstd');
    return output.bytes();
  } finally {
    zstd.free(buffers);
    zstd.free(outData);
    zstd.free(inData);
    zstd.ZSTD_freeDCtx(dctx);
  }
}

function zstdError(code: number): DecompressError {
  const [kind, what] = ZSTD_ERRORS[code] ?? ['corrupt', `libzstd error ${code}`];
  return new DecompressError(
    `zstd data ${kind === 'unsupported' ? 'cannot be read here' : 'is corrupt'}: ${what} (libzstd error ${code})`,
    kind,
    'zstd',
  );
}

/**
 * The sum of the frames' Frame_Content_Size (RFC 8878 §3.1.1.1), found by walking frame and block headers
 * without decoding: the exact output size when every frame declares its size (the CLI does for files, and
 * `cat`-ed files keep theirs), else undefined. Only a hint for the first allocation: the decoder is the
 * judge of the data, so anything unexpected here just gives up.
 */
function zstdContentSize(body: Uint8Array): number | undefined {
  let total = 0;
  let at = 0;
  while (at < body.length) {
    if (body.length - at < 8) return undefined;
    const magic = (body[at]! | (body[at + 1]! << 8) | (body[at + 2]! << 16) | (body[at + 3]! << 24)) >>> 0;
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      at += 8 + ((body[at + 4]! | (body[at + 5]! << 8) | (body[at + 6]! << 16) | (body[at + 7]! << 24)) >>> 0);
      continue;
    }
    if (magic !== 0xfd2fb528) return undefined;
    const descriptor = body[at + 4]!;
    const fcsFlag = descriptor >> 6;
    const singleSegment = (descriptor >> 5) & 1;
    const fcsBytes = fcsFlag === 0 ? singleSegment : 1 << fcsFlag;
    if (fcsBytes === 0) return undefined;
    const fcsAt = at + 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 3]!;
    if (body.length < fcsAt + fcsBytes) return undefined;
    let size = 0;
    for (let i = fcsBytes - 1; i >= 0; i--) size = size * 256 + body[fcsAt + i]!;
    total += fcsBytes === 2 ? size + 256 : size;
    // Blocks: a 3-byte header (Last_Block, Block_Type, Block_Size); an RLE block carries one byte.
    at = fcsAt + fcsBytes;
    for (let last = 0; !last; ) {
      if (body.length - at < 3) return undefined;
      const header = body[at]! | (body[at + 1]! << 8) | (body[at + 2]! << 16);
      last = header & 1;
      const type = (header >> 1) & 3;
      if (type === 3) return undefined;
      at += 3 + (type === 1 ? 1 : header >>> 3);
    }
    if (descriptor & 4) at += 4; // Content_Checksum
  }
  return at === body.length ? total : undefined;
}
