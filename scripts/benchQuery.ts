/**
 * `npm run bench:query`: how fast the lake answers the report's queries, a request-id lookup and a
 * one-hour filter, in one DuckDB run over four copies of the same logs:
 *
 *   (a) the lake as `s3logs convert` wrote it (each key date adds small files to every partition it touches)
 *   (b) the same lake after `s3logs compact` ("compact not available" while the command is absent)
 *   (c) the same rows written by DuckDB's own COPY … (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (bucket, dt))
 *   (d) the raw text logs through DuckDB's read_csv, as a do-it-yourself user reads them (scripts/benchDuckdb.ts)
 *
 *   node dist/scripts/benchQuery.js [--days 30] [--mb 4] [--seed 1] [--runs 3] [--dir .bench] [--queries id,…]
 *
 * The raw corpus (--days key dates of --mb MiB each from scripts/genLogs.ts, simple key layout, late
 * records) is cached in .bench/query-corpus-<days>d-<mb>mb-seed<n>/ while its stamp matches; the lakes
 * are rebuilt every run in .bench/query-run-…/. Each query gets one profiled run per lake (not timed),
 * then --runs timed rounds over the Parquet lakes in rotating order, then --runs on the raw logs; the
 * table shows medians. Objects and bytes
 * each query reads come from DuckDB's profiler (Total Files Read of every scan, total_bytes_read). Table
 * on stdout, data in .bench/query-results.json. Method: docs/benchmark.md#query. `--queries` times only
 * the named queries (ids as in query-results.json) and adds a table of them one by one: many runs of a
 * few queries, to tell a difference between two lakes from the noise of a 30 ms query.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DuckDBInstance, version as duckdbVersion, type DuckDBConnection } from '@duckdb/node-api';
import { DEFAULT_PRICES } from '../src/report/prices.js';
import { REPORT_QUERIES } from '../src/report/queries.js';
import type { SectionId, SqlContext } from '../src/report/query.js';
import { formatDay, parseDay } from '../src/stages/time.js';
import { readCsvSelect } from './benchDuckdb.js';
import { generateKeyDate, generatorCodeHash, type GenerateOptions } from './genLogs.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const FIRST_KEY_DATE = '2024-01-01';
const MIB = 1024 * 1024;

type VariantId = 'a' | 'b' | 'c' | 'd';
const VARIANT_NAMES: Record<VariantId, string> = {
  a: '(a) s3logs convert',
  b: '(b) + s3logs compact',
  c: '(c) DuckDB COPY PARTITION_BY',
  d: '(d) raw logs, read_csv',
};

interface Corpus {
  raw: string;
  keyDates: string[];
  objects: number;
  bytes: number;
  rows: number;
}

interface Lake {
  id: VariantId;
  name: string;
  /** Why the variant has no numbers (compact not available), else undefined. */
  missing?: string;
  dir?: string;
  objects: number;
  bytes: number;
  partitions: number;
  maxObjectsPerPartition: number;
  /** Largest partition, bytes. */
  maxPartitionBytes: number;
  /** Seconds to make it from the previous step (convert from raw; compact or COPY from (a)). */
  buildSeconds: number | null;
  rows: number;
}

interface QuerySpec {
  id: string;
  /** Row group of the output table: a report section, or the query itself. */
  group: string;
  sql: string;
}

interface Measured {
  query: string;
  group: string;
  /** Median of --runs timed runs (after one profiled run that is not timed). */
  seconds: number;
  objects: number;
  /** Scans of the table in the plan (each opens the files of its range). */
  scans: number;
  bytes: number;
  rows: number;
}

// ---- corpus ----------------------------------------------------------------------------------------

