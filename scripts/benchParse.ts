/**
 * Parse throughput: seeded logs (scripts/genLogs.ts) → parse + build column buffers, in memory, no I/O.
 *
 *   npm run bench:parse [-- --mb 64] [--runs 3] [--exact] [--scan-only] [--dir <raw logs>] [--verify]
 *                       [--encode zstd|none|snappy|lz4|gzip|brotli]
 *
 * Prints MiB per CPU second (user + sys of this process: on a shared machine, wall time says more
 * about the neighbours), the median of --runs, and the share of lines the fast path took. `--exact`
 * sends every line through the exact parser; `--scan-only` tokenises without building columns (what
 * building costs is the difference). `--dir` reads the objects of a directory instead (e.g.
 * a bench corpus, .bench/corpus-512mb-seed1/raw). `--verify` parses every object both ways and fails
 * unless the column buffers and rejects are byte for byte the same (the fast path's equivalence test,
 * on a whole corpus). `--encode <codec>` also writes every batch to Parquet as convert does (files cut
 * at convert's default --file-mb, src/stages/write.ts) and reports the writer's CPU apart from parsing:
 * both stages in one thread, one after the other, so each one's cost per GiB of raw logs is measured
 * alone (what issue #14's CPU target is set against).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateKeyDate } from './genLogs.js';
import { RowBatch } from '../src/stages/build.js';
import { BufferPool, type Column } from '../src/stages/columns.js';
import { LineSpans, parseLogObject, scanOrdinary, type ParseSink } from '../src/stages/parse.js';
import { COMPRESSIONS, DEFAULT_FILE_BYTES, type Compression, type WriteOptions } from '../src/stages/writeOptions.js';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '64' },
    runs: { type: 'string', default: '3' },
    exact: { type: 'boolean', default: false },
    'scan-only': { type: 'boolean', default: false },
    dir: { type: 'string' },
    verify: { type: 'boolean', default: false },
    encode: { type: 'string' },
  },
});
const encodeWith = values.encode as Compression | undefined;
if (encodeWith !== undefined && !COMPRESSIONS.includes(encodeWith)) {
  console.error(`--encode must be one of ${COMPRESSIONS.join(', ')}, got ${JSON.stringify(values.encode)}`);
  process.exit(2);
}
// Loaded only to encode: parquet-wasm compiles 5 MB of WebAssembly when loaded.
const encoder = encodeWith === undefined ? undefined : await import('../src/stages/write.js');
const writeOptions: WriteOptions = { compression: encodeWith ?? 'zstd', rowGroupRows: 1 << 20, createdBy: 's3logs benchParse' };
const objects: Uint8Array[] = values.dir
  ? readdirSync(values.dir)
      .sort()
      .map((name) => readFileSync(join(values.dir!, name)))
  : [
      ...generateKeyDate({
        seed: 42,
        keyDate: '2024-01-29',
        layout: 'simple',
        targetBytes: Number(values.mb) * 1024 * 1024,
        quoteFraction: 0.01,
        extraFieldsFraction: 0.01,
      }),
    ].map((o) => o.body);
const bytes = objects.reduce((sum, o) => sum + o.length, 0);
const mib = bytes / 1024 / 1024;
const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

interface RunResult {
  rows: number;
  lines: number;
  columnRows: number;
  /** With --encode: CPU seconds inside the writer, Parquet bytes and files written. */
  encodeCpu: number;
  parquetBytes: number;
  files: number;
}

/**
 * Parses everything as the pipeline does: a file's batch every ~10 MiB of columns (convert's --file-mb
 * with --encode), buffers reused.
 */
async function run(exactOnly: boolean, scanOnly: boolean): Promise<RunResult> {
  const pool = new BufferPool(64 * 1024 * 1024);
  const spans = new LineSpans();
  let batch = new RowBatch(undefined, pool);
  const result: RunResult = { rows: 0, lines: 0, columnRows: 0, encodeCpu: 0, parquetBytes: 0, files: 0 };
  const cutBytes = encoder ? DEFAULT_FILE_BYTES : 10 * 1024 * 1024;
  const sink: ParseSink = scanOnly
    ? { row: () => undefined, reject: () => undefined }
    : { row: (buf, s) => batch.appendRow(buf, s), reject: () => undefined };
  const cut = async (): Promise<void> => {
    result.columnRows += batch.length;
    if (encoder && batch.length > 0) {
      const c0 = cpuSeconds();
      const file = await encoder.encodeParquet(batch, writeOptions);
      result.encodeCpu += cpuSeconds() - c0;
      result.parquetBytes += file.bytes.length;
      result.files++;
    }
    const next = batch.emptyLike();
    batch.release();
    batch = next;
  };
  for (const object of objects) {
    const counts = parseLogObject(object, sink, spans, exactOnly);
    result.rows += counts.rows;
    result.lines += counts.lines;
    if (batch.byteSize() > cutBytes) await cut();
  }
  if (encoder) await cut();
  else result.columnRows += batch.length;
  return result;
}

