/**
 * Cost section: request counts by S3 pricing class and an estimate of request and transfer charges
 * from the price table (prices are written into the SQL, so Athena computes the same figures).
 */
import {
  classSumsSql,
  REQUEST_CLASS_LABELS,
  REQUEST_CLASSES,
  requestClassSql,
  requestCostSql,
  sqlDouble,
  TRANSFER_CLASS_LABELS,
  TRANSFER_CLASSES,
  transferClassSql,
  transferCostSql,
} from './prices.js';
import { col, quoteLiteral, rangeWhere, REQUESTER, SENT, type ReportQuery, type SqlContext } from './query.js';

/** Every row of the range with its pricing class, transfer class and bytes sent. */
function classified(ctx: SqlContext): string {
  return `WITH classified AS (
  SELECT bucket, ${REQUESTER} AS requester, operation,
    ${requestClassSql()} AS price_class,
    ${transferClassSql(ctx.prices)} AS transfer_class,
    ${SENT} AS sent
  FROM ${ctx.table}
  WHERE ${rangeWhere(ctx)}
)`;
}

const caseOf = (column: string, values: Record<string, string>): string =>
  `CASE ${column} ${Object.entries(values)
    .map(([k, v]) => `WHEN '${k}' THEN ${v}`)
    .join(' ')} END`;

function perClass<K extends string>(classes: readonly K[], value: (c: K) => string): Record<string, string> {
  return Object.fromEntries(classes.map((c) => [c, value(c)]));
}

/** Requests, bytes and cost per group (bucket or requester), top 10 by estimated total. */
function costBy(ctx: SqlContext, group: 'bucket' | 'requester'): string {
  return `${classified(ctx)},
per_group AS (
  SELECT ${group}, count(*) AS requests, sum(sent) AS bytes_sent, ${classSumsSql()}
  FROM classified
  GROUP BY ${group}
),
costed AS (
  SELECT ${group}, requests, bytes_sent, ${requestCostSql(ctx.prices)} AS request_cost, ${transferCostSql(ctx.prices)} AS transfer_cost
  FROM per_group
)
SELECT ${group}, requests, request_cost, bytes_sent, transfer_cost, request_cost + transfer_cost AS total_cost
FROM costed
ORDER BY 6 DESC, 1
LIMIT 10`;
}

const costColumns = (group: 'bucket' | 'requester') => [
  col(group, group === 'bucket' ? 'Bucket' : 'Requester'),
  col('requests', 'Requests', 'int'),
  col('request_cost', 'Request cost', 'usd'),
  col('bytes_sent', 'Bytes sent', 'bytes'),
  col('transfer_cost', 'Transfer cost', 'usd'),
  col('total_cost', 'Estimated total', 'usd'),
];

