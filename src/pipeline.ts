/**
 * The one place the stages are chained, per key date:
 *   list → fetch → parse → build Arrow → write Parquet (staged) → commit → register.
 * The pipeline sees only the Storage and Catalog interfaces.
 */
import { randomBytes } from 'node:crypto';
import { SCHEMA_VERSION } from '../schemas/accessLog.js';
import type { Catalog } from './catalog/Catalog.js';
import { errorMessage, KeyDateError, type Stage } from './errors.js';
import { tableDefinition } from './schema/table.js';
import type { Storage } from './storage/Storage.js';
import { clearStaging, commitKeyDate, previousOutputs, readManifest, stagingRoot, type KeyDateCounts, type KeyDateManifest, type ManifestFile } from './stages/commit.js';
import { fetchInOrder } from './stages/fetch.js';
import { listKeyDate, type KeyLayout } from './stages/list.js';
import { LineSpans, parseLogObject } from './stages/parse.js';
import { objectSink, PartitionWriter, RejectWriter } from './stages/partition.js';
import { registerKeyDate } from './stages/register.js';
import type { Compression } from './stages/write.js';
import { TOOL_NAME, TOOL_VERSION } from './version.js';

export interface SourceLocation {
  readonly storage: Storage;
  /** Key prefix of the raw logs inside the source storage (may be '' or end mid-name, e.g. `logs/emr`). */
  readonly prefix: string;
}

export interface ConvertSettings {
  readonly source: SourceLocation;
  readonly dest: Storage;
  readonly catalog: Catalog;
  readonly database?: string;
  readonly table?: string;
  readonly layout: KeyLayout;
  readonly concurrency: number;
  readonly compression: Compression;
  readonly memoryBudget: number;
  readonly maxFileRows: number;
  readonly rowGroupRows: number;
  readonly onProgress?: (event: ProgressEvent) => void;
}

export type ProgressEvent =
  | { type: 'listed'; keyDate: string; objects: number; bytes: number }
  | { type: 'object'; keyDate: string; done: number; total: number; bytes: number; rows: number }
  | { type: 'committed'; keyDate: string };

export interface KeyDateSummary extends KeyDateCounts {
  keyDate: string;
  status: 'converted' | 'empty' | 'failed';
  filesWritten: number;
  bytesOut: number;
  partitions: number;
  rejectFiles: string[];
  staleFilesDeleted: number;
  catalog: { created: number; updated: number; unchanged: number; removed: number };
  seconds: number;
  /** Where the time went, per stage (fetch = waiting for object bodies). */
  stageSeconds: Partial<Record<Stage, number>>;
  error?: { stage: Stage; message: string };
}

function emptyCounts(): KeyDateCounts {
  return { objects: 0, bytesIn: 0, lines: 0, rows: 0, rejects: 0, repairedUtf8: 0 };
}

