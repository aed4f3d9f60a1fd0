/** Builds the report data: prune partitions, fetch what is remote, run every query in DuckDB. */
import { dateRange } from '../config.js';
import { openDest, type StoreOptions } from '../locations.js';
import { TOOL_VERSION } from '../version.js';
import { createTable, openDuckDb, runQueries } from './engine.js';
import { listPartitions, localFiles } from './partitions.js';
import type { PriceTable } from './prices.js';
import { REPORT_QUERIES } from './queries.js';
import { SECTIONS, type QueryResult, type SectionId } from './query.js';

export interface ReportOptions {
  readonly dest: string;
  readonly from: string;
  readonly to: string;
  readonly bucket?: string;
  readonly prices: PriceTable;
  readonly store: StoreOptions;
}

export interface ReportSection {
  readonly id: SectionId;
  readonly title: string;
  readonly blurb: string;
  readonly queries: QueryResult[];
}

export interface ReportData {
  readonly tool: string;
  readonly generatedAt: string;
  readonly dest: string;
  readonly from: string;
  readonly to: string;
  readonly days: number;
  readonly bucketFilter: string | null;
  /** Buckets with rows in the range. */
  readonly buckets: string[];
  readonly rows: number;
  readonly partitions: number;
  readonly files: number;
  readonly parquetBytes: number;
  readonly prices: PriceTable;
  readonly seconds: { readonly list: number; readonly fetch: number; readonly query: number; readonly total: number };
  readonly sections: ReportSection[];
}

const since = (t: number): number => Math.round(performance.now() - t) / 1000;

export async function buildReport(options: ReportOptions): Promise<ReportData> {
  const started = performance.now();
  const days = dateRange(options.from, options.to, '--from', '--to');
  const storage = await openDest(options.dest, options.store);
  try {
    const partitions = await listPartitions(storage, days, options.bucket);
    const listed = since(started);
    const keys = partitions.flatMap((p) => p.keys);
    const fetchStart = performance.now();
    const files = await localFiles(storage, keys);
    const fetched = since(fetchStart);
    try {
      const queryStart = performance.now();
      const duck = await openDuckDb();
      let results: QueryResult[];
      try {
        await createTable(duck.connection, 'access_logs', files.paths);
        results = await runQueries(duck.connection, REPORT_QUERIES, {
          dialect: 'duckdb',
          table: 'access_logs',
          from: options.from,
          to: days[days.length - 1]!,
          ...(options.bucket !== undefined ? { bucket: options.bucket } : {}),
          prices: options.prices,
        });
      } finally {
        duck.close();
      }
      const coverage = results.find((r) => r.id === 'coverage')?.rows ?? [];
      return {
        tool: `s3logs ${TOOL_VERSION}`,
        generatedAt: new Date().toISOString(),
        dest: storage.uri,
        from: options.from,
        to: days[days.length - 1]!,
        days: days.length,
        bucketFilter: options.bucket ?? null,
        buckets: [...new Set(coverage.map((r) => String(r.bucket)))].sort(),
        rows: coverage.reduce((n, r) => n + Number(r.row_count), 0),
        partitions: partitions.length,
        files: keys.length,
        parquetBytes: partitions.reduce((n, p) => n + p.bytes, 0),
        prices: options.prices,
        seconds: { list: listed, fetch: fetched, query: since(queryStart), total: since(started) },
        sections: SECTIONS.map((s) => ({ ...s, queries: results.filter((r) => r.section === s.id) })),
      };
    } finally {
      await files.cleanup();
    }
  } finally {
    await storage.close?.();
  }
}
