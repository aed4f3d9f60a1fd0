/** `s3logs doctor` flags → validated config, purely (no network). */
import type { AwsOptions } from '../aws/config.js';
import { parseAwsFlags } from '../config.js';
import { ConfigError } from '../errors.js';
import { FlagValues } from '../flags/read.js';
import { FLAGS } from '../flags/table.js';
import { parseLocation } from '../location.js';
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

export function parseDoctorConfig(argv: string[]): DoctorConfig {
  const values = FlagValues.fromArgv('doctor', argv);
  const sourceUri = values.text(FLAGS.doctorSource);
  const dest = values.text(FLAGS.doctorDest);
  if (!sourceUri)
    throw new ConfigError('--source is required: where S3 delivers the raw logs, e.g. --source s3://my-log-bucket/logs/', '--source');
  if (!dest) throw new ConfigError('--dest is required: where convert writes Parquet, e.g. --dest s3://my-lake/access-logs/', '--dest');
  const source = parseLocation(sourceUri, '--source');
  if (source.kind !== 's3') {
    throw new ConfigError(
      `--source ${sourceUri} is not an S3 URI; doctor checks S3 server access logging, so pass the log bucket as s3://bucket/prefix/`,
      '--source',
    );
  }
  parseLocation(dest, '--dest');
  const catalog = values.value(FLAGS.doctorCatalog);
  const bucket = values.optional(FLAGS.doctorBucket);
  if (values.given(FLAGS.sse))
    throw new ConfigError('--sse does not apply to `s3logs doctor` (its probe object is removed again)', '--sse');
  return {
    source: sourceUri,
    logBucket: source.bucket,
    logPrefix: source.prefix,
    dest,
    ...(bucket ? { bucket } : {}),
    catalog,
    database: values.optional(FLAGS.database) ?? DEFAULT_DATABASE,
    table: values.optional(FLAGS.table) ?? DEFAULT_TABLE,
    json: values.flag(FLAGS.doctorJson),
    aws: parseAwsFlags(values).aws,
  };
}