/** --days key dates of --mb MiB each, one seed per key date (its own requesters and request ids). */
async function ensureCorpus(benchDir: string, days: number, mb: number, seed: number): Promise<Corpus> {
  const dir = join(benchDir, `query-corpus-${days}d-${mb}mb-seed${seed}`);
  const raw = join(dir, 'raw');
  const first = parseDay(FIRST_KEY_DATE);
  const keyDates = Array.from({ length: days }, (_, i) => formatDay(first + i));
  const options = keyDates.map(
    (keyDate, i): GenerateOptions => ({ seed: seed * 1000 + i, keyDate, layout: 'simple', targetBytes: mb * MIB }),
  );
  const want = { options, generator: await generatorCodeHash() };
  const stampPath = join(dir, 'stamp.json');
  const stamp = JSON.parse(await readFile(stampPath, 'utf8').catch(() => '{}')) as {
    options?: unknown;
    generator?: string;
    corpus?: Corpus;
  };
  if (stamp.corpus && stamp.generator === want.generator && JSON.stringify(stamp.options) === JSON.stringify(want.options)) {
    process.stderr.write(`reusing ${dir}\n`);
    return { ...stamp.corpus, raw, keyDates };
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(raw, { recursive: true });
  process.stderr.write(`generating ${days} key dates × ${mb} MiB of logs (seed ${seed}) into ${raw} …\n`);
  const corpus: Corpus = { raw, keyDates, objects: 0, bytes: 0, rows: 0 };
  for (const o of options) {
    for (const object of generateKeyDate(o)) {
      await writeFile(join(raw, object.key), object.body);
      corpus.objects += 1;
      corpus.bytes += object.body.length;
      corpus.rows += object.rows.length;
    }
  }
  await writeFile(stampPath, JSON.stringify({ ...want, corpus }, null, 2) + '\n');
  return corpus;
}

// ---- lakes -----------------------------------------------------------------------------------------

const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;
const parquetGlob = (dir: string): string => join(dir, 'bucket=*', 'dt=*', '*.parquet');
/** The report's reading of a lake: bucket and dt as VARCHAR from the path (as in the Glue table). */
const parquetView = (dir: string): string =>
  `CREATE OR REPLACE VIEW access_logs AS SELECT * FROM read_parquet(${literal(parquetGlob(dir))}, hive_partitioning = true, hive_types = {'bucket': VARCHAR, 'dt': VARCHAR}, union_by_name = true)`;
/**
 * The do-it-yourself table: benchDuckdb.ts's read_csv over every raw object, plus the two derived
 * columns the report's queries use, as such a user would write them.
 */
const rawView = (raw: string): string =>
  `CREATE OR REPLACE VIEW access_logs AS SELECT *, url_decode("key") AS key_decoded, 27 AS field_count FROM (${readCsvSelect(join(raw, '*'))})`;

async function describeLake(id: VariantId, dir: string, buildSeconds: number): Promise<Omit<Lake, 'rows'>> {
  const partitions = new Map<string, { objects: number; bytes: number }>();
  let objects = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.parquet')) continue;
    const size = (await stat(join(entry.parentPath, entry.name))).size;
    const partition = partitions.get(entry.parentPath) ?? { objects: 0, bytes: 0 };
    partition.objects += 1;
    partition.bytes += size;
    partitions.set(entry.parentPath, partition);
    objects += 1;
    bytes += size;
  }
  const all = [...partitions.values()];
  return {
    id,
    name: VARIANT_NAMES[id],
    dir,
    objects,
    bytes,
    partitions: partitions.size,
    maxObjectsPerPartition: Math.max(0, ...all.map((p) => p.objects)),
    maxPartitionBytes: Math.max(0, ...all.map((p) => p.bytes)),
    buildSeconds,
  };
}

function runCli(args: string[]): number {
  const started = performance.now();
  const run = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * MIB });
  if (run.status !== 0) throw new Error(`s3logs ${args[0]} exited with ${run.status ?? run.signal}: ${run.stderr.trim().slice(-2000)}`);
  return (performance.now() - started) / 1000;
}

/** `s3logs compact` arrives from another branch: until then (b) says so instead of failing the run. */
function compactAvailable(): boolean {
  const help = spawnSync(process.execPath, [CLI, 'compact', '--help'], { cwd: ROOT, encoding: 'utf8' });
  return help.status === 0 && help.stdout.includes('compact');
}

async function openDuckdb(tempDir: string): Promise<{ instance: DuckDBInstance; connection: DuckDBConnection }> {
  // No network: parquet, json and icu are built in.
  const instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    temp_directory: tempDir,
  });
  const connection = await instance.connect();
  await connection.run(`SET TimeZone = 'UTC'`);
  // Each query pays its own reads, as in a fresh `s3logs query` process (and the profiler counts them):
  // DuckDB would otherwise keep Parquet bytes in memory across queries. The OS page cache stays warm.
  await connection.run('SET enable_external_file_cache = false');
  return { instance, connection };
}

async function scalar(connection: DuckDBConnection, sql: string): Promise<unknown> {
  return (await connection.runAndReadAll(sql)).getRows()[0]?.[0];
}

