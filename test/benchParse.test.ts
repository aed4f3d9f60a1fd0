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
  encode?: string;
  files?: number;
  outputPercent?: number;
  encodeCpuSeconds?: number;
  encodeCpuSecondsPerGiB?: number;
  parseCpuSecondsPerGiB?: number;
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

it('--encode writes every row to Parquet and reports the writer apart from parsing', async () => {
  const zstd = await bench('--encode', 'zstd');
  const none = await bench('--encode', 'none');
  for (const result of [zstd, none]) {
    expect(result.columnRows).toBe(result.rows);
    expect(result.files).toBeGreaterThanOrEqual(1);
    expect(result.encodeCpuSeconds).toBeGreaterThan(0);
    expect(result.encodeCpuSecondsPerGiB).toBeGreaterThan(0);
    expect(result.parseCpuSecondsPerGiB).toBeGreaterThan(0);
  }
  expect(zstd.encode).toBe('zstd');
  expect(none.encode).toBe('none');
  // The codec really reaches the writer: uncompressed output is larger.
  expect(none.outputPercent).toBeGreaterThan(zstd.outputPercent! * 1.3);
});

it('--encode names the codecs it takes', async () => {
  const failed = await promisify(execFile)(process.execPath, [SCRIPT, '--mb', '1', '--encode', 'zip']).catch(
    (error: { code: number; stderr: string }) => error,
  );
  expect('code' in failed && failed.code).toBe(2);
  expect((failed as { stderr: string }).stderr).toMatch(/--encode must be one of zstd, snappy/);
});
