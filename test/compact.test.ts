/**
 * Compaction through the real CLI, on the local store and on S3 (s3rver behind the conditional-write
 * proxy): the rows of the lake are the same before and after (DuckDB: count and every column of every
 * row), each partition ends with at most one file per target size, rejects are untouched, a re-run
 * changes nothing, and converting a key date again after its partitions were compacted (a changed raw
 * object, a late one) still gives every raw object's rows exactly once.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_LOG_COLUMNS } from '../schemas/accessLog.js';
import { generateKeyDate, type GeneratedObject } from '../scripts/genLogs.js';
import { localBackend, s3Backend, type Backend, type Snapshot } from './helpers/backends.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { query, readTable, rowKey } from './helpers/duck.js';
import { heldLock } from './helpers/locks.js';
import { columnChunkFields } from './helpers/parquetFooter.js';

const K1 = '2024-03-01';
const K2 = '2024-03-02';
/** The compacted dt range starts here: the partitions most late rows of both key dates land in. */
const FROM = '2024-02-29';
/**
 * Convert writes files of at most 50 rows here (--file-rows), so partitions collect several small files;
 * compaction's target is small enough that the larger partitions need two files (row groups of 50 rows,
 * so a file can be cut), large enough that files merge (a Parquet file of this schema has ~10 KB of footer).
 */
const TARGET_MB = 0.03;
const TARGET = Math.round(TARGET_MB * 1024 * 1024);

function generate(seed: number, keyDate: string, objects = 12): GeneratedObject[] {
  // Late records (mostly the previous day's last hours) put rows of both key dates into one partition.
  return [
    ...generateKeyDate({
      seed,
      keyDate,
      layout: 'simple',
      prefix: 'logs/',
      objects,
      minObjectBytes: 16 * 1024,
      maxObjectBytes: 64 * 1024,
      lateFraction: 0.3,
      rejectFraction: 0.003,
    }),
  ];
}

interface Manifest {
  objects: Array<{ name: string }>;
  files: Array<{ key: string; runs: number[]; shared?: { offset: number; members: string[] } }>;
}

const truth = (objects: readonly GeneratedObject[]) => objects.flatMap((o) => o.rows.map((r) => rowKey(r))).sort();

/** Parquet files per partition directory, with their sizes. */
function partitions(snap: Snapshot, sizes: Map<string, number>): Map<string, Array<{ key: string; size: number }>> {
  const out = new Map<string, Array<{ key: string; size: number }>>();
  for (const key of snap.files.keys()) {
    if (!key.endsWith('.parquet')) continue;
    const dir = key.slice(0, key.lastIndexOf('/') + 1);
    out.set(dir, [...(out.get(dir) ?? []), { key, size: sizes.get(key)! }]);
  }
  return out;
}

/** Every file the local catalog lists, over all partitions and key dates. */
async function catalogFiles(snap: Snapshot): Promise<string[]> {
  const catalog = JSON.parse(await readFile(join(snap.dir, '_s3logs', 'catalog.json'), 'utf8')) as {
    partitions: Record<string, { contributions: Record<string, { files: string[] }> }>;
  };
  const files = Object.values(catalog.partitions).flatMap((p) => Object.values(p.contributions).flatMap((c) => c.files));
  expect(files.length).toBeGreaterThan(0);
  return files;
}