// ---- measuring -------------------------------------------------------------------------------------

interface ProfileNode {
  extra_info?: Record<string, unknown>;
  children?: ProfileNode[];
  total_bytes_read?: number;
}

/**
 * Files every scan of the plan opened (DuckDB's "Total Files Read"), the scans of the table in the plan,
 * and the bytes the query read.
 */
function readCounts(profile: ProfileNode): { objects: number; scans: number; bytes: number } {
  let objects = 0;
  let scans = 0;
  const walk = (node: ProfileNode): void => {
    const files = node.extra_info?.['Total Files Read'];
    if (files !== undefined) {
      objects += Number(files);
      scans += 1;
    }
    for (const child of node.children ?? []) walk(child);
  };
  walk(profile);
  return { objects, scans, bytes: Number(profile.total_bytes_read ?? 0) };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** One profiled run, not timed (it also warms up): what the query read, and its rows. */
async function profiledRun(
  connection: DuckDBConnection,
  sql: string,
  profilePath: string,
): Promise<{ objects: number; scans: number; bytes: number; rows: number }> {
  await connection.run(`PRAGMA enable_profiling = 'json'`);
  await connection.run(`SET profiling_output = ${literal(profilePath)}`);
  const rows = (await connection.runAndReadAll(sql)).currentRowCount;
  await connection.run('PRAGMA disable_profiling');
  return { ...readCounts(JSON.parse(await readFile(profilePath, 'utf8')) as ProfileNode), rows };
}

/**
 * Every query on every lake. Per query: one profiled run on each lake (what it read; not timed), then
 * --runs rounds timing the query once on every Parquet lake, their order rotated from one round to the
 * next, then --runs runs on the raw logs: a change in the machine's load during a query's runs falls on
 * (a), (b) and (c) alike, no lake always runs first after a switch, and none runs right after a
 * read_csv scan of all the text (measured: up to 10% slower just after one). The view is replaced
 * before each run (not timed).
 */
async function measureAll(
  connection: DuckDBConnection,
  lakes: ReadonlyArray<{ id: VariantId; view: string }>,
  specs: QuerySpec[],
  runs: number,
  profilePath: string,
): Promise<Partial<Record<VariantId, Measured[]>>> {
  const measured: Partial<Record<VariantId, Measured[]>> = {};
  for (const lake of lakes) measured[lake.id] = [];
  const parquet = lakes.filter((l) => l.id !== 'd');
  const raw = lakes.filter((l) => l.id === 'd');
  for (const q of specs) {
    process.stderr.write(`timing ${q.id} …\n`);
    const times = new Map<VariantId, number[]>();
    const profiles = new Map<VariantId, { objects: number; scans: number; bytes: number; rows: number }>();
    for (const lake of lakes) {
      await connection.run(lake.view);
      profiles.set(lake.id, await profiledRun(connection, q.sql, profilePath));
      times.set(lake.id, []);
    }
    const timed = async (lake: { id: VariantId; view: string }): Promise<void> => {
      await connection.run(lake.view);
      const started = performance.now();
      await connection.runAndReadAll(q.sql);
      times.get(lake.id)!.push((performance.now() - started) / 1000);
    };
    for (let round = 0; round < runs; round++) for (let k = 0; k < parquet.length; k++) await timed(parquet[(round + k) % parquet.length]!);
    for (const lake of raw) for (let round = 0; round < runs; round++) await timed(lake);
    for (const lake of lakes)
      measured[lake.id]!.push({ query: q.id, group: q.group, seconds: median(times.get(lake.id)!), ...profiles.get(lake.id)! });
  }
  return measured;
}

function querySpecs(keyDates: string[], requestId: string): QuerySpec[] {
  const ctx: SqlContext = {
    dialect: 'duckdb',
    table: 'access_logs',
    from: keyDates[0]!,
    to: keyDates[keyDates.length - 1]!,
    prices: DEFAULT_PRICES,
  };
  const sections: SectionId[] = ['security', 'usage', 'cost', 'operations'];
  const day = keyDates[Math.floor(keyDates.length / 2)]!;
  return [
    ...REPORT_QUERIES.filter((q) => sections.includes(q.section)).map((q) => ({ id: q.id, group: q.section, sql: q.sql(ctx) })),
    {
      id: 'requestid_lookup',
      group: 'point lookup by requestid',
      sql: `SELECT * FROM access_logs WHERE requestid = ${literal(requestId)}`,
    },
    {
      id: 'one_hour',
      group: 'one hour (dt + time range)',
      sql: `SELECT * FROM access_logs WHERE dt = ${literal(day)} AND requestdatetime >= TIMESTAMPTZ ${literal(`${day} 13:00:00+00`)} AND requestdatetime < TIMESTAMPTZ ${literal(`${day} 14:00:00+00`)} ORDER BY requestdatetime`,
    },
    {
      // Opens every file (every raw object for (d)) and reads no column: what any query over the whole
      // range pays before its own work, once per scan of the table in its plan.
      id: 'count_star',
      group: 'every file, no column: count(*)',
      sql: 'SELECT count(*) FROM access_logs',
    },
  ];
}

// ---- output ----------------------------------------------------------------------------------------

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const mib = (bytes: number): string => (bytes / MIB).toFixed(bytes < 10 * MIB ? 2 : 1);

interface Row {
  group: string;
  queries: number;
  cells: Partial<Record<VariantId, { seconds: number; objects: number; bytes: number }>>;
}

function groupRows(measured: Partial<Record<VariantId, Measured[]>>, specs: QuerySpec[]): Row[] {
  const groups = [...new Set(specs.map((s) => s.group))];
  return groups.map((group) => {
    const row: Row = { group, queries: specs.filter((s) => s.group === group).length, cells: {} };
    for (const [id, list] of Object.entries(measured) as Array<[VariantId, Measured[]]>) {
      const of = list.filter((m) => m.group === group);
      row.cells[id] = {
        seconds: of.reduce((n, m) => n + m.seconds, 0),
        objects: of.reduce((n, m) => n + m.objects, 0),
        bytes: of.reduce((n, m) => n + m.bytes, 0),
      };
    }
    return row;
  });
}

function tables(lakes: Lake[], rows: Row[], header: string): string {
  const lines = [
    header,
    '',
    '| lake | rows | objects | partitions | objects per partition (mean / max) | largest partition | MiB | made in |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const l of lakes) {
    if (l.missing) {
      lines.push(`| ${l.name} | ${l.missing} | | | | | | |`);
      continue;
    }
    const perPartition = l.partitions > 0 ? `${(l.objects / l.partitions).toFixed(1)} / ${l.maxObjectsPerPartition}` : '–';
    lines.push(
      `| ${l.name} | ${int(l.rows)} | ${int(l.objects)} | ${l.partitions > 0 ? int(l.partitions) : '–'} | ${perPartition} | ${l.partitions > 0 ? `${mib(l.maxPartitionBytes)} MiB` : '–'} | ${mib(l.bytes)} | ${l.buildSeconds === null ? '–' : `${l.buildSeconds.toFixed(1)} s`} |`,
    );
  }
  const ids: VariantId[] = ['a', 'b', 'c', 'd'];
  const present = ids.filter((id) => !lakes.find((l) => l.id === id)?.missing);
  // Compared against the best s3logs lake: compacted when there is one.
  const base: VariantId = present.includes('b') ? 'b' : 'a';
  lines.push(
    '',
    `Seconds (median of the runs; a section: the sum over its queries) · objects · MiB read (DuckDB's profiler); ratios against ${base}.`,
    '',
  );
  lines.push(`| query | ${ids.map((id) => VARIANT_NAMES[id]).join(' | ')} | (c) / (${base}) | (d) / (${base}) |`);
  lines.push(`| --- | ${ids.map(() => '---:').join(' | ')} | ---: | ---: |`);
  for (const r of rows) {
    const cell = (id: VariantId): string => {
      const c = r.cells[id];
      if (!c) return lakes.find((l) => l.id === id)?.missing ?? '–';
      return `${c.seconds.toFixed(3)} s · ${int(c.objects)} · ${mib(c.bytes)}`;
    };
    const ratio = (id: VariantId): string => {
      const x = r.cells[id];
      const y = r.cells[base];
      return x && y && y.seconds > 0 ? `${(x.seconds / y.seconds).toFixed(1)}×` : '–';
    };
    const label = r.queries > 1 ? `${r.group} (${r.queries} queries)` : r.group;
    lines.push(`| ${label} | ${ids.map(cell).join(' | ')} | ${ratio('c')} | ${ratio('d')} |`);
  }
  return lines.join('\n');
}

/** One row per query: its median seconds on every lake (with --queries). */
function queryTable(lakes: Lake[], measured: Partial<Record<VariantId, Measured[]>>, specs: QuerySpec[]): string {
  const ids = (['a', 'b', 'c', 'd'] as VariantId[]).filter((id) => measured[id]);
  const name = (id: VariantId) => lakes.find((l) => l.id === id)?.name ?? id;
  const lines = [`| query | ${ids.map(name).join(' | ')} |`, `| --- | ${ids.map(() => '---:').join(' | ')} |`];
  for (const q of specs) {
    const cell = (id: VariantId) => {
      const m = measured[id]!.find((x) => x.query === q.id);
      return m ? `${(m.seconds * 1000).toFixed(1)} ms` : '–';
    };
    lines.push(`| ${q.id} | ${ids.map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}

// ---- main ------------------------------------------------------------------------------------------

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a whole number >= 1, got ${value}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      days: { type: 'string', default: '30' },
      mb: { type: 'string', default: '4' },
      seed: { type: 'string', default: '1' },
      runs: { type: 'string', default: '3' },
      queries: { type: 'string' },
      // Where the corpus, the lakes and query-results.json go (the smoke test uses a temp dir).
      dir: { type: 'string', default: join(ROOT, '.bench') },
    },
    strict: true,
  });
  const days = positiveInt(values.days, '--days');
  const mb = positiveInt(values.mb, '--mb');
  const seed = positiveInt(values.seed, '--seed');
  const runs = positiveInt(values.runs, '--runs');
  // Checked before anything is generated: the ids do not depend on the corpus.
  const knownQueries = querySpecs(['2024-01-01'], 'id').map((q) => q.id);
  const onlyQueries = values.queries?.split(',').map((q) => q.trim());
  const unknownQueries = onlyQueries?.filter((q) => !knownQueries.includes(q)) ?? [];
  if (onlyQueries?.length === 0 || unknownQueries.length > 0)
    throw new Error(`--queries takes a comma-separated list of ${knownQueries.join(', ')}; unknown: ${unknownQueries.join(', ')}`);
  const benchDir = resolve(values.dir);
  const corpus = await ensureCorpus(benchDir, days, mb, seed);
  const keyDates = corpus.keyDates;
  const runDir = join(benchDir, `query-run-${days}d-${mb}mb-seed${seed}`);
  await rm(runDir, { recursive: true, force: true });
  await mkdir(runDir, { recursive: true });
  // Every contender reads from the page cache: the raw objects once now, the lakes are freshly written.
  for (const name of await readdir(corpus.raw)) await readFile(join(corpus.raw, name));
  const loadBefore = +(loadavg()[0] ?? 0).toFixed(2);

  process.stderr.write(`(a) converting ${keyDates.length} key dates …\n`);
  const a = join(runDir, 'a-converted');
  const convertSeconds = runCli([
    'convert',
    '--source',
    corpus.raw + '/',
    '--dest',
    a,
    '--date',
    keyDates[0]!,
    '--to',
    keyDates[keyDates.length - 1]!,
    '--quiet',
  ]);
  const lakes: Lake[] = [];
  const { instance, connection } = await openDuckdb(join(runDir, 'duckdb.tmp'));
  try {
    await connection.run(parquetView(a));
    const rowsIn = async (): Promise<number> => Number(await scalar(connection, 'SELECT count(*) FROM access_logs'));
    const firstDt = String(await scalar(connection, 'SELECT min(dt) FROM access_logs'));
    lakes.push({ ...(await describeLake('a', a, convertSeconds)), rows: await rowsIn() });

    const b = join(runDir, 'b-compacted');
    if (compactAvailable()) {
      process.stderr.write(`(b) compacting a copy, dt ${firstDt}..${keyDates[keyDates.length - 1]} …\n`);
      await cp(a, b, { recursive: true });
      const seconds = runCli(['compact', '--dest', b, '--from', firstDt, '--to', keyDates[keyDates.length - 1]!]);
      await connection.run(parquetView(b));
      lakes.push({ ...(await describeLake('b', b, seconds)), rows: await rowsIn() });
    } else {
      process.stderr.write('(b) compact not available (no `s3logs compact` in this build)\n');
      lakes.push({
        id: 'b',
        name: VARIANT_NAMES.b,
        missing: 'compact not available',
        objects: 0,
        bytes: 0,
        partitions: 0,
        maxObjectsPerPartition: 0,
        maxPartitionBytes: 0,
        buildSeconds: null,
        rows: 0,
      });
    }

    process.stderr.write('(c) DuckDB COPY … PARTITION_BY (bucket, dt) …\n');
    const c = join(runDir, 'c-duckdb-copy');
    await connection.run(parquetView(a));
    const copyStart = performance.now();
    await connection.run(`COPY (SELECT * FROM access_logs) TO ${literal(c)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (bucket, dt))`);
    const copySeconds = (performance.now() - copyStart) / 1000;
    await connection.run(parquetView(c));
    lakes.push({ ...(await describeLake('c', c, copySeconds)), rows: await rowsIn() });

    await connection.run(rawView(corpus.raw));
    lakes.push({
      id: 'd',
      name: VARIANT_NAMES.d,
      dir: corpus.raw,
      objects: corpus.objects,
      bytes: corpus.bytes,
      partitions: 0,
      maxObjectsPerPartition: 0,
      maxPartitionBytes: 0,
      buildSeconds: null,
      rows: await rowsIn(),
    });

    const parquetRows = lakes.filter((l) => !l.missing && l.id !== 'd').map((l) => l.rows);
    if (new Set(parquetRows).size !== 1)
      throw new Error(`the lakes hold different row counts: ${lakes.map((l) => `${l.id} ${l.rows}`).join(', ')}`);

    // A request id of the middle key date, the same for every lake.
    await connection.run(parquetView(a));
    const middle = keyDates[Math.floor(keyDates.length / 2)]!;
    const requestId = String(
      await scalar(
        connection,
        `SELECT requestid FROM access_logs WHERE dt = ${literal(middle)} AND requestid IS NOT NULL ORDER BY requestdatetime, requestid LIMIT 1 OFFSET 100`,
      ),
    );
    const specs = querySpecs(keyDates, requestId).filter((q) => !onlyQueries || onlyQueries.includes(q.id));

    process.stderr.write(`timing ${specs.length} queries on ${lakes.filter((l) => !l.missing).length} lakes, interleaved …\n`);
    const measured = await measureAll(
      connection,
      lakes.filter((l) => !l.missing).map((l) => ({ id: l.id, view: l.id === 'd' ? rawView(corpus.raw) : parquetView(l.dir!) })),
      specs,
      runs,
      join(runDir, 'profile.json'),
    );

    // The bench's own DuckDB threads count in this one (up to one per core).
    const loadAfter = +(loadavg()[0] ?? 0).toFixed(2);
    const rows = groupRows(measured, specs);
    const machine = {
      cores: availableParallelism(),
      cpu: cpus()[0]?.model ?? 'unknown',
      memoryGiB: +(totalmem() / 1024 ** 3).toFixed(1),
      loadBefore,
      loadAfter,
      node: process.version,
      duckdb: duckdbVersion(),
    };
    const header =
      `${keyDates.length} key dates × ${mb} MiB (${keyDates[0]}..${keyDates[keyDates.length - 1]}), ${mib(corpus.bytes)} MiB raw in ${int(corpus.objects)} objects, ${int(corpus.rows)} records; ` +
      `${machine.cores} cores, Node ${machine.node}, DuckDB ${machine.duckdb}; median of ${runs} interleaved run${runs === 1 ? '' : 's'} per query; load average ${loadBefore} before, ${loadAfter} after the timing`;
    const report = {
      date: new Date().toISOString(),
      machine,
      runs,
      corpus: {
        days,
        mbPerKeyDate: mb,
        seed,
        keyDates: [keyDates[0], keyDates[keyDates.length - 1]],
        objects: corpus.objects,
        bytes: corpus.bytes,
        records: corpus.rows,
      },
      requestId,
      lakes: lakes.map(({ dir: _dir, ...l }) => l),
      groups: rows,
      queries: Object.fromEntries(Object.entries(measured).map(([id, list]) => [id, list])),
      sql: Object.fromEntries(specs.map((s) => [s.id, s.sql])),
    };
    await writeFile(join(benchDir, 'query-results.json'), JSON.stringify(report, null, 2) + '\n');
    console.log(tables(lakes, rows, header));
    if (onlyQueries) console.log('\n' + queryTable(lakes, measured, specs));
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(join(runDir, 'duckdb.tmp'), { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 2;
});
