/**
 * Parse throughput: seeded logs (scripts/genLogs.ts) → parse + build Arrow columns, in memory, no I/O.
 * `npm run bench:parse [-- --mb 64]` prints MiB/s and rows/s; the figure goes in README.
 */
import { parseArgs } from 'node:util';
import { generateKeyDate } from './genLogs.js';
import { RowBatch } from '../src/stages/build.js';
import { LineSpans, parseLogObject } from '../src/stages/parse.js';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '64' }, runs: { type: 'string', default: '3' } } });
const targetBytes = Number(values.mb) * 1024 * 1024;
const objects = [...generateKeyDate({ seed: 42, keyDate: '2024-01-29', layout: 'simple', targetBytes, quoteFraction: 0.01, extraFieldsFraction: 0.01 })];
const bytes = objects.reduce((sum, o) => sum + o.body.length, 0);
const results: Array<{ seconds: number; rows: number }> = [];
for (let run = 0; run < Number(values.runs); run++) {
  const started = performance.now();
  let rows = 0;
  const spans = new LineSpans();
  let batch = new RowBatch();
  for (const object of objects) {
    const counts = parseLogObject(object.body, { row: (buf, s) => batch.appendRow(buf, s), reject: () => undefined }, spans);
    rows += counts.rows;
    // Bounded like the pipeline: hand a batch to Arrow every ~256k rows.
    if (batch.length > 262_144) {
      batch.toArrowTable();
      batch = new RowBatch();
    }
  }
  batch.toArrowTable();
  results.push({ seconds: (performance.now() - started) / 1000, rows });
}
const best = results.reduce((a, b) => (a.seconds < b.seconds ? a : b));
const report = { mib: +(bytes / 1024 / 1024).toFixed(1), rows: best.rows, seconds: +best.seconds.toFixed(3), mibPerSecond: +(bytes / 1024 / 1024 / best.seconds).toFixed(1), rowsPerSecond: Math.round(best.rows / best.seconds), node: process.version };
console.log(JSON.stringify(report));