describe.each([
  ['local', localBackend],
  ['s3', s3Backend],
] as const)('compaction on the %s store', (_name, open) => {
  let backend: Backend;
  const a = generate(21, K1);
  const b = generate(22, K2);
  const dest = 'lake';
  const run = (args: string[]): Promise<CliResult> => runCli([...args, ...backend.args], backend.env);
  const convert = (keyDate: string) =>
    run([
      'convert',
      '--source',
      backend.rawUri + 'logs/',
      '--dest',
      backend.destUri(dest),
      '--date',
      keyDate,
      '--file-rows',
      '50',
      '--json',
      '--quiet',
    ]);
  const compact = (quiet = true) =>
    run([
      'compact',
      '--dest',
      backend.destUri(dest),
      '--from',
      FROM,
      '--to',
      K2,
      '--target-file-mb',
      String(TARGET_MB),
      '--row-group-rows',
      '50',
      '--json',
      ...(quiet ? ['--quiet'] : []),
    ]);
  const ok = (result: CliResult) => {
    expect(result.code, `${result.signal ?? ''} ${result.stderr}`).toBe(0);
    return JSON.parse(result.stdout);
  };
  /** Rows (DuckDB), a DuckDB content hash over all columns, parquet files per partition, other state. */
  const lake = async () => {
    const snap = await backend.snapshot(dest);
    const sizes = new Map<string, number>();
    for (const key of snap.files.keys()) if (key.endsWith('.parquet')) sizes.set(key, (await stat(join(snap.dir, key))).size);
    const rows = (await readTable(snap.dir)).map(rowKey).sort();
    const [hash] = await query(
      `SELECT count(*) AS n, sum(hash(COLUMNS(*))) AS h FROM read_parquet('${snap.dir}/**/*.parquet', hive_partitioning = true)`,
    );
    const rejects = [...snap.files].filter(([k]) => k.endsWith('.jsonl')).sort();
    const leftovers = [...snap.files.keys()].filter(
      (k) => k.includes('/staging/') || /publish-[^/]+\.json$/.test(k) || /lock[^/]*\.json$/.test(k) || k.endsWith('.staged'),
    );
    return {
      snap,
      rows,
      hash: JSON.stringify(hash, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
      rejects,
      leftovers,
      partitions: partitions(snap, sizes),
    };
  };

  beforeAll(async () => {
    backend = await open();
    await backend.putRaw([...a, ...b]);
  }, 120_000);
  afterAll(async () => {
    await backend?.close();
  });

  let compacted: Awaited<ReturnType<typeof lake>>;

  it('rewrites each partition into at most one file per target size; rows, content and rejects stay; a re-run is a no-op', async () => {
    ok(await convert(K1));
    ok(await convert(K2));
    const before = await lake();
    expect(before.rows).toEqual(truth([...a, ...b]));
    // Late rows: some partition holds files of both key dates.
    expect(
      [...before.partitions.values()].some((files) => new Set(files.map((f) => /part-(\d{4}-\d{2}-\d{2})/.exec(f.key)![1])).size > 1),
    ).toBe(true);
    expect([...before.partitions.values()].some((files) => files.length > 1)).toBe(true);

    const first = await compact(false);
    const summary = ok(first);
    expect(summary.partitions.compacted, JSON.stringify(summary.results)).toBeGreaterThan(0);
    // --json without --quiet: one JSON line on stderr per partition looked at, as it finishes.
    const logged = first.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { stage: string; status: string; bucket: string; dt: string; level: string });
    expect(logged.map((l) => `${l.bucket}/${l.dt} ${l.status}`)).toEqual(
      summary.results.map((r: { bucket: string; dt: string; status: string }) => `${r.bucket}/${r.dt} ${r.status}`),
    );
    expect(logged.every((l) => l.stage === 'compact' && l.level === 'info')).toBe(true);
    expect(summary.rowsAfter).toBe(summary.rowsBefore);
    expect(summary.filesAfter).toBeLessThan(summary.filesBefore);
    // A few MiB of Parquet: parquet-wasm stays on V8's baseline code (src/stages/wasmTier.ts).
    expect(summary.wasmTier).toBe('baseline');
    compacted = await lake();
    expect(compacted.rows).toEqual(before.rows);
    expect(compacted.hash).toBe(before.hash);
    expect(compacted.rejects).toEqual(before.rejects);
    expect(compacted.leftovers).toEqual([]);
    for (const [dir, files] of compacted.partitions) {
      // Only the compacted range; partitions before it are as convert left them.
      if (dir.slice(-11, -1) < FROM) {
        expect(files, dir).toEqual(before.partitions.get(dir));
        continue;
      }
      const bytes = files.reduce((n, f) => n + f.size, 0);
      expect(files.length, dir).toBeLessThanOrEqual(Math.max(1, Math.ceil(bytes / TARGET)));
    }
    // The cut happened somewhere, and some file holds rows of both key dates.
    expect(summary.results.some((r: { status: string; filesAfter: number }) => r.status === 'compacted' && r.filesAfter > 1)).toBe(true);
    expect([...compacted.snap.files.keys()].some((k) => /\/part-\d{4}-\d{2}-\d{2}-g[0-9a-f]{8}-\d{5}\.parquet$/.test(k))).toBe(true);
    // Inside a compacted file each raw object's rows (a run of the manifests) are sorted by time.
    const times = await query(
      `SELECT filename, file_row_number AS r, epoch_ms(requestdatetime) AS t FROM read_parquet('${compacted.snap.dir}/**/*.parquet', filename = true, file_row_number = true)`,
    );
    const byFile = new Map<string, number[]>();
    for (const row of times) {
      const key = String(row.filename).slice(compacted.snap.dir.length + 1);
      const list = byFile.get(key) ?? [];
      list[Number(row.r)] = Number(row.t);
      byFile.set(key, list);
    }
    let runsChecked = 0;
    for (const keyDate of [K1, K2]) {
      const manifest = JSON.parse(
        await readFile(join(compacted.snap.dir, '_s3logs', 'keydates', keyDate, 'manifest.json'), 'utf8'),
      ) as Manifest;
      for (const f of manifest.files.filter((x) => /-[gk][0-9a-f]{8}-\d{5}\.parquet$/.test(x.key))) {
        const t = byFile.get(f.key)!;
        let at = f.shared?.offset ?? 0;
        for (let i = 0; i < f.runs.length; i += 2) {
          for (let r = at + 1; r < at + f.runs[i + 1]!; r++) expect(t[r]!, f.key).toBeGreaterThanOrEqual(t[r - 1]!);
          at += f.runs[i + 1]!;
          runsChecked++;
        }
      }
    }
    expect(runsChecked).toBeGreaterThan(0);

    // The layout the query bench measured (docs/benchmark.md#query): in every compacted file, only the
    // columns queries filter on keep encoding_stats in the footer and no column has size_statistics
    // (DuckDB parses both in every file a query opens), and those columns have min/max statistics.
    const compactedFiles = [...compacted.snap.files.keys()].filter((k) => /-[gk][0-9a-f]{8}-\d{5}\.parquet$/.test(k));
    expect(compactedFiles.length).toBeGreaterThan(0);
    const filtered = new Set<string>(ACCESS_LOG_COLUMNS.filter((c) => 'filtered' in c && c.filtered).map((c) => c.name));
    for (const key of compactedFiles) {
      const chunks = columnChunkFields(await readFile(join(compacted.snap.dir, key)));
      expect(chunks.length, key).toBeGreaterThanOrEqual(ACCESS_LOG_COLUMNS.length);
      for (const c of chunks)
        expect({ key, column: c.column, encodingStats: c.fields.includes(13), sizeStatistics: c.fields.includes(16) }).toEqual({
          key,
          column: c.column,
          encodingStats: filtered.has(c.column),
          sizeStatistics: false,
        });
      // (A chunk of nulls only has a null count and no min/max.)
      const stats = await query(
        `SELECT path_in_schema AS col, stats_min_value AS lo, stats_max_value AS hi, stats_null_count = num_values AS all_null, row_group_num_rows AS n FROM parquet_metadata('${join(compacted.snap.dir, key)}')`,
      );
      // Row groups of at most --row-group-rows.
      for (const s of stats) expect(Number(s.n), key).toBeLessThanOrEqual(50);
      for (const s of stats.filter((m) => filtered.has(String(m.col))))
        expect((s.lo !== null && s.hi !== null) || s.all_null === true, `${key} ${s.col}`).toBe(true);
    }

    const again = ok(await compact());
    expect(again.partitions.compacted).toBe(0);
    const after = await lake();
    const state = (s: Snapshot) => [...s.files].filter(([k]) => !k.startsWith('_s3logs/groups/')).sort();
    expect(state(after.snap)).toEqual(state(compacted.snap));
  }, 180_000);

  it('a key date that must split a compacted file while another of its key dates is locked stops (exit 75) and changes nothing', async () => {
    expect(compacted, 'the compaction test ran first').toBeDefined();
    const manifest = JSON.parse(await readFile(join(compacted.snap.dir, '_s3logs', 'keydates', K2, 'manifest.json'), 'utf8')) as Manifest;
    const shared = manifest.files.find((f) => f.shared?.members.includes(K1));
    expect(shared, 'a compacted file holds rows of both key dates').toBeDefined();
    const name = manifest.objects[shared!.runs[0]!]!.name;
    const target = b.find((o) => o.key.endsWith(name))!;
    // Another host's live run holds K1's publish lock for minutes yet.
    const lockKey = `_s3logs/keydates/${K1}/lock.json`;
    await backend.putDest(dest, lockKey, heldLock(300_000));
    await backend.putRaw([{ ...generate(25, K2, 1)[0]!, key: target.key }]);
    try {
      const started = Date.now();
      const blocked = await run([
        'convert',
        '--source',
        backend.rawUri + 'logs/',
        '--dest',
        backend.destUri(dest),
        '--date',
        K2,
        '--file-rows',
        '50',
        '--lock-wait-seconds',
        '0',
        '--json',
        '--quiet',
      ]);
      expect(blocked.code, blocked.stderr).toBe(75);
      // --lock-wait-seconds 0 bounds the wait for the other key date's lock too (the default would wait 60 s).
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(JSON.parse(blocked.stdout).keyDates[0].error).toMatchObject({ code: 'locked' });
      expect(blocked.stderr).toContain(`${K1}/lock.json is held by run elsewhere`);
      const after = await lake();
      expect(after.rows).toEqual(compacted.rows);
      expect(after.hash).toBe(compacted.hash);
      expect(after.leftovers.filter((k) => k !== lockKey)).toEqual([]);
    } finally {
      await backend.putRaw([target]);
      await backend.deleteDest(dest, lockKey);
    }
  }, 180_000);

  it('a key date converted again after compaction (a changed object, a late one) has every raw object once', async () => {
    expect(compacted, 'the compaction test ran first').toBeDefined();
    // The object of K2 with most rows in a file shared with K1.
    const manifest = JSON.parse(await readFile(join(compacted.snap.dir, '_s3logs', 'keydates', K2, 'manifest.json'), 'utf8')) as Manifest;
    const inShared = new Set(manifest.files.filter((f) => f.shared).flatMap((f) => f.runs.filter((_, i) => i % 2 === 0)));
    expect(inShared.size).toBeGreaterThan(0);
    const name = manifest.objects[[...inShared][0]!]!.name;
    const target = b.find((o) => o.key.endsWith(name))!;
    const replacement = { ...generate(23, K2, 1)[0]!, key: target.key };
    const late = generate(24, K2, 1)[0]!;
    await backend.putRaw([replacement, late]);
    try {
      const result = ok(await convert(K2));
      expect(result.keyDates[0].status).toBe('converted');
      const after = await lake();
      expect(after.rows).toEqual(truth([...a, ...b.filter((o) => o !== target), replacement, late]));
      expect(after.leftovers).toEqual([]);
      // The local catalog's files of every key date (K1's too, whose shared files the split rewrote) exist.
      expect((await catalogFiles(after.snap)).filter((key) => !after.snap.files.has(key))).toEqual([]);
      // Compacting again after that still keeps every row once.
      ok(await compact());
      expect((await lake()).rows).toEqual(after.rows);
    } finally {
      await backend.putRaw([target]);
      await backend.deleteRaw(late.key);
    }
  }, 180_000);
});
