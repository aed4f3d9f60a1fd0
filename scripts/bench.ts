/**
 * `npm run bench`: end-to-end throughput, peak memory and correctness of `s3logs convert` against the
 * two ways a DuckDB user would do the same job, on one seeded corpus, local disk to local disk.
 *
 *   node dist/scripts/bench.js [--mb 512] [--seed 1] [--runs 1] [--only s3logs,read_csv,regex]
 *
 * The corpus (src/demo/genLogs.ts defaults: several buckets, ~2% late records, trailing fields, raw
 * quotes, S3-named objects of a few KiB to a few MiB) and its truth go to .bench/corpus-<mb>mb-seed<n>/
 * and are reused while the stamp matches. Every contender runs as a child process (scripts/benchRss.ts);
 * the table goes to stdout, the same data to .bench/results.json. Method: docs/benchmark.md.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { version as duckdbVersion } from '@duckdb/node-api';
import { ALL_VALUE_COLUMNS, KEY_COLUMNS, TruthWriter, VALUE_COLUMNS, compareRows, openDuckdb, parquetRows, truthRows, type Comparison } from './benchCompare.js';
import { DUCKDB_VARIANTS } from './benchDuckdb.js';
import { runMeasured } from './benchRss.js';
import { generateKeyDate, type GenerateOptions } from './genLogs.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HERE = fileURLToPath(new URL('.', import.meta.url));
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const KEY_DATE = '2024-01-29';
const CONTENDERS = ['s3logs', ...DUCKDB_VARIANTS] as const;
type Contender = (typeof CONTENDERS)[number];
const MIB = 1024 * 1024;

interface Corpus {
  dir: string;
  raw: string;
  truth: string;
  objects: number;
  bytes: number;
  rows: number;
}

interface Result {
  name: string;
  seconds: number;
  mibPerSecond: number;
  rows: number;
  rowsPerSecond: number;
  peakRssMiB: number;
  outputBytes: number;
  outputPercent: number;
  reference: 'truth' | 's3logs';
  /** Value columns compared on rows matched by KEY_COLUMNS. */
  compared: readonly string[];
  comparison: Comparison;
}

