/**
 * What a canned report query is: SQL written once in the subset DuckDB and Athena (Trino) share, plus
 * how its result is shown. The few functions the dialects spell differently go through SqlContext.
 */
import type { PriceTable } from './prices.js';

export type Dialect = 'duckdb' | 'athena';

export interface SqlContext {
  readonly dialect: Dialect;
  /** Table reference, already quoted: `"access_logs"` or `"db"."table"`. */
  readonly table: string;
  /** First and last dt of the range (YYYY-MM-DD, inclusive). */
  readonly from: string;
  readonly to: string;
  readonly bucket?: string;
  readonly prices: PriceTable;
}

export type SectionId = 'coverage' | 'security' | 'usage' | 'cost' | 'operations';

export const SECTIONS: ReadonlyArray<{ id: SectionId; title: string; blurb: string }> = [
  { id: 'coverage', title: 'Coverage', blurb: 'Rows read per bucket and day.' },
  {
    id: 'security',
    title: 'Security',
    blurb: 'Denied and anonymous requests, weak transport and signatures, requesters new in the range.',
  },
  { id: 'usage', title: 'Usage', blurb: 'What is requested, by whom, and how many bytes go out.' },
  { id: 'cost', title: 'Cost', blurb: 'An estimate of request and transfer charges from the price table below; not a bill.' },
  { id: 'operations', title: 'Operations', blurb: 'Error rates, failed writes, throttling and latency.' },
];

export type ColumnFormat = 'text' | 'int' | 'bytes' | 'usd' | 'ratio' | 'ms' | 'time' | 'price';

export interface QueryColumn {
  readonly name: string;
  readonly label: string;
  readonly format: ColumnFormat;
}

export type ChartSpec =
  /** Horizontal bars: one per row, labelled by the given columns joined with ` · `. */
  | { readonly kind: 'bars'; readonly label: readonly string[]; readonly value: string }
  /** Lines over the range's hours; rows carry `dt` and `hour_utc`, missing hours count as 0. */
  | { readonly kind: 'hourly'; readonly series: ReadonlyArray<{ readonly column: string; readonly label: string }> }
  /** One-row result shown as headline figures. */
  | { readonly kind: 'tiles' };

export interface ReportQuery {
  readonly id: string;
  readonly section: SectionId;
  readonly title: string;
  readonly description: string;
  readonly columns: readonly QueryColumn[];
  readonly chart?: ChartSpec;
  sql(ctx: SqlContext): string;
}

export type Row = Record<string, string | number | boolean | null>;

/** A query's description and its rows (everything of the query but its SQL). */
export interface QueryResult extends Omit<ReportQuery, 'sql'> {
  readonly rows: Row[];
}

// ---- SQL fragments shared by the queries ------------------------------------------------------------

export const quoteLiteral = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** Partition pruning in both engines: Athena prunes on the string partition columns, DuckDB reads only listed files. */
export function rangeWhere(ctx: SqlContext): string {
  const range = `dt BETWEEN ${quoteLiteral(ctx.from)} AND ${quoteLiteral(ctx.to)}`;
  return ctx.bucket === undefined ? range : `${range} AND bucket = ${quoteLiteral(ctx.bucket)}`;
}

/** Exact nearest-rank percentile in DuckDB; Athena only has the approximate one. */
export function percentile(ctx: SqlContext, expr: string, p: number): string {
  return ctx.dialect === 'duckdb' ? `quantile_disc(${expr}, ${p})` : `approx_percentile(${expr}, ${p})`;
}

export const REQUESTER = `COALESCE(requester, '(anonymous)')`;
export const REMOTE_IP = `COALESCE(remoteip, '(AWS internal)')`;
/** First path segment of the decoded key with its `/`; keys without one are `(top level)`, requests without a key `(no key)`. */
export const PREFIX = `CASE WHEN key_decoded IS NULL THEN '(no key)' WHEN strpos(key_decoded, '/') > 0 THEN split_part(key_decoded, '/', 1) || '/' ELSE '(top level)' END`;
export const SENT = 'COALESCE(bytessent, 0)';
export const DENIED = 'httpstatus = 403';
/** An external caller (has a remote IP) whose record has the TLS fields (24+) but used none. */
export const PLAIN_HTTP = 'remoteip IS NOT NULL AND field_count >= 24 AND ciphersuite IS NULL AND tlsversion IS NULL';
export const OLD_TLS = `tlsversion IN ('SSLv3', 'TLSv1', 'TLSv1.1')`;
export const SIGV2 = `sigv = 'SigV2'`;
export const SLOWDOWN = `httpstatus = 503 AND errorcode = 'SlowDown'`;
export const WRITE_OPERATION = `(operation LIKE 'REST.PUT.%' OR operation LIKE 'REST.POST.%' OR operation LIKE 'REST.DELETE.%' OR operation LIKE 'REST.COPY.%' OR operation LIKE 'BATCH.DELETE.%')`;

export const countIf = (condition: string): string => `sum(CASE WHEN ${condition} THEN 1 ELSE 0 END)`;
/** Sums over no rows are NULL in SQL; the report shows 0. */
export const zero = (expr: string): string => `COALESCE(${expr}, 0)`;
export const ratio = (numerator: string, denominator: string): string => `CAST(${numerator} AS DOUBLE) / ${denominator}`;

export const col = (name: string, label: string, format: ColumnFormat = 'text'): QueryColumn => ({ name, label, format });