/** Converts one key date; never throws for data or storage problems — a failure is in the summary. */
export async function convertKeyDate(settings: ConvertSettings, keyDate: string): Promise<KeyDateSummary> {
  const started = performance.now();
  const summary: KeyDateSummary = {
    keyDate,
    status: 'converted',
    ...emptyCounts(),
    filesWritten: 0,
    bytesOut: 0,
    partitions: 0,
    rejectFiles: [],
    staleFilesDeleted: 0,
    catalog: { created: 0, updated: 0, unchanged: 0, removed: 0 },
    seconds: 0,
    stageSeconds: {},
  };
  let stage: Stage = 'list';
  let since = started;
  const at = (next: Stage) => {
    const now = performance.now();
    summary.stageSeconds[stage] = (summary.stageSeconds[stage] ?? 0) + (now - since) / 1000;
    stage = next;
    since = now;
  };
  try {
    await runKeyDate(settings, keyDate, summary, at);
    at(stage);
  } catch (error) {
    summary.status = 'failed';
    summary.error = { stage, message: errorMessage(error) };
    // Nothing of this run is published before commit; drop what it staged.
    await clearStaging(settings.dest, keyDate).catch(() => undefined);
  }
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

async function runKeyDate(settings: ConvertSettings, keyDate: string, summary: KeyDateSummary, at: (stage: Stage) => void): Promise<void> {
  const { source, dest } = settings;
  at('list');
  const listing = await listKeyDate(source.storage, source.prefix, keyDate, settings.layout, settings.concurrency);
  const bytesIn = listing.objects.reduce((sum, o) => sum + o.size, 0);
  settings.onProgress?.({ type: 'listed', keyDate, objects: listing.objects.length, bytes: bytesIn });
  if (listing.objects.length === 0) {
    // Raw logs may have expired: never retire earlier output because the source is empty now.
    summary.status = 'empty';
    return;
  }

  await clearStaging(dest, keyDate);
  const runId = `${new Date().toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;
  const staging = `${stagingRoot(keyDate)}${runId}/`;
  const writer = new PartitionWriter(dest, {
    keyDate,
    stagingPrefix: staging,
    memoryBudget: settings.memoryBudget,
    maxFileRows: settings.maxFileRows,
    compression: settings.compression,
    rowGroupRows: settings.rowGroupRows,
    createdBy: `${TOOL_NAME} ${TOOL_VERSION}`,
  });
  const rejects = new RejectWriter(dest, keyDate, staging);
  const spans = new LineSpans();

  at('fetch');
  let done = 0;
  for await (const { info, body } of fetchInOrder(source.storage, listing.objects, settings.concurrency)) {
    at('parse');
    const counts = parseLogObject(body, objectSink(writer, rejects, source.storage.uri + info.key), spans);
    summary.objects++;
    summary.bytesIn += body.length;
    summary.lines += counts.lines;
    summary.rows += counts.rows;
    summary.rejects += counts.rejects;
    summary.repairedUtf8 += counts.repairedUtf8;
    at('write');
    await writer.flushFull();
    if (rejects.shouldSpill()) await rejects.spill();
    settings.onProgress?.({ type: 'object', keyDate, done: ++done, total: listing.objects.length, bytes: summary.bytesIn, rows: summary.rows });
    at('fetch');
  }
  at('write');
  await writer.flushAll();
  await rejects.spill();
  if (summary.lines !== summary.rows + summary.rejects) {
    throw new KeyDateError(`line count does not reconcile: ${summary.lines} lines, ${summary.rows} rows, ${summary.rejects} rejects`, keyDate, 'parse');
  }
  const writtenRows = writer.staged.reduce((sum, f) => sum + f.rows, 0);
  if (writtenRows !== summary.rows) {
    throw new KeyDateError(`wrote ${writtenRows} rows to Parquet but parsed ${summary.rows}`, keyDate, 'write');
  }

  at('commit');
  const previousManifest = await readManifest(dest, keyDate);
  const previous = await previousOutputs(dest, keyDate);
  const files: ManifestFile[] = writer.staged.map((f) => ({ key: f.key, bucket: f.partition.bucket, dt: f.partition.dt, rows: f.rows, bytes: f.bytes }));
  const manifest: KeyDateManifest = {
    kind: 's3logs/keydate-manifest',
    manifestVersion: 1,
    keyDate,
    runId,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    schemaVersion: SCHEMA_VERSION,
    createdAt: new Date().toISOString(),
    source: source.storage.uri + source.prefix,
    objects: listing.objects.map((o) => ({ key: o.key, size: o.size, etag: o.etag })),
    files,
    rejectFiles: rejects.staged.map((r) => ({ key: r.key, rejects: r.rejects })),
    counts: {
      objects: summary.objects,
      bytesIn: summary.bytesIn,
      lines: summary.lines,
      rows: summary.rows,
      rejects: summary.rejects,
      repairedUtf8: summary.repairedUtf8,
    },
  };
  const committed = await commitKeyDate(dest, manifest, [...writer.staged, ...rejects.staged], previous);
  summary.filesWritten = files.length;
  summary.bytesOut = files.reduce((sum, f) => sum + f.bytes, 0);
  summary.partitions = new Set(files.map((f) => `${f.bucket}/${f.dt}`)).size;
  summary.rejectFiles = rejects.staged.map((r) => dest.uri + r.key);
  summary.staleFilesDeleted = committed.deletedStale.length;
  settings.onProgress?.({ type: 'committed', keyDate });

  at('register');
  if (settings.catalog.kind !== 'none') {
    await settings.catalog.ensureTable(tableDefinition(dest.uri, settings.database, settings.table));
    summary.catalog = await registerKeyDate(settings.catalog, dest, keyDate, files, previousManifest?.files ?? []);
  }
}
