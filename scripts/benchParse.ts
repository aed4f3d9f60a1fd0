/**
 * Parse throughput: seeded logs (scripts/genLogs.ts) → parse + build column buffers, in memory, no I/O.
 *
 *   npm run bench:parse [-- --mb 64] [--runs 3] [--exact] [--scan-only] [--dir <raw logs>] [--verify]
 *
 * Prints MiB per CPU second (user + sys of this process: on a shared machine, wall time says more
 * about the neighbours), the median of --runs, and the share of lines the fast path took. `--exact`
 * sends every line through the exact parser; `--scan-only` tokenises without building columns (what
 * building costs is the difference). `--dir` reads the objects of a directory instead (e.g.
 * a bench corpus, .bench/corpus-512mb-seed1/raw). `--verify` parses every object both ways and fails
 * unless the column buffers and rejects are byte for byte the same (the fast path's equivalence test,
 * on a whole corpus).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateKeyDate } from './genLogs.js';
import { RowBatch } from '../src/stages/build.js';
import { BufferPool, type Column } from '../src/stages/columns.js';
import { LineSpans, parseLogObject, scanOrdinary, type ParseSink } from '../src/stages/parse.js';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '64' },
    runs: { type: 'string', default: '3' },
    exact: { type: 'boolean', default: false },
    'scan-only': { type: 'boolean', default: false },
    dir: { type: 'string' },
    verify: { type: 'boolean', default: false },
  },
});
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

/** Parses everything as the pipeline does: a file's batch every ~10 MiB of columns, buffers reused. */
function run(exactOnly: boolean, scanOnly: boolean): { rows: number; lines: number; columnRows: number } {
  const pool = new BufferPool(64 * 1024 * 1024);
  const spans = new LineSpans();
  let batch = new RowBatch(undefined, pool);
  let rows = 0;
  let lines = 0;
  let columnRows = 0;
  const sink: ParseSink = scanOnly
    ? { row: () => undefined, reject: () => undefined }
    : { row: (buf, s) => batch.appendRow(buf, s), reject: () => undefined };
  for (const object of objects) {
    const counts = parseLogObject(object, sink, spans, exactOnly);
    rows += counts.rows;
    lines += counts.lines;
    if (batch.byteSize() > 10 * 1024 * 1024) {
      columnRows += batch.length;
      const next = batch.emptyLike();
      batch.release();
      batch = next;
    }
  }
  return { rows, lines, columnRows: columnRows + batch.length };
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
  const results: Array<{ cpu: number; wall: number; rows: number; columnRows: number }> = [];
  for (let r = 0; r < Number(values.runs); r++) {
    const [c0, w0] = [cpuSeconds(), performance.now()];
    const { rows, columnRows } = run(values.exact, values['scan-only']);
    results.push({ cpu: cpuSeconds() - c0, wall: (performance.now() - w0) / 1000, rows, columnRows });
  }
  const median = [...results].sort((a, b) => a.cpu - b.cpu)[(results.length - 1) >> 1]!;
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
      node: process.version,
    }),
  );
}
