/**
 * Scale-out: `--shard i/N` converts the objects of each key date whose identity hashes to shard i
 * (shardOf in the commit stage), stages their files and a shard manifest, and the last shard to finish
 * (or `s3logs commit`) publishes all N parts at once under the key date's publish lock. Hashing the
 * identity, not slicing a listing, means shards that listed at different moments still never read the
 * same object twice; an object that arrived between their listings is left for the next run.
 */
import { lakeKeys, readRecord, writeRecord, type ShardManifest, type ShardSpec, type StagedPart } from './records.js';
import type { Storage } from './storage/Storage.js';

export type { ShardSpec } from './records.js';

/** `s02of04`: names a shard's manifest, lock and reject files. */
export function shardTag(shard: ShardSpec): string {
  const width = Math.max(2, String(shard.count).length);
  return `s${String(shard.index + 1).padStart(width, '0')}of${String(shard.count).padStart(width, '0')}`;
}

export function shardLabel(shard: ShardSpec): string {
  return `shard ${shard.index + 1}/${shard.count}`;
}

export function shardManifestKey(keyDate: string, shard: ShardSpec): string {
  return lakeKeys.shardManifest(keyDate, shardTag(shard));
}

export async function writeShardManifest(dest: Storage, part: StagedPart & { shard: ShardSpec }): Promise<void> {
  const manifest: ShardManifest = { kind: 's3logs/shard-manifest', ...part, stagedAt: new Date().toISOString() };
  await writeRecord(dest, shardManifestKey(part.keyDate, part.shard), manifest);
}

export interface ShardRound {
  /** Staged parts present, by shard index. */
  readonly present: ShardManifest[];
  /** 1-based numbers of the shards that have not staged. */
  readonly missing: number[];
}

/** The staged parts of a round of `count` shards. */
export async function readShardRound(dest: Storage, keyDate: string, count: number): Promise<ShardRound> {
  const present: ShardManifest[] = [];
  const missing: number[] = [];
  for (let index = 0; index < count; index++) {
    const manifest = await readRecord<ShardManifest>(dest, shardManifestKey(keyDate, { index, count }));
    if (manifest) present.push(manifest);
    else missing.push(index + 1);
  }
  return { present, missing };
}

/** Every shard manifest of a key date, of any shard count (a whole-key-date publish supersedes them). */
export async function listShardManifests(dest: Storage, keyDate: string): Promise<Array<{ key: string; runId: string }>> {
  const out: Array<{ key: string; runId: string }> = [];
  for (const o of (await dest.list(lakeKeys.shardPrefix(keyDate))).objects) {
    const name = o.key.slice(o.key.lastIndexOf('/') + 1);
    if (name.startsWith('lock-') || !name.endsWith('.json')) continue;
    const manifest = await readRecord<ShardManifest>(dest, o.key);
    if (manifest) out.push({ key: o.key, runId: manifest.runId });
  }
  return out;
}
