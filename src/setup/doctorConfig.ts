/** `s3logs doctor` flags → validated config, purely (no network). */
import type { ParseArgsConfig } from 'node:util';
import type { AwsOptions } from '../aws/config.js';
import { AWS_FLAGS, parseAwsFlags, parseFlags } from '../config.js';
import { ConfigError } from '../errors.js';
import { parseLocation } from '../locations.js';
import { DEFAULT_DATABASE, DEFAULT_TABLE } from '../schema/table.js';

export interface DoctorConfig {
  /** Raw logs: the log bucket and the prefix S3 delivers under (as convert's --source). */
  readonly source: string;
  readonly logBucket: string;
  readonly logPrefix: string;
  readonly dest: string;
  /** The logged bucket, when given; otherwise derived from date-based keys under --source. */
  readonly bucket?: string;
  readonly catalog: 'local' | 'glue' | 'none';
  readonly database: string;
  readonly table: string;
  readonly json: boolean;
  readonly aws: AwsOptions;
}

export const DOCTOR_FLAGS = {
  source: { type: 'string' },
  dest: { type: 'string' },
  bucket: { type: 'string' },
  catalog: { type: 'string' },
  database: { type: 'string' },
  table: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...AWS_FLAGS,
} as const satisfies NonNullable<ParseArgsConfig['options']>;

export function parseDoctorConfig(argv: string[]): DoctorConfig {
  const values = parseFlags(argv, DOCTOR_FLAGS, 'doctor');
  if (!values.source) throw new ConfigError('--source is required: where S3 delivers the raw logs, e.g. --source s3://my-log-bucket/logs/', '--source');
  if (!values.dest) throw new ConfigError('--dest is required: where convert writes Parquet, e.g. --dest s3://my-lake/access-logs/', '--dest');
  const source = parseLocation(values.source, '--source');
  if (source.kind !== 's3') {
    throw new ConfigError(`--source ${values.source} is not an S3 URI; doctor checks S3 server access logging, so pass the log bucket as s3://bucket/prefix/`, '--source');
  }
  parseLocation(values.dest, '--dest');
  const catalog = values.catalog ?? 'local';
  if (catalog !== 'local' && catalog !== 'glue' && catalog !== 'none') {
    throw new ConfigError(`--catalog must be one of local, glue, none, got ${JSON.stringify(catalog)}`, '--catalog');
  }
  if (values.bucket !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/.test(values.bucket)) {
    throw new ConfigError(`--bucket ${JSON.stringify(values.bucket)} is not a bucket name; pass the bucket whose requests are logged`, '--bucket');
  }
  if (values.sse !== undefined) throw new ConfigError('--sse does not apply to `s3logs doctor` (its probe object is removed again)', '--sse');
  return {
    source: values.source,
    logBucket: source.bucket,
    logPrefix: source.prefix,
    dest: values.dest,
    ...(values.bucket ? { bucket: values.bucket } : {}),
    catalog,
    database: values.database ?? DEFAULT_DATABASE,
    table: values.table ?? DEFAULT_TABLE,
    json: values.json ?? false,
    aws: parseAwsFlags(values).aws,
  };
}
