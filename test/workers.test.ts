/** Encode workers: any worker count writes byte for byte what the main thread alone writes. */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeKeyDateToDirectory } from '../scripts/genLogs.js';
import { runCli } from './helpers/cli.js';
import { localBackend, type Backend } from './helpers/backends.js';
import { readTable, rowKey } from './helpers/duck.js';
import { encodeThreads } from '../src/pipeline.js';
import { ObjectFeed } from '../src/stages/list.js';
import { wasmTierFor } from '../src/stages/wasmTier.js';

const execFileAsync = promisify(execFile);

const KEY_DATE = '2024-12-01';

describe('--workers', () => {
  let work: string;
  let backend: Backend;
  const convert = (dest: string, workers: number, env: NodeJS.ProcessEnv = {}) =>
    runCli(
      [
        'convert',
        '--source',
        join(work, 'raw', 'logs/'),
        '--dest',
        backend.destUri(dest),
        '--date',
        KEY_DATE,
        '--workers',
        String(workers),
        '--memory-mb',
        '1',
        '--json',
        '--quiet',
      ],
      env,
    );
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 's3logs-workers-'));
    backend = await localBackend();
    await writeKeyDateToDirectory(join(work, 'raw'), {
      seed: 9,
      keyDate: KEY_DATE,
      layout: 'simple',
      prefix: 'logs/',
      objects: 40,
      maxObjectBytes: 128 * 1024,
      lateFraction: 0.05,
      rejectFraction: 0.002,
    });
  });
  afterAll(async () => {
    await backend?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('0, 1 and 3 workers write the same files, rows and rejects', async () => {
    const results = [];
    for (const [dest, workers] of [
      ['w0', 0],
      ['w1', 1],
      ['w3', 3],
      ['w3again', 3],
    ] as const) {
      const result = await convert(dest, workers);
      expect(result.code, result.stderr).toBe(0);
      results.push(JSON.parse(result.stdout));
    }
    for (const r of results) expect([r.lines, r.rows, r.rejects]).toEqual([results[0].lines, results[0].rows, results[0].rejects]);
    // --workers given: used as given, however small the key date.
    expect(results.map((r) => r.keyDates[0].encodeWorkers)).toEqual([0, 1, 3, 3]);
    const rows = async (dest: string) => (await readTable((await backend.snapshot(dest)).dir)).map(rowKey).sort();
    const base = await rows('w0');
    expect(await rows('w1')).toEqual(base);
    expect(await rows('w3')).toEqual(base);
    const data = async (dest: string) =>
      [...(await backend.snapshot(dest)).files].filter(([k]) => k.endsWith('.parquet') || k.endsWith('.jsonl')).sort();
    // Files are cut and named on the parsing thread: which worker encodes one does not matter.
    expect(await data('w1')).toEqual(await data('w0'));
    expect(await data('w3')).toEqual(await data('w0'));
    expect(await data('w3again')).toEqual(await data('w0'));
    expect((await data('w0')).filter(([k]) => k.endsWith('.parquet')).length).toBeGreaterThan(3);
    const rejectsOf = async (dest: string) =>
      (await readdir(join((await backend.snapshot(dest)).dir, '_s3logs', 'rejects', `keydate=${KEY_DATE}`))).length;
    expect(await rejectsOf('w3')).toBe(await rejectsOf('w0'));
  });

  it('without --workers a small key date encodes on the main thread, and writes the same files', async () => {
    const result = await runCli([
      'convert',
      '--source',
      join(work, 'raw', 'logs/'),
      '--dest',
      backend.destUri('auto'),
      '--date',
      KEY_DATE,
      '--memory-mb',
      '1',
      '--json',
      '--quiet',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout).keyDates[0];
    expect(summary.encodeWorkers).toBe(0);
    // Known to be small: parquet-wasm stays on V8's baseline code (no optimizing recompilation).
    expect(summary.wasmTier).toBe('baseline');
    const data = async (dest: string) =>
      [...(await backend.snapshot(dest)).files].filter(([k]) => k.endsWith('.parquet') || k.endsWith('.jsonl')).sort();
    expect(await data('auto')).toEqual(await data('w1'));
  });

  it('encodeThreads: workers unless the run is known to be small and --workers was not given', () => {
    const feed = (sizes: number[], done: boolean) => {
      const f = new ObjectFeed();
      f.append(sizes.map((size, i) => ({ key: `k${i}`, size, etag: 'e', lastModified: new Date(0) })));
      if (done) f.finish();
      return f;
    };
    const MiB = 1024 * 1024;
    expect(encodeThreads(2, feed([10 * MiB, 10 * MiB], true), 32 * MiB)).toBe(0);
    expect(encodeThreads(2, feed([20 * MiB, 12 * MiB], true), 32 * MiB)).toBe(2);
    // Still listing: it may be large.
    expect(encodeThreads(2, feed([1 * MiB], false), 32 * MiB)).toBe(2);
    // --workers given (no threshold), or 0.
    expect(encodeThreads(2, feed([1 * MiB], true), undefined)).toBe(2);
    expect(encodeThreads(0, feed([100 * MiB], true), 32 * MiB)).toBe(0);
  });

  it('wasmTierFor: baseline code only for a run known to be under 32 MiB', () => {
    const MiB = 1024 * 1024;
    expect(wasmTierFor(0)).toBe('baseline');
    expect(wasmTierFor(32 * MiB - 1)).toBe('baseline');
    expect(wasmTierFor(32 * MiB)).toBe('optimizing');
    // Still listing: it may be large.
    expect(wasmTierFor(undefined)).toBe('optimizing');
  });

  it('parquet-wasm writes the same bytes on baseline code and on optimized code', async () => {
    // One process with baseline code only, one with every function optimized up front; each encodes a
    // generated key date three times and prints the files' hashes.
    const script = `
      import { createHash } from 'node:crypto';
      import { generateKeyDate } from ${JSON.stringify(new URL('../dist/scripts/genLogs.js', import.meta.url).href)};
      import { RowBatch } from ${JSON.stringify(new URL('../dist/src/stages/build.js', import.meta.url).href)};
      import { LineSpans, parseLogObject } from ${JSON.stringify(new URL('../dist/src/stages/parse.js', import.meta.url).href)};
      import { encodeParquet } from ${JSON.stringify(new URL('../dist/src/stages/write.js', import.meta.url).href)};
      const hashes = [];
      for (let round = 0; round < 3; round++) {
        const batch = new RowBatch();
        const spans = new LineSpans();
        for (const o of generateKeyDate({ seed: 5, keyDate: '${KEY_DATE}', layout: 'simple', objects: 12, maxObjectBytes: 96 * 1024 }))
          parseLogObject(o.body, { row: (buf, s) => batch.appendRow(buf, s), reject() {} }, spans);
        const { bytes } = await encodeParquet(batch, { compression: 'zstd', rowGroupRows: 65536, createdBy: 's3logs test' });
        hashes.push(createHash('sha256').update(bytes).digest('hex'));
      }
      process.stdout.write(hashes.join(' '));`;
    const run = (flag: string) => execFileAsync(process.execPath, [flag, '--input-type=module', '-e', script]);
    const [baseline, optimized] = await Promise.all([run('--liftoff-only'), run('--no-wasm-dynamic-tiering')]);
    const hashes = baseline.stdout.split(' ');
    expect(hashes).toHaveLength(3);
    expect(new Set(hashes).size).toBe(1);
    expect(optimized.stdout).toBe(baseline.stdout);
  });

  it('with encode workers the main thread never loads parquet-wasm (only the threads that encode compile it)', async () => {
    // Preloaded in every thread; reports from the main thread which CommonJS modules it loaded.
    const probe = join(work, 'probe.cjs');
    await writeFile(
      probe,
      `const { isMainThread } = require('node:worker_threads');
if (isMainThread) process.on('exit', () => {
  const loaded = Object.keys(require('node:module')._cache).some((file) => file.includes('parquet-wasm'));
  process.stderr.write('\\nparquet-wasm on main thread: ' + loaded + '\\n');
});`,
    );
    const env = { NODE_OPTIONS: `--require ${probe}` };
    const withWorker = await convert('probe-w1', 1, env);
    expect(withWorker.code, withWorker.stderr).toBe(0);
    expect(withWorker.stderr).toContain('parquet-wasm on main thread: false');
    // The probe sees it when the main thread encodes.
    const inThread = await convert('probe-w0', 0, env);
    expect(inThread.code, inThread.stderr).toBe(0);
    expect(inThread.stderr).toContain('parquet-wasm on main thread: true');
  });
});
