/** The IPC stream written from column buffers is byte for byte what apache-arrow writes for the same batch. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableToIPC } from 'apache-arrow';
import { loadParquetWasm } from '../src/stages/parquetWasm.js';
import { describe, expect, it } from 'vitest';
import { generateKeyDate } from '../scripts/genLogs.js';
import { toArrowTable } from '../src/stages/arrowTable.js';
import { RowBatch } from '../src/stages/build.js';
import { ipcStream } from '../src/stages/ipc.js';
import { LineSpans, parseLogObject } from '../src/stages/parse.js';

const pw = loadParquetWasm();

function batchOf(text: string | Uint8Array): RowBatch {
  const batch = new RowBatch();
  parseLogObject(
    typeof text === 'string' ? Buffer.from(text) : text,
    { row: (buf, s) => batch.appendRow(buf, s), reject: () => undefined },
    new LineSpans(),
  );
  return batch;
}

const generated = [
  ...generateKeyDate({
    seed: 21,
    keyDate: '2024-05-05',
    layout: 'simple',
    objects: 4,
    maxObjectBytes: 48 * 1024,
    oldFormatFraction: 0.3,
    extraFieldsFraction: 0.1,
  }),
];
const line = generated[0]!.body.toString('utf8').split('\n')[0]!;
// 24-field records: aclrequired (field 26) is null in every row.
const older = readFileSync(
  join(import.meta.dirname, 'fixtures', 'corpus', 'aws-docs', 'devguide-2019-06-07-awsexamplebucket-24fields.log'),
);

describe('ipcStream', () => {
  it('writes the bytes apache-arrow writes, also into a reused buffer that held other bytes', () => {
    const cases = [batchOf(Buffer.concat(generated.map((o) => o.body))), batchOf(line), batchOf(older)];
    expect(cases[2]!.length).toBeGreaterThan(0);
    expect(cases[2]!.columns.some((c) => c.kind === 'bool' && c.nulls === c.length)).toBe(true);
    for (const batch of cases) {
      const expected = Buffer.from(tableToIPC(toArrowTable(batch), 'stream'));
      // parquet-wasm reads it (it refuses, e.g., a boolean values buffer shorter than the rows).
      pw.Table.fromIPCStream(ipcStream(batch.columns, batch.length)).free();
      expect(Buffer.from(ipcStream(batch.columns, batch.length)).equals(expected)).toBe(true);
      const scratch = new Uint8Array(expected.length + 100).fill(0xff);
      expect(Buffer.from(ipcStream(batch.columns, batch.length, scratch)).equals(expected)).toBe(true);
    }
  });
});
