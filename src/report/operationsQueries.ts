/** Operations section: 4xx/5xx rates per hour, failed writes, 503 SlowDown, latency percentiles, slowest requests. */
import {
  col,
  countIf,
  percentile,
  PREFIX,
  rangeWhere,
  ratio,
  REQUESTER,
  SENT,
  SLOWDOWN,
  WRITE_OPERATION,
  zero,
  type ReportQuery,
} from './query.js';

const CLIENT_ERROR = 'httpstatus BETWEEN 400 AND 499';
const SERVER_ERROR = 'httpstatus BETWEEN 500 AND 599';

export const OPERATIONS_QUERIES: readonly ReportQuery[] = [
  {
    id: 'operations_summary',
    section: 'operations',
    title: 'At a glance',
    description: 'Error responses, throttling and failed writes over the whole range.',
    columns: [
      col('requests', 'Requests', 'int'),
      col('errors_4xx', '4xx', 'int'),
      col('errors_5xx', '5xx', 'int'),
      col('slowdowns', '503 SlowDown', 'int'),
      col('failed_writes', 'Failed writes', 'int'),
      col('p99_total_ms', 'p99 total time', 'ms'),
    ],
    chart: { kind: 'tiles' },
    sql: (ctx) => `SELECT count(*) AS requests,
  ${zero(countIf(CLIENT_ERROR))} AS errors_4xx,
  ${zero(countIf(SERVER_ERROR))} AS errors_5xx,
  ${zero(countIf(SLOWDOWN))} AS slowdowns,
  ${zero(countIf(`httpstatus >= 400 AND ${WRITE_OPERATION}`))} AS failed_writes,
  ${percentile(ctx, 'totaltime', 0.99)} AS p99_total_ms
FROM ${ctx.table}
WHERE ${rangeWhere(ctx)}`,
  },
  {
    id: 'error_rates',
    section: 'operations',
    title: '4xx and 5xx rates per hour (UTC)',
    description: "Share of each hour's requests answered with a 4xx or 5xx status.",
    columns: [
      col('dt', 'Day (dt)'),
      col('hour_utc', 'Hour', 'int'),
      col('requests', 'Requests', 'int'),
      col('errors_4xx', '4xx', 'int'),
      col('errors_5xx', '5xx', 'int'),
      col('rate_4xx', '4xx rate', 'ratio'),
      col('rate_5xx', '5xx rate', 'ratio'),
    ],
    chart: {
      kind: 'hourly',
      series: [
        { column: 'rate_4xx', label: '4xx rate' },
        { column: 'rate_5xx', label: '5xx rate' },
      ],
    },
    sql: (
      ctx,
    ) => `SELECT dt, hour_utc, requests, errors_4xx, errors_5xx, ${ratio('errors_4xx', 'requests')} AS rate_4xx, ${ratio('errors_5xx', 'requests')} AS rate_5xx
FROM (
  SELECT dt, hour(requestdatetime) AS hour_utc, count(*) AS requests, ${countIf(CLIENT_ERROR)} AS errors_4xx, ${countIf(SERVER_ERROR)} AS errors_5xx
  FROM ${ctx.table}
  WHERE ${rangeWhere(ctx)}
  GROUP BY 1, 2
) AS hourly
ORDER BY 1, 2`,
  },
  {
    id: 'failed_writes',
    section: 'operations',
    title: 'Failed PUT, POST, COPY, DELETE and multipart requests',
    description: 'Write operations (REST.PUT/POST/COPY/DELETE, multipart steps, batch deletes) answered with status >= 400, top 20.',
    columns: [
      col('bucket', 'Bucket'),
      col('operation', 'Operation'),
      col('httpstatus', 'Status', 'int'),
      col('errorcode', 'Error code'),
      col('requests', 'Requests', 'int'),
    ],
    chart: { kind: 'bars', label: ['bucket', 'errorcode'], value: 'requests' },
    sql: (ctx) => `SELECT bucket, operation, httpstatus, COALESCE(errorcode, '-') AS errorcode, count(*) AS requests
FROM ${ctx.table}
WHERE ${rangeWhere(ctx)} AND httpstatus >= 400 AND ${WRITE_OPERATION}
GROUP BY 1, 2, 3, 4
ORDER BY 5 DESC, 1, 2, 3, 4
LIMIT 20`,
  },
  {
    id: 'slowdown_by_prefix',
    section: 'operations',
    title: '503 SlowDown by prefix',
    description: 'Throttled requests by bucket and first key segment (S3 scales request rates per prefix), top 10.',
    columns: [
      col('bucket', 'Bucket'),
      col('prefix', 'Prefix'),
      col('slowdowns', 'SlowDown', 'int'),
      col('requests', 'Requests', 'int'),
      col('slowdown_rate', 'Share', 'ratio'),
    ],
    chart: { kind: 'bars', label: ['bucket', 'prefix'], value: 'slowdowns' },
    sql: (ctx) => `SELECT bucket, prefix, slowdowns, requests, ${ratio('slowdowns', 'requests')} AS slowdown_rate
FROM (
  SELECT bucket, ${PREFIX} AS prefix, ${countIf(SLOWDOWN)} AS slowdowns, count(*) AS requests
  FROM ${ctx.table}
  WHERE ${rangeWhere(ctx)}
  GROUP BY 1, 2
) AS per_prefix
WHERE slowdowns > 0
ORDER BY 3 DESC, 1, 2
LIMIT 10`,
  },
  {
    id: 'latency_by_operation',
    section: 'operations',
    title: 'Latency by operation (ms)',
    description:
      'Percentiles of totaltime (request in flight) and turnaroundtime (S3 processing) for the 12 busiest operations; exact nearest-rank in DuckDB, approx_percentile in Athena.',
    columns: [
      col('operation', 'Operation'),
      col('requests', 'Requests', 'int'),
      col('p50_total_ms', 'p50 total', 'ms'),
      col('p95_total_ms', 'p95 total', 'ms'),
      col('p99_total_ms', 'p99 total', 'ms'),
      col('p50_turnaround_ms', 'p50 turnaround', 'ms'),
      col('p95_turnaround_ms', 'p95 turnaround', 'ms'),
      col('p99_turnaround_ms', 'p99 turnaround', 'ms'),
    ],
    chart: { kind: 'bars', label: ['operation'], value: 'p95_total_ms' },
    sql: (ctx) => `SELECT operation, count(*) AS requests,
  ${percentile(ctx, 'totaltime', 0.5)} AS p50_total_ms, ${percentile(ctx, 'totaltime', 0.95)} AS p95_total_ms, ${percentile(ctx, 'totaltime', 0.99)} AS p99_total_ms,
  ${percentile(ctx, 'turnaroundtime', 0.5)} AS p50_turnaround_ms, ${percentile(ctx, 'turnaroundtime', 0.95)} AS p95_turnaround_ms, ${percentile(ctx, 'turnaroundtime', 0.99)} AS p99_turnaround_ms
FROM ${ctx.table}
WHERE ${rangeWhere(ctx)} AND operation IS NOT NULL AND totaltime IS NOT NULL
GROUP BY 1
ORDER BY 2 DESC, 1
LIMIT 12`,
  },
  {
    id: 'slowest_requests',
    section: 'operations',
    title: 'Slowest requests',
    description: 'The 10 requests with the highest totaltime.',
    columns: [
      col('requestdatetime', 'Time (UTC)', 'time'),
      col('bucket', 'Bucket'),
      col('operation', 'Operation'),
      col('object_key', 'Key'),
      col('httpstatus', 'Status', 'int'),
      col('bytes_sent', 'Bytes sent', 'bytes'),
      col('totaltime', 'Total', 'ms'),
      col('turnaroundtime', 'Turnaround', 'ms'),
      col('requester', 'Requester'),
    ],
    sql: (
      ctx,
    ) => `SELECT requestdatetime, bucket, operation, key_decoded AS object_key, httpstatus, ${SENT} AS bytes_sent, totaltime, turnaroundtime, ${REQUESTER} AS requester
FROM ${ctx.table}
WHERE ${rangeWhere(ctx)} AND totaltime IS NOT NULL
ORDER BY totaltime DESC, requestdatetime, requestid, bucket
LIMIT 10`,
  },
];
