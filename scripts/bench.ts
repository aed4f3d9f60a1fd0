/**
 * `npm run bench`: end-to-end throughput, peak memory and correctness of `s3logs convert` against the
 * two ways a DuckDB user would do the same job, on one seeded corpus, local disk to local disk.
 *
 *   node dist/scripts/bench.js [--mb 512] [--seed 1] [--runs 1] [--only s3logs,read_csv,regex] [--baseline <dir>]
 *
 * The corpus (src/demo/genLogs.ts defaults: several buckets, ~2% late records, trailing fields, raw
 * quotes, S3-named objects of a few KiB to a few MiB) and its truth go to .bench/corpus-<mb>mb-seed<n>/
 * and are reused while the stamp matches. Every contender runs as a child process (scripts/benchRss.ts),
 * the contenders in turn in each of --runs rounds (so a slow moment of a shared machine hits all of them);
 * the table reports medians and goes to stdout, the same data to .bench/results.json. `--baseline <dir>`
 * adds the s3logs of another checkout (built, e.g. the commit before a change) as a contender, run
 * beside this one in every round. Method: docs/benchmark.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { version as duckdbVersion } from '@duckdb/node-api';
import {
  ALL_VALUE_COLUMNS,
  KEY_COLUMNS,
  TruthWriter,
  VALUE_COLUMNS,
  compareRows,
  openDuckdb,
  parquetRows,
  truthRows,
  type Comparison,
} from './benchCompare.js';
import { DUCKDB_VARIANTS } from './benchDuckdb.js';
import { runMeasured } from './benchRss.js';
import { generateKeyDate, generatorCodeHash, type GenerateOptions } from './genLogs.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HERE = fileURLToPath(new URL('.', import.meta.url));
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const KEY_DATE = '2024-01-29';
const CONTENDERS = ['s3logs', ...DUCKDB_VARIANTS] as const;
type Contender = (typeof CONTENDERS)[number] | 'baseline';
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
  /** user + sys of all threads of the process (median over runs). */
  cpuSeconds: number;
  /** CPU seconds per GiB of raw input: what a backfill costs, whatever the machine's size. */
  cpuSecondsPerGiB: number;
  /** Median CPU split by thread, and for s3logs the main thread's stage wall seconds (--json stageSeconds). */
  cpuByThread: { main: number; workers: number; other: number };
  stageSeconds?: Record<string, number>;
  rows: number;
  rowsPerSecond: number;
  peakRssMiB: number;
  outputBytes: number;
  outputPercent: number;
  /** Parquet files written. */
  files: number;
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
  const options: GenerateOptions = { seed, keyDate: KEY_DATE, layout: 'simple', targetBytes: mb * MIB };
  const want = { options, generator: await generatorCodeHash() };
  const stampPath = join(dir, 'stamp.json');
  const stamp = JSON.parse(await readFile(stampPath, 'utf8').catch(() => '{}')) as {
    options?: unknown;
    generator?: string;
    corpus?: Corpus;
  };
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

async function parquetBytes(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.parquet')) {
      bytes += (await stat(join(entry.parentPath, entry.name))).size;
      files++;
    }
  }
  return { bytes, files };
}

/** The baseline checkout's commit (short hash) when it is a git checkout, else its directory name. */
function baselineLabel(dir: string): string {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return basename(dir);
  }
}

