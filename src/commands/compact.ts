/**
 * `s3logs compact`: rewrite the small files of the partitions of a dt range into as few files as
 * --target-file-mb allows (src/stages/compact.ts); every row stays exactly once.
 */
import { dateRange, parseAwsFlags } from '../config.js';
import { ConfigError } from '../errors.js';
import { FlagValues } from '../flags/read.js';
import { FLAGS } from '../flags/table.js';
import { openDest } from '../locations.js';
import { withShutdownSignals } from '../signals.js';
import type { CompactSummary, PartitionResult } from '../stages/compact.js';
import { DEFAULT_TARGET_FILE_MB } from '../stages/writeOptions.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { EXIT_LOCKED } from './convert.js';
import { grouped } from '../numberText.js';

export interface CompactConfig {
  readonly dest: string;
  readonly from: string;
  readonly to: string;
  readonly targetBytes: number;
  readonly rowGroupRows: number;
  readonly lockWaitMs: number;
}

/** --target-file-mb (already checked by its kind) in bytes. */
export function targetFileBytes(mb: number = DEFAULT_TARGET_FILE_MB): number {
  return Math.round(mb * 1024 * 1024);
}

export async function runCompact(argv: string[]): Promise<number> {
  const values = FlagValues.fromArgv('compact', argv);
  const destUri = values.text(FLAGS.compactDest);
  if (!destUri) throw new ConfigError('--dest is required, e.g. --dest s3://my-lake/access-logs/ or ./lake', '--dest');
  const from = values.text(FLAGS.compactFrom);
  if (!from) throw new ConfigError('--from is required (first dt partition to compact), e.g. --from 2024-01-01', '--from');
  const days = dateRange(from, values.text(FLAGS.compactTo), '--from', '--to');
  const aws = parseAwsFlags(values);
  const config: CompactConfig = {
    dest: destUri,
    from: days[0]!,
    to: days[days.length - 1]!,
    targetBytes: targetFileBytes(values.value(FLAGS.targetFileMb)),
    rowGroupRows: values.value(FLAGS.compactRowGroupRows),
    lockWaitMs: values.value(FLAGS.compactLockWaitSeconds) * 1000,
  };
  const json = values.flag(FLAGS.compactJson);
  const quiet = values.flag(FLAGS.compactQuiet);
  const dest = await openDest(config.dest, { ...aws, aws: aws.aws });
  try {
    return await withShutdownSignals(async (signal) => {
      const summary = await compact(
        dest,
        config,
        signal,
        quiet
          ? undefined
          : json
            ? (r) => process.stderr.write(partitionLogLine(r) + '\n')
            : (r) => {
                const line = partitionProgressLine(r);
                if (line) process.stderr.write(line + '\n');
              },
      );
      if (json) process.stdout.write(JSON.stringify(summary) + '\n');
      process.stderr.write(formatCompactSummary(summary, config, quiet));
      return compactExitCode(summary);
    });
  } finally {
    await dest.close?.();
  }
}

export async function compact(
  dest: import('../storage/Storage.js').Storage,
  config: CompactConfig,
  signal?: AbortSignal,
  onPartition?: (result: PartitionResult) => void,
): Promise<CompactSummary> {
  // Loaded on use: compaction reads and writes Parquet (apache-arrow, parquet-wasm), which nightly's converts do not need.
  const { compactRange } = await import('../stages/compact.js');
  return compactRange(dest, config.from, config.to, {
    targetBytes: config.targetBytes,
    writeOptions: { compression: 'zstd', rowGroupRows: config.rowGroupRows, createdBy: `${TOOL_NAME} ${TOOL_VERSION}` },
    concurrency: 16,
    lockWaitMs: config.lockWaitMs,
    ...(signal ? { signal } : {}),
    ...(onPartition ? { onPartition } : {}),
  });
}

/** The line a terminal (or a plain stderr) gets per compacted partition. */
export function partitionProgressLine(r: PartitionResult): string | undefined {
  if (r.status !== 'compacted') return undefined;
  return `progress: bucket=${r.bucket}/dt=${r.dt}: ${r.filesBefore} files → ${r.filesAfter}, ${grouped(r.rowsAfter)} rows`;
}

/** With --json, one JSON line on stderr per partition looked at (a long compaction is not silent for schedulers). */
export function partitionLogLine(r: PartitionResult): string {
  const { members: _members, ...fields } = r;
  return JSON.stringify({
    time: new Date().toISOString(),
    level: r.status === 'failed' ? 'error' : 'info',
    stage: 'compact',
    ...fields,
    msg: `partition ${r.status}`,
  });
}

/** 0 all good; 75 only locks other live runs hold; 1 anything else failed. */
export function compactExitCode(summary: CompactSummary): number {
  if (summary.ok) return 0;
  return summary.results.every((r) => r.status !== 'failed' || r.errorCode === 'locked') ? EXIT_LOCKED : 1;
}

export function formatCompactSummary(
  summary: CompactSummary,
  config: Pick<CompactConfig, 'dest' | 'from' | 'to'>,
  onlyErrors = false,
): string {
  const lines: string[] = [];
  const n = grouped;
  const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
  for (const r of summary.results)
    if (r.status === 'failed') lines.push(`bucket=${r.bucket}/dt=${r.dt}: failed (${r.errorCode}): ${r.reason}`);
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
