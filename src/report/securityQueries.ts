/** Security section: denied, anonymous, plain-HTTP / old-TLS / SigV2 requests, requesters new in the range. */
import {
  col,
  countIf,
  DENIED,
  OLD_TLS,
  PLAIN_HTTP,
  PREFIX,
  quoteLiteral,
  rangeWhere,
  REMOTE_IP,
  REQUESTER,
  SENT,
  SIGV2,
  zero,
  type ReportQuery,
} from './query.js';

export const SECURITY_QUERIES: readonly ReportQuery[] = [
  {
    id: 'security_summary',
    section: 'security',
    title: 'At a glance',
    description:
      'All requests in range; denied = HTTP 403; anonymous = no requester; plain HTTP, old TLS (< TLSv1.2) and SigV2 as defined in docs/report.md.',
    columns: [
      col('requests', 'Requests', 'int'),
      col('denied', 'Denied (403)', 'int'),
      col('anonymous', 'Anonymous', 'int'),
      col('plain_http', 'Plain HTTP', 'int'),
      col('old_tls', 'TLS < 1.2', 'int'),
      col('sigv2', 'SigV2', 'int'),
      col('requesters', 'Requesters', 'int'),
      col('remote_ips', 'Remote IPs', 'int'),
    ],
    chart: { kind: 'tiles' },
    sql: (ctx) => `SELECT count(*) AS requests,
  ${zero(countIf(DENIED))} AS denied,
  ${zero(countIf('requester IS NULL'))} AS anonymous,
  ${zero(countIf(PLAIN_HTTP))} AS plain_http,
  ${zero(countIf(OLD_TLS))} AS old_tls,
  ${zero(countIf(SIGV2))} AS sigv2,
  count(DISTINCT requester) AS requesters,
  count(DISTINCT remoteip) AS remote_ips
FROM ${ctx.table}
WHERE ${rangeWhere(ctx)}`,
  },
  {
    id: 'denied_by_requester',
    section: 'security',
    title: 'Denied requests by requester',
    description: 'HTTP 403 responses (AccessDenied and other authorization failures), top 10 requesters.',
    columns: [col('requester', 'Requester'), col('denied', 'Denied', 'int'), col('remote_ips', 'Remote IPs', 'int')],
    chart: { kind: 'bars', label: ['requester'], value: 'denied' },
    sql: (ctx) => `SELECT ${REQUESTER} AS requester, count(*) AS denied, count(DISTINCT remoteip) AS remote_ips
FROM ${ctx.table}
WHERE ${rangeWhere(ctx)} AND ${DENIED}
GROUP BY 1
ORDER BY 2 DESC, 1
LIMIT 10`,
  },
  {
    id: 'denied_by_ip',
    section: 'security',
    title: 'Denied requests by remote IP',
    description: 'HTTP 403 responses, top 10 source addresses, and how many of them carried no credentials.',
    columns: [col('remote_ip', 'Remote IP'), col('denied', 'Denied', 'int'), col('anonymous', 'Of which anonymous', 'int')],
    chart: { kind: 'bars', label: ['remote_ip'], value: 'denied' },
    sql: (ctx) => `SELECT ${REMOTE_IP} AS remote_ip, count(*) AS denied, ${countIf('requester IS NULL')} AS anonymous
FROM ${ctx.table}
WHERE ${rangeWhere(ctx)} AND ${DENIED}
GROUP BY 1
ORDER BY 2 DESC, 1
LIMIT 10`,
  },
  {
    id: 'denied_by_prefix',
    section: 'security',
    title: 'Denied requests by key prefix',
    description: 'HTTP 403 responses by bucket and first key segment, top 10.',
    columns: [col('bucket', 'Bucket'), col('prefix', 'Prefix'), col('denied', 'Denied', 'int')],
    chart: { kind: 'bars', label: ['bucket', 'prefix'], value: 'denied' },
    sql: (ctx) => `SELECT bucket, ${PREFIX} AS prefix, count(*) AS denied
FROM ${ctx.table}
WHERE ${rangeWhere(ctx)} AND ${DENIED}
GROUP BY 1, 2
ORDER BY 3 DESC, 1, 2
LIMIT 10`,
  },
  {
    id: 'anonymous_requests',
    section: 'security',
    title: 'Anonymous requests',
    description: 'Requests without credentials (requester null) by bucket and operation, top 10.',
    columns: [
      col('bucket', 'Bucket'),
      col('operation', 'Operation'),
      col('requests', 'Requests', 'int'),
      col('denied', 'Denied', 'int'),
      col('bytes_sent', 'Bytes sent', 'bytes'),
    ],
    chart: { kind: 'bars', label: ['bucket', 'operation'], value: 'requests' },
    sql: (ctx) => `SELECT bucket, operation, count(*) AS requests, ${countIf(DENIED)} AS denied, sum(${SENT}) AS bytes_sent
FROM ${ctx.table}
WHERE ${rangeWhere(ctx)} AND requester IS NULL
GROUP BY 1, 2
ORDER BY 3 DESC, 1, 2
LIMIT 10`,
  },
  {
    id: 'weak_transport',
    section: 'security',
    title: 'Plain HTTP, old TLS and SigV2',
    description: 'Who still uses plain HTTP, TLS older than 1.2 or Signature Version 2, top 20 (issue, bucket, requester).',
    columns: [
      col('issue', 'Issue'),
      col('bucket', 'Bucket'),
      col('requester', 'Requester'),
      col('requests', 'Requests', 'int'),
      col('remote_ips', 'Remote IPs', 'int'),
    ],
    chart: { kind: 'bars', label: ['issue', 'requester'], value: 'requests' },
    sql: (ctx) => {
      const part = (issue: string, condition: string): string =>
        `SELECT '${issue}' AS issue, bucket, ${REQUESTER} AS requester, count(*) AS requests, count(DISTINCT remoteip) AS remote_ips
FROM ${ctx.table}
WHERE ${rangeWhere(ctx)} AND ${condition}
GROUP BY 1, 2, 3`;
      return `SELECT * FROM (
${part('plain HTTP', PLAIN_HTTP)}
UNION ALL
${part('TLS < 1.2', OLD_TLS)}
UNION ALL
${part('SigV2', SIGV2)}
) AS weak
ORDER BY requests DESC, issue, bucket, requester
LIMIT 20`;
    },
  },
  {
    id: 'new_requesters',
    section: 'security',
    title: 'Requesters new in the range',
    description:
      'Authenticated requesters whose first request in the range is after its first day (not seen on any earlier day of the range), top 20, newest first.',
    columns: [
      col('requester', 'Requester'),
      col('first_seen', 'First seen (dt)'),
      col('requests', 'Requests', 'int'),
      col('denied', 'Denied', 'int'),
      col('remote_ips', 'Remote IPs', 'int'),
    ],
    sql: (
      ctx,
    ) => `SELECT requester, min(dt) AS first_seen, count(*) AS requests, ${countIf(DENIED)} AS denied, count(DISTINCT remoteip) AS remote_ips
FROM ${ctx.table}
WHERE ${rangeWhere(ctx)} AND requester IS NOT NULL
GROUP BY requester
HAVING min(dt) > ${quoteLiteral(ctx.from)}
ORDER BY 2 DESC, 3 DESC, 1
LIMIT 20`,
  },
];