export const COST_QUERIES: readonly ReportQuery[] = [
  {
    id: 'cost_summary',
    section: 'cost',
    title: 'Estimated cost of the range',
    description:
      'Estimate: request charges by pricing class plus transfer out, from the price table; storage, free tier and discounts are not included.',
    columns: [
      col('requests', 'Requests', 'int'),
      col('request_cost', 'Request cost', 'usd'),
      col('bytes_sent', 'Bytes sent', 'bytes'),
      col('transfer_cost', 'Transfer cost', 'usd'),
      col('total_cost', 'Estimated total', 'usd'),
    ],
    chart: { kind: 'tiles' },
    sql: (ctx) => `${classified(ctx)},
sums AS (
  SELECT count(*) AS requests, COALESCE(sum(sent), 0) AS bytes_sent, ${classSumsSql()}
  FROM classified
),
costed AS (
  SELECT requests, bytes_sent, ${requestCostSql(ctx.prices)} AS request_cost, ${transferCostSql(ctx.prices)} AS transfer_cost
  FROM sums
)
SELECT requests, request_cost, bytes_sent, transfer_cost, request_cost + transfer_cost AS total_cost
FROM costed`,
  },
  {
    id: 'requests_by_class',
    section: 'cost',
    title: 'Requests by pricing class',
    description: 'Each operation mapped to its S3 request pricing class (table in docs/report.md), priced per 1,000 requests.',
    columns: [
      col('price_class', 'Class'),
      col('pricing', 'Billed as'),
      col('requests', 'Requests', 'int'),
      col('usd_per_1000', 'Price / 1,000', 'price'),
      col('request_cost', 'Estimated cost', 'usd'),
    ],
    chart: { kind: 'bars', label: ['pricing'], value: 'requests' },
    sql: (ctx) => {
      const price = caseOf(
        'price_class',
        perClass(REQUEST_CLASSES, (c) => sqlDouble(ctx.prices.requestsPer1000[c])),
      );
      const label = caseOf(
        'price_class',
        perClass(REQUEST_CLASSES, (c) => quoteLiteral(REQUEST_CLASS_LABELS[c])),
      );
      return `${classified(ctx)}
SELECT price_class, ${label} AS pricing, count(*) AS requests, ${price} AS usd_per_1000, CAST(count(*) AS DOUBLE) * ${price} / 1000 AS request_cost
FROM classified
GROUP BY price_class
ORDER BY 3 DESC, 1`;
    },
  },
  {
    id: 'operations_by_class',
    section: 'cost',
    title: 'Operations behind each class',
    description: 'Requests per operation within each pricing class, top 30.',
    columns: [col('price_class', 'Class'), col('operation', 'Operation'), col('requests', 'Requests', 'int')],
    sql: (ctx) => `${classified(ctx)}
SELECT price_class, COALESCE(operation, '(none)') AS operation, count(*) AS requests
FROM classified
GROUP BY 1, 2
ORDER BY 1, 3 DESC, 2
LIMIT 30`,
  },
  {
    id: 'transfer_by_class',
    section: 'cost',
    title: 'Bytes sent by transfer class',
    description:
      'Response bytes by destination: same region (sourceregion equals the price table region, or a private VPC address), another region, or the internet (everything else).',
    columns: [
      col('transfer_class', 'Class'),
      col('destination', 'Destination'),
      col('bytes_sent', 'Bytes sent', 'bytes'),
      col('usd_per_gb', 'Price / GB', 'price'),
      col('transfer_cost', 'Estimated cost', 'usd'),
    ],
    chart: { kind: 'bars', label: ['destination'], value: 'bytes_sent' },
    sql: (ctx) => {
      const price = caseOf(
        'transfer_class',
        perClass(TRANSFER_CLASSES, (c) => sqlDouble(ctx.prices.transferPerGB[c])),
      );
      const label = caseOf(
        'transfer_class',
        perClass(TRANSFER_CLASSES, (c) => quoteLiteral(TRANSFER_CLASS_LABELS[c])),
      );
      return `${classified(ctx)}
SELECT transfer_class, ${label} AS destination, sum(sent) AS bytes_sent, ${price} AS usd_per_gb, CAST(sum(sent) AS DOUBLE) * ${price} / 1073741824 AS transfer_cost
FROM classified
GROUP BY transfer_class
ORDER BY 3 DESC, 1`;
    },
  },
  {
    id: 'cost_by_requester',
    section: 'cost',
    title: 'Top contributors: requesters',
    description: 'Estimated request + transfer cost per requester, top 10.',
    columns: costColumns('requester'),
    chart: { kind: 'bars', label: ['requester'], value: 'total_cost' },
    sql: (ctx) => costBy(ctx, 'requester'),
  },
  {
    id: 'cost_by_bucket',
    section: 'cost',
    title: 'Top contributors: buckets',
    description: 'Estimated request + transfer cost per bucket.',
    columns: costColumns('bucket'),
    chart: { kind: 'bars', label: ['bucket'], value: 'total_cost' },
    sql: (ctx) => costBy(ctx, 'bucket'),
  },
];
