/** Usage section: most requested objects and prefixes, top requesters, bytes out, requests per hour. */
import { col, PREFIX, rangeWhere, REQUESTER, SENT, type ReportQuery } from './query.js';

export const USAGE_QUERIES: readonly ReportQuery[] = [
  {
    id: 'requests_per_hour',
    section: 'usage',
    title: 'Requests per hour (UTC)',
    description: 'Every request of the range by hour of requestdatetime.',
    columns: [
      col('dt', 'Day (dt)'),
      col('hour_utc', 'Hour', 'int'),
      col('requests', 'Requests', 'int'),
      col('bytes_sent', 'Bytes sent', 'bytes'),
    ],
    chart: { kind: 'hourly', series: [{ column: 'requests', label: 'requests' }] },
    sql: (ctx) => `SELECT dt, hour(requestdatetime) AS hour_utc, count(*) AS requests, sum(${SENT}) AS bytes_sent
FROM ${ctx.table}
WHERE ${rangeWhere(ctx)}
GROUP BY 1, 2
ORDER BY 1, 2`,
  },
  {
    id: 'top_objects',
    section: 'usage',
    title: 'Most requested objects',
    description: 'Requests naming an object key (any operation), top 10 by requests.',
    columns: [
      col('bucket', 'Bucket'),
      col('object_key', 'Key'),
      col('requests', 'Requests', 'int'),
      col('bytes_sent', 'Bytes sent', 'bytes'),
    ],
    chart: { kind: 'bars', label: ['object_key'], value: 'requests' },
    sql: (ctx) => `SELECT bucket, key_decoded AS object_key, count(*) AS requests, sum(${SENT}) AS bytes_sent
FROM ${ctx.table}
WHERE ${rangeWhere(ctx)} AND key_decoded IS NOT NULL
GROUP BY 1, 2
ORDER BY 3 DESC, 1, 2
LIMIT 10`,
  },
  {
    id: 'top_prefixes',
    section: 'usage',
    title: 'Most requested prefixes',
    description: 'Requests by bucket and first key segment, top 10 by requests.',
    columns: [
      col('bucket', 'Bucket'),
      col('prefix', 'Prefix'),
      col('requests', 'Requests', 'int'),
      col('bytes_sent', 'Bytes sent', 'bytes'),
    ],
    chart: { kind: 'bars', label: ['bucket', 'prefix'], value: 'requests' },
    sql: (ctx) => `SELECT bucket, ${PREFIX} AS prefix, count(*) AS requests, sum(${SENT}) AS bytes_sent
FROM ${ctx.table}
WHERE ${rangeWhere(ctx)}
GROUP BY 1, 2
ORDER BY 3 DESC, 1, 2
LIMIT 10`,
  },
  {
    id: 'top_requesters',
    section: 'usage',
    title: 'Top requesters',
    description: 'Requests by requester (IAM ARN or canonical ID; anonymous when none), top 10.',
    columns: [
      col('requester', 'Requester'),
      col('requests', 'Requests', 'int'),
      col('bytes_sent', 'Bytes sent', 'bytes'),
      col('remote_ips', 'Remote IPs', 'int'),
    ],
    chart: { kind: 'bars', label: ['requester'], value: 'requests' },
    sql: (
      ctx,
    ) => `SELECT ${REQUESTER} AS requester, count(*) AS requests, sum(${SENT}) AS bytes_sent, count(DISTINCT remoteip) AS remote_ips
FROM ${ctx.table}
WHERE ${rangeWhere(ctx)}
GROUP BY 1
ORDER BY 2 DESC, 1
LIMIT 10`,
  },
  {
    id: 'bytes_by_bucket',
    section: 'usage',
    title: 'Bytes sent per bucket',
    description: 'Response bytes (bytessent) per bucket.',
    columns: [col('bucket', 'Bucket'), col('bytes_sent', 'Bytes sent', 'bytes'), col('requests', 'Requests', 'int')],
    chart: { kind: 'bars', label: ['bucket'], value: 'bytes_sent' },
    sql: (ctx) => `SELECT bucket, sum(${SENT}) AS bytes_sent, count(*) AS requests
FROM ${ctx.table}
WHERE ${rangeWhere(ctx)}
GROUP BY 1
ORDER BY 2 DESC, 1
LIMIT 50`,
  },
  {
    id: 'bytes_by_prefix',
    section: 'usage',
    title: 'Bytes sent per prefix',
    description: 'Response bytes by bucket and first key segment, top 10.',
    columns: [
      col('bucket', 'Bucket'),
      col('prefix', 'Prefix'),
      col('bytes_sent', 'Bytes sent', 'bytes'),
      col('requests', 'Requests', 'int'),
    ],
    chart: { kind: 'bars', label: ['bucket', 'prefix'], value: 'bytes_sent' },
    sql: (ctx) => `SELECT bucket, ${PREFIX} AS prefix, sum(${SENT}) AS bytes_sent, count(*) AS requests
FROM ${ctx.table}
WHERE ${rangeWhere(ctx)}
GROUP BY 1, 2
ORDER BY 3 DESC, 1, 2
LIMIT 10`,
  },
];
