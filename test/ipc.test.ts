/** The IPC stream written from column buffers is byte for byte what apache-arrow writes for the same batch. */
import { tableToIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { generateKeyDate } from '../scripts/genLogs.js';
import { RowBatch } from '../src/stages/build.js';
import { ipcStream } from '../src/stages/ipc.js';
import { LineSpans, parseLogObject } from '../src/stages/parse.js';

function batchOf(text: string | Uint8Array): RowBatch {
  const batch = new RowBatch();
  parseLogObject(typeof text === 'string' ? Buffer.from(text) : text, { row: (buf, s) => batch.appendRow(buf, s), reject: () => undefined }, new LineSpans());
  return batch;
}

const generated = [...generateKeyDate({ seed: 21, keyDate: '2024-05-05', layout: 'simple', objects: 4, maxObjectBytes: 48 * 1024, oldFormatFraction: 0.3, extraFieldsFraction: 0.1 })];
const line = generated[0]!.body.toString('utf8').split('\n')[0]!;
// An 18-field record: every later field, aclrequired included, is null in every row.
const short = line.split(' ').slice(0, 19).join(' ');

describe('ipcStream', () => {
  it('writes the bytes apache-arrow writes, also into a reused buffer that held other bytes', () => {
    const cases = [batchOf(Buffer.concat(generated.map((o) => o.body))), batchOf(line), batchOf(`${short}\n${short}`)];
    expect(cases[2]!.columns.some((c) => c.kind === 'bool' && c.nulls === c.length)).toBe(true);
    for (const batch of cases) {
      const expected = Buffer.from(tableToIPC(batch.toArrowTable(), 'stream'));
      expect(Buffer.from(ipcStream(batch.columns, batch.length)).equals(expected)).toBe(true);
      const scratch = new Uint8Array(expected.length + 100).fill(0xff);
      expect(Buffer.from(ipcStream(batch.columns, batch.length, scratch)).equals(expected)).toBe(true);
    }
  });
});
