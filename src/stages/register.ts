/**
 * register: tell the catalog about a key date's partitions — only after commit, so a catalog never
 * points at files that are not there. Partitions an earlier run wrote to but this one no longer does
 * are removed from the catalog when their directory is now empty.
 */
import { partitionPath, type Catalog, type PartitionContribution, type PartitionValues, type RegisterResult } from '../catalog/Catalog.js';
import type { LocalCatalog } from '../catalog/local.js';
import type { Storage } from '../storage/Storage.js';
import type { FileRecord } from '../records.js';

export interface RegisterOutcome extends RegisterResult {
  readonly removed: number;
}

export function contributions(dest: Storage, files: readonly FileRecord[]): PartitionContribution[] {
  const byPartition = new Map<string, { bucket: string; dt: string; files: string[]; rows: number }>();
  for (const f of files) {
    const path = partitionPath(f);
    let entry = byPartition.get(path);
    if (!entry) byPartition.set(path, (entry = { bucket: f.bucket, dt: f.dt, files: [], rows: 0 }));
    entry.files.push(f.key);
    entry.rows += f.rows;
  }
  return [...byPartition.entries()].map(([path, p]) => ({ ...p, location: dest.uri + path }));
}

export async function registerKeyDate(
  catalog: Catalog,
  dest: Storage,
  keyDate: string,
  files: readonly FileRecord[],
  previousFiles: readonly FileRecord[],
): Promise<RegisterOutcome> {
  const parts = contributions(dest, files);
  const result = await catalog.registerPartitions(keyDate, parts);
  const gone = await emptiedPartitions(dest, files, previousFiles);
  const removed = gone.length ? await catalog.deletePartitions(gone) : 0;
  return { ...result, removed };
}

/**
 * registerKeyDate for several key dates of a local catalog in one write of its document (compaction
 * and splits re-register every member of a group at once).
 */
export async function registerKeyDates(
  catalog: LocalCatalog,
  dest: Storage,
  entries: ReadonlyArray<{
    readonly keyDate: string;
    readonly files: readonly FileRecord[];
    readonly previousFiles: readonly FileRecord[];
  }>,
): Promise<void> {
  if (entries.length === 0) return;
  await catalog.registerKeyDates(entries.map((e) => ({ keyDate: e.keyDate, partitions: contributions(dest, e.files) })));
  const gone = new Map<string, PartitionValues>();
  for (const e of entries) for (const p of await emptiedPartitions(dest, e.files, e.previousFiles)) gone.set(partitionPath(p), p);
  if (gone.size) await catalog.deletePartitions([...gone.values()]);
}

/** Partitions of `previousFiles` that `files` no longer writes to and whose directory holds no Parquet now. */
async function emptiedPartitions(
  dest: Storage,
  files: readonly FileRecord[],
  previousFiles: readonly FileRecord[],
): Promise<PartitionValues[]> {
  const now = new Set(files.map((f) => partitionPath(f)));
  const gone: PartitionValues[] = [];
  for (const f of previousFiles) {
    const path = partitionPath(f);
    if (now.has(path) || gone.some((g) => partitionPath(g) === path)) continue;
    const left = await dest.list(path);
    if (!left.objects.some((o) => o.key.endsWith('.parquet'))) gone.push({ bucket: f.bucket, dt: f.dt });
  }
  return gone;
}
