/** Every canned report query, in the order the report shows them. */
import { COST_QUERIES } from './costQueries.js';
import { OPERATIONS_QUERIES } from './operationsQueries.js';
import { col, rangeWhere, type ReportQuery, type SqlContext } from './query.js';
import { SECURITY_QUERIES } from './securityQueries.js';
import { USAGE_QUERIES } from './usageQueries.js';

export const COVERAGE_QUERY: ReportQuery = {
  id: 'coverage',
  section: 'coverage',
  title: 'Rows per bucket and day',
  description: 'Rows in the range, per partition.',
  columns: [col('bucket', 'Bucket'), col('dt', 'Day (dt)'), col('row_count', 'Rows', 'int')],
  sql: (ctx) => `SELECT bucket, dt, count(*) AS row_count
FROM ${ctx.table}
WHERE ${rangeWhere(ctx)}
GROUP BY 1, 2
ORDER BY 1, 2`,
};

export const REPORT_QUERIES: readonly ReportQuery[] = [
  COVERAGE_QUERY,
  ...SECURITY_QUERIES,
  ...USAGE_QUERIES,
  ...COST_QUERIES,
  ...OPERATIONS_QUERIES,
];

/** `"name"` with embedded quotes doubled: the same identifier syntax in DuckDB and Athena DML. */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** The queries as Athena SQL against the Glue table, one `;`-terminated statement each, with a comment naming it. */
export function athenaSql(ctx: Omit<SqlContext, 'dialect' | 'table'> & { database: string; tableName: string }): string {
  const full: SqlContext = { ...ctx, dialect: 'athena', table: `${quoteIdent(ctx.database)}.${quoteIdent(ctx.tableName)}` };
  const header = [
    `-- s3logs report queries for Athena (Trino), table ${full.table}, dt ${ctx.from} .. ${ctx.to}${ctx.bucket ? `, bucket ${ctx.bucket}` : ''}.`,
    `-- Cost figures are estimates from the price table (${ctx.prices.region}, ${ctx.prices.storageClass}, prices as of ${ctx.prices.asOf}).`,
    `-- Percentiles use approx_percentile (approximate); s3logs report computes them exactly.`,
  ];
  const statements = REPORT_QUERIES.map((q) => `-- ${q.section}/${q.id}: ${q.title}\n${q.sql(full)};`);
  return header.join('\n') + '\n\n' + statements.join('\n\n') + '\n';
}