/** Generates the corpus and its truth unless the stamp says this exact corpus is already there. */
async function ensureCorpus(mb: number, seed: number): Promise<Corpus> {
  const dir = join(ROOT, '.bench', `corpus-${mb}mb-seed${seed}`);
  const raw = join(dir, 'raw');
  const truth = join(dir, 'truth.duckdb');
  // A changed generator must not reuse a stale corpus: the stamp carries a hash of its code.
  const generator = createHash('sha256');
  // The generator's runtime lives in src/demo/ (scripts/genLogs.js is only its command line).
  const demo = join(ROOT, 'dist', 'src', 'demo');
  for (const file of ['genLogs.js', 'genLogs/world.js', 'genLogs/records.js', 'genLogs/format.js', 'random.js']) generator.update(await readFile(join(demo, file)));
  const options: GenerateOptions = { seed, keyDate: KEY_DATE, layout: 'simple', targetBytes: mb * MIB };
  const want = { options, generator: generator.digest('hex') };
  const stampPath = join(dir, 'stamp.json');
  const stamp = JSON.parse(await readFile(stampPath, 'utf8').catch(() => '{}')) as { options?: unknown; generator?: string; corpus?: Corpus };
  if (stamp.corpus && stamp.generator === want.generator && JSON.stringify(stamp.options) === JSON.stringify(want.options)) {
    process.stderr.write(`reusing ${dir}\n`);
    return { ...stamp.corpus, dir, raw, truth };
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(raw, { recursive: true });
  process.stderr.write(`generating ${mb} MiB of logs (seed ${seed}) into ${raw} …\n`);
  const corpus: Corpus = { dir, raw, truth, objects: 0, bytes: 0, rows: 0 };
  const writer = await TruthWriter.create(truth);
  try {
    for (const object of generateKeyDate(options)) {
      await writeFile(join(raw, object.key), object.body);
      for (const row of object.rows) writer.append(row);
      corpus.objects += 1;
      corpus.bytes += object.body.length;
      corpus.rows += object.rows.length;
    }
  } finally {
    writer.close();
  }
  await writeFile(stampPath, JSON.stringify({ ...want, corpus }, null, 2) + '\n');
  return corpus;
}

/** Reads every input file once so that no contender pays for a cold page cache the others do not. */
async function warmPageCache(raw: string): Promise<void> {
  for (const name of await readdir(raw)) await readFile(join(raw, name));
}

async function parquetBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.parquet')) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** One contender end to end into `out`: its time and memory, and the rows it says it wrote. */
async function runContender(name: Contender, corpus: Corpus, out: string) {
  await rm(out, { recursive: true, force: true });
  const args =
    name === 's3logs'
      ? [CLI, 'convert', '--source', corpus.raw + '/', '--dest', out, '--date', KEY_DATE, '--json', '--quiet']
      : [join(HERE, 'benchDuckdb.js'), '--variant', name, '--source', corpus.raw, '--dest', out];
  process.stderr.write(`running ${name} …\n`);
  const run = await runMeasured(process.execPath, args, { cwd: ROOT });
  if (run.code !== 0) throw new Error(`${name} exited with ${run.code ?? run.signal}: ${run.stderr.trim().slice(-2000)}`);
  const summary = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { rows?: number };
  return { run, rows: Number(summary.rows ?? NaN) };
}

function table(results: Result[], corpus: Corpus, runs: number, loadBefore: number): string {
  const int = (n: number): string => Math.round(n).toLocaleString('en-US');
  const lines = [
    `${(corpus.bytes / MIB).toFixed(0)} MiB, ${int(corpus.objects)} objects, ${int(corpus.rows)} records; ${availableParallelism()} cores, Node ${process.version}, DuckDB ${duckdbVersion()}; best of ${runs} run${runs === 1 ? '' : 's'}; load average ${loadBefore} before`,
    '',
    '| approach | seconds | MiB/s | rows/s | peak RSS | output / input | rows written | missing | extra | wrong values | checked against |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of results) {
    const c = r.comparison;
    const columns = Object.entries(c.wrongByColumn).map(([k, v]) => `${k} ${int(v)}`).join(', ');
    lines.push(`| ${r.name} | ${r.seconds.toFixed(1)} | ${r.mibPerSecond.toFixed(1)} | ${int(r.rowsPerSecond)} | ${int(r.peakRssMiB)} MiB | ${r.outputPercent.toFixed(1)}% | ${int(r.rows)} | ${int(c.missing)} | ${int(c.extra)} | ${int(c.wrong)}${columns ? ` (${columns})` : ''} | ${r.reference} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { mb: { type: 'string', default: '512' }, seed: { type: 'string', default: '1' }, only: { type: 'string' }, runs: { type: 'string', default: '1' } }, strict: true });
  const mb = Number(values.mb);
  const seed = Number(values.seed);
  if (!(Number.isInteger(mb) && mb > 0)) throw new Error(`--mb must be a positive whole number of MiB, got ${values.mb}`);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);
  const runs = Number(values.runs);
  if (!(Number.isInteger(runs) && runs > 0)) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
  const only = values.only?.split(',').map((s) => s.trim()) ?? [...CONTENDERS];
  const unknown = only.filter((n) => !(CONTENDERS as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`--only takes a comma-separated list of ${CONTENDERS.join(', ')}; unknown: ${unknown.join(', ')}`);
  const contenders = CONTENDERS.filter((n) => only.includes(n));

  const corpus = await ensureCorpus(mb, seed);
  await warmPageCache(corpus.raw);
  // Other work on the machine skews every number; the 1-minute load average before the runs says how much.
  const loadBefore = +(loadavg()[0] ?? 0).toFixed(2);
  const runDir = join(ROOT, '.bench', `run-${mb}mb-seed${seed}`);
  const measured = [];
  for (const name of contenders) {
    const out = join(runDir, name);
    // Best of --runs for time (the 2-core machine is shared), highest of them for memory.
    let best = await runContender(name, corpus, out);
    let peakRssBytes = best.run.peakRssBytes;
    for (let i = 1; i < runs; i++) {
      const again = await runContender(name, corpus, out);
      peakRssBytes = Math.max(peakRssBytes, again.run.peakRssBytes);
      if (again.run.seconds < best.run.seconds) best = again;
    }
    measured.push({ name, out, rows: best.rows, run: { ...best.run, peakRssBytes } });
  }

  process.stderr.write('comparing rows …\n');
  const { instance, connection } = await openDuckdb(join(runDir, 'compare.tmp'));
  const results: Result[] = [];
  try {
    await connection.run(`ATTACH '${corpus.truth.replaceAll("'", "''")}' AS truth (READ_ONLY)`);
    const s3logsOut = measured.find((m) => m.name === 's3logs')?.out;
    for (const m of measured) {
      // s3logs answers to the generator's truth on every column; DuckDB answers to s3logs on the shared ones.
      const reference = m.name === 's3logs' || s3logsOut === undefined ? 'truth' : 's3logs';
      const compared = m.name === 's3logs' ? ALL_VALUE_COLUMNS : VALUE_COLUMNS;
      const columns = [...KEY_COLUMNS, ...compared];
      const referenceSql = reference === 'truth' ? truthRows('truth', columns) : parquetRows(s3logsOut as string, columns);
      const comparison = await compareRows(connection, referenceSql, parquetRows(m.out, columns), compared);
      const outputBytes = await parquetBytes(m.out);
      results.push({
        name: m.name === 's3logs' ? 's3logs convert' : `duckdb ${m.name}`,
        seconds: m.run.seconds,
        mibPerSecond: corpus.bytes / MIB / m.run.seconds,
        rows: m.rows,
        rowsPerSecond: m.rows / m.run.seconds,
        peakRssMiB: m.run.peakRssBytes / MIB,
        outputBytes,
        outputPercent: (100 * outputBytes) / corpus.bytes,
        reference,
        compared,
        comparison,
      });
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(join(runDir, 'compare.tmp'), { recursive: true, force: true });
  }

  const machine = { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: +(totalmem() / 1024 ** 3).toFixed(1), loadBefore, node: process.version, duckdb: duckdbVersion() };
  const report = { date: new Date().toISOString(), machine, runs, corpus: { mb, seed, keyDate: KEY_DATE, objects: corpus.objects, bytes: corpus.bytes, rows: corpus.rows }, keyColumns: KEY_COLUMNS, results };
  const json = JSON.stringify(report, null, 2) + '\n';
  await writeFile(join(ROOT, '.bench', 'results.json'), json);
  await writeFile(join(ROOT, '.bench', `results-${mb}mb.json`), json);
  console.log(table(results, corpus, runs, loadBefore));
  const s3logs = results.find((r) => r.name === 's3logs convert')?.comparison;
  if (s3logs && s3logs.missing + s3logs.extra + s3logs.wrong > 0) {
    console.error('s3logs does not reproduce the generator truth exactly (see .bench/results.json)');
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 2;
});
