/**
 * `s3logs compact`: rewrite the small files of the partitions of a dt range into as few files as
 * --target-file-mb allows (src/stages/compact.ts); every row stays exactly once.
 */
import { AWS_FLAGS, dateRange, parseAwsFlags, parseFlags } from '../config.js';
import { ConfigError } from '../errors.js';
import { openDest } from '../locations.js';
import { withShutdownSignals } from '../signals.js';
import { compactRange, DEFAULT_TARGET_FILE_MB, type CompactSummary } from '../stages/compact.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { EXIT_LOCKED } from './convert.js';

export const COMPACT_FLAGS = {
  dest: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  'target-file-mb': { type: 'string' },
  'row-group-rows': { type: 'string' },
  'lock-wait-seconds': { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  ...AWS_FLAGS,
} as const;

/** Default wait for the lock of a key date a run is publishing right now. */
const DEFAULT_LOCK_WAIT_SECONDS = 30;

export interface CompactConfig {
  readonly dest: string;
  readonly from: string;
  readonly to: string;
  readonly targetBytes: number;
  readonly rowGroupRows: number;
  readonly lockWaitMs: number;
}

/** --target-file-mb: MiB of Parquet per file (fractions allowed, for tests and small lakes). */
export function targetFileBytes(value: string | undefined): number {
  if (value === undefined) return DEFAULT_TARGET_FILE_MB * 1024 * 1024;
  const mb = Number(value);
  if (value.trim() === '' || !Number.isFinite(mb) || mb < 0.01 || mb > 4096) {
    throw new ConfigError(`--target-file-mb must be a number of MiB from 0.01 to 4096 (default ${DEFAULT_TARGET_FILE_MB}), got ${JSON.stringify(value)}`, '--target-file-mb');
  }
  return Math.round(mb * 1024 * 1024);
}

function wholeNumber(value: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new ConfigError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`, flag);
  return Number(value);
}

export async function runCompact(argv: string[]): Promise<number> {
  const values = parseFlags(argv, COMPACT_FLAGS, 'compact');
  if (!values.dest) throw new ConfigError('--dest is required, e.g. --dest s3://my-lake/access-logs/ or ./lake', '--dest');
  if (!values.from) throw new ConfigError('--from is required (first dt partition to compact), e.g. --from 2024-01-01', '--from');
  const days = dateRange(values.from, values.to, '--from', '--to');
  const aws = parseAwsFlags(values);
  const config: CompactConfig = {
    dest: values.dest,
    from: days[0]!,
    to: days[days.length - 1]!,
    targetBytes: targetFileBytes(values['target-file-mb']),
    rowGroupRows: wholeNumber(values['row-group-rows'], '--row-group-rows', 250_000, 1, 1_000_000_000),
    lockWaitMs: wholeNumber(values['lock-wait-seconds'], '--lock-wait-seconds', DEFAULT_LOCK_WAIT_SECONDS, 0, 86_400) * 1000,
  };
  const dest = await openDest(config.dest, { ...aws, aws: aws.aws });
  try {
    return await withShutdownSignals(async (signal) => {
      const summary = await compact(dest, config, signal, values.quiet || values.json ? undefined : (line) => process.stderr.write(line + '\n'));
      if (values.json) process.stdout.write(JSON.stringify(summary) + '\n');
      process.stderr.write(formatCompactSummary(summary, config, values.quiet ?? false));
      return compactExitCode(summary);
    });
  } finally {
    await dest.close?.();
  }
}

export async function compact(dest: import('../storage/Storage.js').Storage, config: CompactConfig, signal?: AbortSignal, progress?: (line: string) => void): Promise<CompactSummary> {
  return compactRange(dest, config.from, config.to, {
    targetBytes: config.targetBytes,
    writeOptions: { compression: 'zstd', rowGroupRows: config.rowGroupRows, createdBy: `${TOOL_NAME} ${TOOL_VERSION}` },
    concurrency: 16,
    lockWaitMs: config.lockWaitMs,
    ...(signal ? { signal } : {}),
    ...(progress
      ? {
          onPartition: (r) => {
            if (r.status === 'compacted') progress(`progress: bucket=${r.bucket}/dt=${r.dt}: ${r.filesBefore} files → ${r.filesAfter}, ${r.rowsAfter.toLocaleString('en-US')} rows`);
          },
        }
      : {}),
  });
}

/** 0 all good; 75 only locks other live runs hold; 1 anything else failed. */
export function compactExitCode(summary: CompactSummary): number {
  if (summary.ok) return 0;
  return summary.results.every((r) => r.status !== 'failed' || r.errorCode === 'locked') ? EXIT_LOCKED : 1;
}

export function formatCompactSummary(summary: CompactSummary, config: Pick<CompactConfig, 'dest' | 'from' | 'to'>, onlyErrors = false): string {
  const lines: string[] = [];
  const n = (value: number) => value.toLocaleString('en-US');
  const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
  for (const r of summary.results) if (r.status === 'failed') lines.push(`bucket=${r.bucket}/dt=${r.dt}: failed (${r.errorCode}): ${r.reason}`);
  if (!onlyErrors) {
    const p = summary.partitions;
    lines.push(
      `compact ${config.dest} dt ${config.from}..${config.to}: ${p.lookedAt} partitions looked at, ${p.compacted} compacted, ${p.skipped} skipped${p.failed ? `, ${p.failed} failed` : ''}; ` +
        `files ${n(summary.filesBefore)} → ${n(summary.filesAfter)} (${mib(summary.bytesBefore)} → ${mib(summary.bytesAfter)}); ` +
        `rows ${n(summary.rowsBefore)} → ${n(summary.rowsAfter)}; ${summary.seconds.toFixed(1)} s`,
    );
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}
