/**
 * The report's cost model: which S3 request pricing class each logged operation falls in, how sent
 * bytes are classed for transfer, and the price table (defaults: us-east-1 S3 Standard list prices,
 * overridable with `--prices prices.json`). Everything here is an estimate; docs/report.md says why.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';

export const REQUEST_CLASSES = ['tier1', 'tier2', 'transition', 'free'] as const;
export type RequestClass = (typeof REQUEST_CLASSES)[number];

export const TRANSFER_CLASSES = ['internet', 'inter_region', 'same_region'] as const;
export type TransferClass = (typeof TRANSFER_CLASSES)[number];

export const REQUEST_CLASS_LABELS: Record<RequestClass, string> = {
  tier1: 'PUT, COPY, POST, LIST',
  tier2: 'GET, SELECT and all other',
  transition: 'Lifecycle transition',
  free: 'DELETE, CANCEL, expiry, copy source (free)',
};

export const TRANSFER_CLASS_LABELS: Record<TransferClass, string> = {
  internet: 'Out to the internet',
  inter_region: 'To another AWS region',
  same_region: 'Within the region / VPC endpoint (free)',
};

/**
 * Operation → pricing class, first match wins; a pattern with `%` is a SQL LIKE, otherwise equality.
 * Anything unmatched (including a null operation) is tier2, which is how S3 bills "all other requests".
 */
export const OPERATION_CLASS_RULES: ReadonlyArray<{ patterns: readonly string[]; cls: RequestClass; why: string }> = [
  {
    patterns: ['REST.COPY.OBJECT_GET', 'REST.COPY.PART_GET'],
    cls: 'free',
    why: 'source side of a copy; the copy is billed once, as the COPY record',
  },
  {
    patterns: ['REST.DELETE.%', 'BATCH.DELETE.%', 'REST.POST.MULTI_OBJECT_DELETE'],
    cls: 'free',
    why: 'DELETE and CANCEL (abort multipart upload) requests are free',
  },
  { patterns: ['S3.TRANSITION%'], cls: 'transition', why: 'lifecycle transitions are billed per request by the target storage class' },
  { patterns: ['S3.%'], cls: 'free', why: 'lifecycle expiry and delete markers are free' },
  { patterns: ['%SELECT%'], cls: 'tier2', why: 'SELECT is billed with GET (scanned bytes are not in the log)' },
  {
    patterns: [
      'REST.PUT.%',
      'REST.POST.%',
      'REST.COPY.%',
      'REST.GET.BUCKET',
      'REST.GET.BUCKETVERSIONS',
      'REST.GET.UPLOADS',
      'REST.GET.UPLOAD',
      'REST.GET.SERVICE',
    ],
    cls: 'tier1',
    why: 'PUT, COPY, POST and LIST (ListObjects, ListObjectVersions, ListMultipartUploads, ListParts, ListBuckets)',
  },
];

export interface PriceTable {
  readonly currency: string;
  /** Region of the logged buckets: requests whose sourceregion equals it transfer for free. */
  readonly region: string;
  readonly storageClass: string;
  /** Date the default prices were copied from the AWS price page. */
  readonly asOf: string;
  readonly requestsPer1000: Readonly<Record<RequestClass, number>>;
  /** Per GB of 2^30 bytes, as AWS bills. */
  readonly transferPerGB: Readonly<Record<TransferClass, number>>;
}

/** us-east-1, S3 Standard, public list prices (aws.amazon.com/s3/pricing), no free tier or volume discounts. */
export const DEFAULT_PRICES: PriceTable = {
  currency: 'USD',
  region: 'us-east-1',
  storageClass: 'S3 Standard',
  asOf: '2026-11-25',
  requestsPer1000: { tier1: 0.005, tier2: 0.0004, transition: 0.01, free: 0 },
  transferPerGB: { internet: 0.09, inter_region: 0.02, same_region: 0 },
};

const sqlString = (text: string): string => `'${text.replace(/'/g, "''")}'`;
/** Prices go into SQL as DOUBLE so both engines do the same IEEE arithmetic (bare 0.005 is DECIMAL). */
export const sqlDouble = (n: number): string => `CAST(${String(n)} AS DOUBLE)`;

function matchSql(pattern: string): string {
  return pattern.includes('%') ? `operation LIKE ${sqlString(pattern)}` : `operation = ${sqlString(pattern)}`;
}

/** SQL CASE giving the pricing class of a row from its operation. */
export function requestClassSql(): string {
  const whens = OPERATION_CLASS_RULES.map((r) => `WHEN ${r.patterns.map(matchSql).join(' OR ')} THEN '${r.cls}'`);
  return `CASE ${whens.join(' ')} ELSE 'tier2' END`;
}

