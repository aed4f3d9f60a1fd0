/**
 * The source bucket's logging configuration (PutBucketLogging): target bucket, prefix and key format.
 * Date-based partitioned keys with EventTime are the default: a key date is then one listing per
 * logged bucket instead of a scan through every delivered object name (docs/logging.md).
 */
import type { LoggingEnabled, TargetObjectKeyFormat } from '@aws-sdk/client-s3';

export type KeyFormat = 'simple' | 'partitioned';
export type PartitionDate = 'event' | 'delivery';

export interface LoggingTarget {
  readonly logBucket: string;
  readonly logPrefix: string;
  readonly keyFormat: KeyFormat;
  readonly partitionDate: PartitionDate;
}

export function targetKeyFormat(t: Pick<LoggingTarget, 'keyFormat' | 'partitionDate'>): TargetObjectKeyFormat {
  return t.keyFormat === 'simple'
    ? { SimplePrefix: {} }
    : { PartitionedPrefix: { PartitionDateSource: t.partitionDate === 'event' ? 'EventTime' : 'DeliveryTime' } };
}

/** The wanted configuration; grants already on the current one are kept (we never drop access). */
export function wantedLogging(t: LoggingTarget, current: LoggingEnabled | undefined): LoggingEnabled {
  return {
    TargetBucket: t.logBucket,
    TargetPrefix: t.logPrefix,
    ...(current?.TargetGrants?.length ? { TargetGrants: current.TargetGrants } : {}),
    TargetObjectKeyFormat: targetKeyFormat(t),
  };
}

/** Key format as a short phrase; a configuration without one is S3's default, the simple format. */
export function describeKeyFormat(format: TargetObjectKeyFormat | undefined): string {
  const source = format?.PartitionedPrefix?.PartitionDateSource;
  if (format?.PartitionedPrefix) return `date-based partitioned (${source ?? 'EventTime'})`;
  return 'simple';
}

export function sameLogging(current: LoggingEnabled | undefined, wanted: LoggingEnabled): boolean {
  if (!current) return false;
  return (
    current.TargetBucket === wanted.TargetBucket &&
    (current.TargetPrefix ?? '') === (wanted.TargetPrefix ?? '') &&
    describeKeyFormat(current.TargetObjectKeyFormat) === describeKeyFormat(wanted.TargetObjectKeyFormat)
  );
}

/** JSON-friendly view of a logging configuration for --dry-run and change reports. */
export function loggingJson(config: LoggingEnabled | undefined): unknown {
  if (!config) return { LoggingEnabled: null };
  const { TargetBucket, TargetPrefix, TargetGrants, TargetObjectKeyFormat } = config;
  return {
    LoggingEnabled: {
      TargetBucket,
      TargetPrefix,
      ...(TargetGrants?.length ? { TargetGrants } : {}),
      TargetObjectKeyFormat: TargetObjectKeyFormat ?? { SimplePrefix: {} },
    },
  };
}