/** One contender end to end into `out`: its time and memory, and the rows it says it wrote. */
async function runContender(name: Contender, corpus: Corpus, out: string, baseline: string | undefined) {
  await rm(out, { recursive: true, force: true });
  const cli = name === 'baseline' ? join(baseline!, 'dist', 'src', 'cli.js') : CLI;
  const args =
    name === 's3logs' || name === 'baseline'
      ? [cli, 'convert', '--source', corpus.raw + '/', '--dest', out, '--date', KEY_DATE, '--json', '--quiet']
      : [join(HERE, 'benchDuckdb.js'), '--variant', name, '--source', corpus.raw, '--dest', out];
  process.stderr.write(`running ${name} …\n`);
  const run = await runMeasured(process.execPath, args, { cwd: name === 'baseline' ? baseline! : ROOT });
  if (run.code !== 0) throw new Error(`${name} exited with ${run.code ?? run.signal}: ${run.stderr.trim().slice(-2000)}`);
  const summary = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as {
    rows?: number;
    keyDates?: Array<{ stageSeconds?: Record<string, number> }>;
  };
  return { run, rows: Number(summary.rows ?? NaN), stageSeconds: summary.keyDates?.[0]?.stageSeconds };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The split of a run's CPU time, as one line under the table. */
function cpuSplit(r: Result): string {
  const t = r.cpuByThread;
  const stages = r.stageSeconds
    ? Object.entries(r.stageSeconds)
        .filter(([, v]) => v >= 0.05)
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(', ')
    : '';
  const duckdb = r.name.startsWith('duckdb');
  return `- ${r.name}: ${r.cpuSeconds.toFixed(1)} CPU s = main thread ${t.main.toFixed(1)}${stages ? ` (wall by stage: ${stages})` : ''} + JS workers${duckdb ? '' : ' (Parquet encoding)'} ${t.workers.toFixed(1)} + other threads (${duckdb ? 'DuckDB, ' : ''}GC, compiler, I/O) ${t.other.toFixed(1)}`;
}

function table(results: Result[], corpus: Corpus, runs: number, loadBefore: number): string {
  const int = (n: number): string => Math.round(n).toLocaleString('en-US');
  const lines = [
    `${(corpus.bytes / MIB).toFixed(0)} MiB, ${int(corpus.objects)} objects, ${int(corpus.rows)} records; ${availableParallelism()} cores, Node ${process.version}, DuckDB ${duckdbVersion()}; median of ${runs} run${runs === 1 ? '' : 's'} (contenders in turn each round); load average ${loadBefore} before`,
    '',
    '| approach | seconds | MiB/s | CPU s | CPU s / GiB | rows/s | peak RSS | output / input | files | rows written | missing | extra | wrong values | checked against |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of results) {
    const c = r.comparison;
    const columns = Object.entries(c.wrongByColumn)
      .map(([k, v]) => `${k} ${int(v)}`)
      .join(', ');
    lines.push(
      `| ${r.name} | ${r.seconds.toFixed(1)} | ${r.mibPerSecond.toFixed(1)} | ${r.cpuSeconds.toFixed(1)} | ${r.cpuSecondsPerGiB.toFixed(1)} | ${int(r.rowsPerSecond)} | ${int(r.peakRssMiB)} MiB | ${r.outputPercent.toFixed(1)}% | ${int(r.files)} | ${int(r.rows)} | ${int(c.missing)} | ${int(c.extra)} | ${int(c.wrong)}${columns ? ` (${columns})` : ''} | ${r.reference} |`,
    );
  }
  const s3logs = results.find((r) => r.name === 's3logs convert');
  const ratios = s3logs
    ? results.filter((r) => r !== s3logs).map((r) => `${(s3logs.mibPerSecond / r.mibPerSecond).toFixed(2)}× ${r.name}`)
    : [];
  lines.push(
    '',
    ...(ratios.length > 0 ? [`s3logs convert MiB/s: ${ratios.join(', ')}.`, ''] : []),
    'CPU by thread (median run; wall seconds of the main thread by stage from --json):',
    ...results.map(cpuSplit),
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mb: { type: 'string', default: '512' },
      seed: { type: 'string', default: '1' },
      only: { type: 'string' },
      runs: { type: 'string', default: '1' },
      baseline: { type: 'string' },
    },
    strict: true,
  });
  const mb = Number(values.mb);
  const seed = Number(values.seed);
  if (!(Number.isInteger(mb) && mb > 0)) throw new Error(`--mb must be a positive whole number of MiB, got ${values.mb}`);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);
  const runs = Number(values.runs);
  if (!(Number.isInteger(runs) && runs > 0)) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
  const only = values.only?.split(',').map((s) => s.trim()) ?? [...CONTENDERS];
  const unknown = only.filter((n) => !(CONTENDERS as readonly string[]).includes(n));
  if (unknown.length > 0)
    throw new Error(`--only takes a comma-separated list of ${CONTENDERS.join(', ')}; unknown: ${unknown.join(', ')}`);
  const contenders: Contender[] = CONTENDERS.filter((n) => only.includes(n));
  const baseline = values.baseline === undefined ? undefined : resolve(values.baseline);
  if (baseline !== undefined) {
    if (!existsSync(join(baseline, 'dist', 'src', 'cli.js')))
      throw new Error(`--baseline ${baseline} has no dist/src/cli.js: build that checkout first (npm run build there)`);
    contenders.splice(1, 0, 'baseline');
  }

  const corpus = await ensureCorpus(mb, seed);
  await warmPageCache(corpus.raw);
  // Other work on the machine skews every number; the 1-minute load average before the runs says how much.
  const loadBefore = +(loadavg()[0] ?? 0).toFixed(2);
  const runDir = join(ROOT, '.bench', `run-${mb}mb-seed${seed}`);
  // Contenders take turns in each round: a slow moment of the shared machine hits them all alike.
  const runsOf = new Map<Contender, Array<Awaited<ReturnType<typeof runContender>>>>(contenders.map((n) => [n, []]));
  for (let round = 0; round < runs; round++) {
    for (const name of contenders) runsOf.get(name)!.push(await runContender(name, corpus, join(runDir, name), baseline));
  }
  const measured = contenders.map((name) => {
    const all = runsOf.get(name)!;
    // Medians for time and CPU, the highest for memory; the split and stages of the median-time run.
    const typical = [...all].sort((a, b) => a.run.seconds - b.run.seconds)[(all.length - 1) >> 1]!;
    return {
      name,
      out: join(runDir, name),
      rows: typical.rows,
      seconds: median(all.map((r) => r.run.seconds)),
      cpuSeconds: median(all.map((r) => r.run.cpuSeconds)),
      peakRssBytes: Math.max(...all.map((r) => r.run.peakRssBytes)),
      cpuByThread: typical.run.cpuByThread,
      stageSeconds: typical.stageSeconds,
    };
  });

  process.stderr.write('comparing rows …\n');
  const { instance, connection } = await openDuckdb(join(runDir, 'compare.tmp'));
  const results: Result[] = [];
  try {
    await connection.run(`ATTACH '${corpus.truth.replaceAll("'", "''")}' AS truth (READ_ONLY)`);
    const s3logsOut = measured.find((m) => m.name === 's3logs')?.out;
    for (const m of measured) {
      // s3logs answers to the generator's truth on every column; DuckDB answers to s3logs on the shared ones.
      const own = m.name === 's3logs' || m.name === 'baseline';
      const reference = own || s3logsOut === undefined ? 'truth' : 's3logs';
      const compared = own ? ALL_VALUE_COLUMNS : VALUE_COLUMNS;
      const columns = [...KEY_COLUMNS, ...compared];
      const referenceSql = reference === 'truth' ? truthRows('truth', columns) : parquetRows(s3logsOut as string, columns);
      const comparison = await compareRows(connection, referenceSql, parquetRows(m.out, columns), compared);
      const { bytes: outputBytes, files } = await parquetBytes(m.out);
      results.push({
        name:
          m.name === 's3logs'
            ? 's3logs convert'
            : m.name === 'baseline'
              ? `s3logs convert, baseline (${baselineLabel(baseline!)})`
              : `duckdb ${m.name}`,
        seconds: m.seconds,
        mibPerSecond: corpus.bytes / MIB / m.seconds,
        cpuSeconds: m.cpuSeconds,
        cpuSecondsPerGiB: m.cpuSeconds / (corpus.bytes / 1024 ** 3),
        cpuByThread: m.cpuByThread,
        ...(m.stageSeconds ? { stageSeconds: m.stageSeconds } : {}),
        rows: m.rows,
        rowsPerSecond: m.rows / m.seconds,
        peakRssMiB: m.peakRssBytes / MIB,
        files,
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

  const machine = {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: +(totalmem() / 1024 ** 3).toFixed(1),
    loadBefore,
    node: process.version,
    duckdb: duckdbVersion(),
  };
  const report = {
    date: new Date().toISOString(),
    machine,
    runs,
    corpus: { mb, seed, keyDate: KEY_DATE, objects: corpus.objects, bytes: corpus.bytes, rows: corpus.rows },
    keyColumns: KEY_COLUMNS,
    results,
  };
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