/** RFC 1918 sources reach S3 through a VPC gateway endpoint, which is in-region and free. */
function privateIpSql(): string {
  const nets = ["remoteip LIKE '10.%'", "remoteip LIKE '192.168.%'"];
  for (let n = 16; n <= 31; n++) nets.push(`remoteip LIKE '172.${n}.%'`);
  return `(${nets.join(' OR ')})`;
}

/** SQL CASE giving the transfer class of a row: sourceregion first, then private addresses, else internet. */
export function transferClassSql(prices: PriceTable): string {
  return (
    `CASE WHEN sourceregion = ${sqlString(prices.region)} THEN 'same_region' ` +
    `WHEN sourceregion IS NOT NULL THEN 'inter_region' ` +
    `WHEN ${privateIpSql()} THEN 'same_region' ELSE 'internet' END`
  );
}

const GIB = 1073741824;

/**
 * Request cost from per-class count columns named `n_<class>`, and transfer cost from per-class byte
 * columns `b_<class>`: integer sums times a price, added in a fixed order so results are reproducible.
 */
export function requestCostSql(prices: PriceTable): string {
  return REQUEST_CLASSES.map((c) => `CAST(n_${c} AS DOUBLE) * ${sqlDouble(prices.requestsPer1000[c])} / 1000`).join(' + ');
}

export function transferCostSql(prices: PriceTable): string {
  return TRANSFER_CLASSES.map((c) => `CAST(b_${c} AS DOUBLE) * ${sqlDouble(prices.transferPerGB[c])} / ${GIB}`).join(' + ');
}

/** Per-class count and byte sums over rows carrying `price_class`, `transfer_class` and `sent`. */
export function classSumsSql(): string {
  return [
    ...REQUEST_CLASSES.map((c) => `COALESCE(sum(CASE WHEN price_class = '${c}' THEN 1 ELSE 0 END), 0) AS n_${c}`),
    ...TRANSFER_CLASSES.map((c) => `COALESCE(sum(CASE WHEN transfer_class = '${c}' THEN sent ELSE 0 END), 0) AS b_${c}`),
  ].join(', ');
}

function checkPrices(value: unknown, keys: readonly string[], where: string): Record<string, number> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError(`--prices: ${where} must be an object`, '--prices');
  for (const [k, v] of Object.entries(value)) {
    if (!keys.includes(k)) throw new ConfigError(`--prices: unknown key ${where}.${k}; known: ${keys.join(', ')}`, '--prices');
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new ConfigError(`--prices: ${where}.${k} must be a number >= 0`, '--prices');
  }
  return value as Record<string, number>;
}

/** Reads a price file; any key it leaves out keeps its default. Unknown keys are errors (typos). */
export function parsePrices(text: string, source: string): PriceTable {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`--prices ${source} is not valid JSON: ${(error as Error).message}`, '--prices');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new ConfigError(`--prices ${source} must hold a JSON object`, '--prices');
  const o = json as Record<string, unknown>;
  const known = ['currency', 'region', 'storageClass', 'asOf', 'requestsPer1000', 'transferPerGB'];
  for (const k of Object.keys(o))
    if (!known.includes(k)) throw new ConfigError(`--prices: unknown key ${k}; known: ${known.join(', ')}`, '--prices');
  for (const k of ['currency', 'region', 'storageClass', 'asOf'] as const) {
    if (o[k] !== undefined && (typeof o[k] !== 'string' || !/^[\w .:/-]{1,64}$/.test(o[k] as string)))
      throw new ConfigError(`--prices: ${k} must be a short string`, '--prices');
  }
  const requests = o.requestsPer1000 === undefined ? {} : checkPrices(o.requestsPer1000, REQUEST_CLASSES, 'requestsPer1000');
  const transfer = o.transferPerGB === undefined ? {} : checkPrices(o.transferPerGB, TRANSFER_CLASSES, 'transferPerGB');
  return {
    currency: (o.currency as string | undefined) ?? DEFAULT_PRICES.currency,
    region: (o.region as string | undefined) ?? DEFAULT_PRICES.region,
    storageClass: (o.storageClass as string | undefined) ?? DEFAULT_PRICES.storageClass,
    asOf: (o.asOf as string | undefined) ?? `${source} (defaults from ${DEFAULT_PRICES.asOf})`,
    requestsPer1000: { ...DEFAULT_PRICES.requestsPer1000, ...requests },
    transferPerGB: { ...DEFAULT_PRICES.transferPerGB, ...transfer },
  };
}

export async function loadPrices(path: string | undefined): Promise<PriceTable> {
  if (path === undefined) return DEFAULT_PRICES;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `--prices ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      '--prices',
    );
  }
  return parsePrices(text, path);
}
