/**
 * `npm run bench:parse` at a tiny size: the full parse and `--scan-only` read the same generated lines
 * and count the same rows, and only the full one puts them into columns.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../dist/scripts/benchParse.js', import.meta.url));

interface Result {
  mib: number;
  rows: number;
  scanOnly: boolean;
  columnRows: number;
}

async function bench(...args: string[]): Promise<Result> {
  const { stdout } = await promisify(execFile)(process.execPath, [SCRIPT, '--mb', '2', '--runs', '3', ...args]);
  return JSON.parse(stdout) as Result;
}

it('--scan-only tokenises the same rows without building columns', async () => {
  const full = await bench();
  const scan = await bench('--scan-only');
  expect(full.scanOnly).toBe(false);
  expect(scan.scanOnly).toBe(true);
  expect(scan.mib).toBe(full.mib);
  expect(full.rows).toBeGreaterThan(2000);
  expect(scan.rows).toBe(full.rows);
  expect(full.columnRows).toBe(full.rows);
  expect(scan.columnRows).toBe(0);
});
