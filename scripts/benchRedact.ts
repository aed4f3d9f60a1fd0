/**
 * --redact cost: seeded logs (scripts/genLogs.ts, with its presigned URLs) → parse + build batches of
 * ~64k rows (as files are cut), then time only Redactor.redactColumns on them, per mode. Reports MiB/s
 * of raw log bytes covered (comparable with bench:parse) and of the scanned column bytes.
 * `npm run -s build && node dist/scripts/benchRedact.js [--mb 64] [--runs 3]`
 */
import { parseArgs } from 'node:util';
import { generateKeyDate } from './genLogs.js';
import { ACCESS_LOG_COLUMNS } from '../schemas/accessLog.js';
import { RowBatch } from '../src/stages/build.js';
import type { Column } from '../src/stages/columns.js';
import { LineSpans, parseLogObject } from '../src/stages/parse.js';
import { Redactor, type RedactMode } from '../src/stages/redact.js';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '64' }, runs: { type: 'string', default: '3' } } });
const targetBytes = Number(values.mb) * 1024 * 1024;
const objects = [
  ...generateKeyDate({ seed: 42, keyDate: '2024-01-29', layout: 'simple', targetBytes, quoteFraction: 0.01, extraFieldsFraction: 0.01 }),
];
const bytes = objects.reduce((sum, o) => sum + o.body.length, 0);

function batches(): RowBatch[] {
  const out: RowBatch[] = [];
  const spans = new LineSpans();
  let batch = new RowBatch();
  for (const object of objects) {
    parseLogObject(object.body, { row: (buf, s) => batch.appendRow(buf, s), reject: () => undefined }, spans);
    if (batch.length >= 65_536) {
      out.push(batch);
      batch = new RowBatch();
    }
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

const index = (name: string) => ACCESS_LOG_COLUMNS.findIndex((c) => c.name === name);
const columnBytes = (list: RowBatch[], names: string[]) =>
  list.reduce((sum, b) => sum + names.reduce((n, name) => n + (b.columns[index(name)] as Column).bytes, 0), 0);

const report: Record<string, unknown> = { mib: +(bytes / 1024 / 1024).toFixed(1), node: process.version };
const modes: Array<[string, RedactMode[], string[]]> = [
  ['presigned', ['presigned'], ['request_uri', 'request_query', 'referrer']],
  ['ip', ['ip'], ['remoteip']],
  ['presigned,ip', ['presigned', 'ip'], ['request_uri', 'request_query', 'referrer', 'remoteip']],
];
for (const [label, mode, scanned] of modes) {
  let best = Infinity;
  let changed = 0;
  let scannedBytes = 0;
  for (let run = 0; run < Number(values.runs); run++) {
    const list = batches();
    scannedBytes = columnBytes(list, scanned);
    const redactor = new Redactor(mode);
    const started = performance.now();
    for (const b of list) redactor.redactColumns(b.columns);
    best = Math.min(best, (performance.now() - started) / 1000);
    changed = redactor.counts.presignedValues + redactor.counts.ips;
  }
  report[label] = {
    seconds: +best.toFixed(4),
    rawMibPerSecond: Math.round(bytes / 1024 / 1024 / best),
    columnMibPerSecond: Math.round(scannedBytes / 1024 / 1024 / best),
    scannedMib: +(scannedBytes / 1024 / 1024).toFixed(1),
    valuesChanged: changed,
  };
}
console.log(JSON.stringify(report));