if (values.verify) {
  const snapshot = (c: Column): string => {
    const s = c.state();
    const valueBytes = s.kind === 'utf8' ? s.bytes! : s.kind === 'bool' ? (s.length + 7) >> 3 : s.length * (s.kind === 'int32' ? 4 : 8);
    const offsets = s.kind === 'utf8' ? Buffer.from(s.offsets!.buffer, s.offsets!.byteOffset, (s.length + 1) * 4) : Buffer.alloc(0);
    return [
      s.kind,
      s.length,
      s.nulls,
      Buffer.from(s.validity.subarray(0, (s.length + 7) >> 3)).toString('base64'),
      Buffer.from(s.values.subarray(0, valueBytes)).toString('base64'),
      offsets.toString('base64'),
    ].join(' ');
  };
  let lines = 0;
  let fast = 0;
  const spans = new LineSpans();
  for (const [i, object] of objects.entries()) {
    const outcome = (exactOnly: boolean): string[] => {
      const batch = new RowBatch();
      const rejects: string[] = [];
      const counts = parseLogObject(
        object,
        { row: (buf, s) => batch.appendRow(buf, s), reject: (line, reason, detail) => rejects.push(`${line} ${reason} ${detail}`) },
        new LineSpans(),
        exactOnly,
      );
      return [JSON.stringify(counts), ...rejects, ...batch.columns.map(snapshot)];
    };
    const [a, b] = [outcome(false), outcome(true)];
    if (a.length !== b.length || a.some((x, k) => x !== b[k])) {
      console.error(`object ${i}: the fast path and the exact parser differ`);
      process.exit(1);
    }
    const buf = Buffer.from(object.buffer, object.byteOffset, object.byteLength);
    for (let s = 0; s < buf.length; ) {
      let e = buf.indexOf(0x0a, s);
      if (e === -1) e = buf.length;
      lines++;
      if (scanOrdinary(buf, s, e, spans)) fast++;
      s = e + 1;
    }
  }
  console.log(
    JSON.stringify({ verified: objects.length, mib: +mib.toFixed(1), lines, fastPathShare: +(fast / lines).toFixed(4), identical: true }),
  );
} else {
  const results: Array<RunResult & { cpu: number; wall: number }> = [];
  for (let r = 0; r < Number(values.runs); r++) {
    const [c0, w0] = [cpuSeconds(), performance.now()];
    const outcome = await run(values.exact, values['scan-only']);
    // Parsing and building: the run's CPU without the writer's.
    results.push({ ...outcome, cpu: cpuSeconds() - c0 - outcome.encodeCpu, wall: (performance.now() - w0) / 1000 });
  }
  const median = [...results].sort((a, b) => a.cpu - b.cpu)[(results.length - 1) >> 1]!;
  const gib = mib / 1024;
  const encoding = encoder
    ? (() => {
        const encodeCpu = results.map((r) => r.encodeCpu).sort((a, b) => a - b)[(results.length - 1) >> 1]!;
        return {
          encode: writeOptions.compression,
          files: median.files,
          outputPercent: +((100 * median.parquetBytes) / bytes).toFixed(1),
          encodeCpuSeconds: +encodeCpu.toFixed(3),
          encodeCpuSecondsPerGiB: +(encodeCpu / gib).toFixed(1),
          parseCpuSecondsPerGiB: +(median.cpu / gib).toFixed(1),
          runsEncodeCpu: results.map((r) => +r.encodeCpu.toFixed(2)),
        };
      })()
    : {};
  console.log(
    JSON.stringify({
      mib: +mib.toFixed(1),
      rows: median.rows,
      columnRows: median.columnRows,
      exactOnly: values.exact,
      scanOnly: values['scan-only'],
      cpuSeconds: +median.cpu.toFixed(3),
      mibPerCpuSecond: +(mib / median.cpu).toFixed(1),
      wallSeconds: +median.wall.toFixed(3),
      runsCpu: results.map((r) => +r.cpu.toFixed(2)),
      ...encoding,
      node: process.version,
    }),
  );
}
