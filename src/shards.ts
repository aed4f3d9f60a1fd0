/**
 * Scale-out: `--shard i/N` converts a deterministic slice of a key date's objects into staged files and
 * a shard manifest. Whoever finds all N shard manifests present (the last shard to finish, or
 * `s3logs commit`) takes the commit lock and publishes them as one key date — so readers only ever see
 * a whole key date, and N workers give exactly the rows of one.
 */
import { ConfigError, KeyDateError } from './errors.js';
import { KeyDateLock, LockedError } from './lock.js';
import { publish, type ConvertSettings, type PublishOutcome, type StagedKeyDate } from './pipeline.js';
import type { ObjectInfo, Storage } from './storage/Storage.js';
import { lockKey, shardManifestPrefix, type KeyDateCounts } from './stages/commit.js';
import type { StagedFile } from './stages/partition.js';

export interface ShardSpec {
  /** 0-based. */
  readonly index: number;
  readonly count: number;
}

export function shardTag(shard: ShardSpec | undefined): string {
  if (!shard) return 'all';
  const width = Math.max(2, String(shard.count).length);
  return `s${String(shard.index + 1).padStart(width, '0')}of${String(shard.count).padStart(width, '0')}`;
}

/**
 * `--shard i/N` (1-based i), or the array index schedulers set: AWS Batch array jobs
 * (AWS_BATCH_JOB_ARRAY_INDEX) and Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX), both 0-based, with N
 * from `--shards N`.
 */
export function parseShard(flag: string | undefined, shards: string | undefined, env: NodeJS.ProcessEnv): ShardSpec | undefined {
  if (flag !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(flag);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new ConfigError(`--shard must be i/N with 1 <= i <= N, e.g. --shard 2/8, got ${JSON.stringify(flag)}`, '--shard');
    return Number(m[2]) === 1 ? undefined : { index: Number(m[1]) - 1, count: Number(m[2]) };
  }
  const fromEnv = env.AWS_BATCH_JOB_ARRAY_INDEX ?? env.JOB_COMPLETION_INDEX;
  if (shards === undefined) return undefined;
  if (!/^\d+$/.test(shards) || Number(shards) < 1) throw new ConfigError(`--shards must be a whole number >= 1, got ${JSON.stringify(shards)}`, '--shards');
  if (fromEnv === undefined) throw new ConfigError('--shards needs the shard index: pass --shard i/N, or run as an AWS Batch array job / Kubernetes Indexed Job', '--shards');
  if (!/^\d+$/.test(fromEnv) || Number(fromEnv) >= Number(shards)) {
    throw new ConfigError(`the scheduler's array index ${fromEnv} is not below --shards ${shards}; make the array size equal to --shards`, '--shards');
  }
  return Number(shards) === 1 ? undefined : { index: Number(fromEnv), count: Number(shards) };
}

interface ShardManifest {
  readonly kind: 's3logs/shard-manifest';
  readonly keyDate: string;
  readonly shard: ShardSpec;
  readonly runId: string;
  readonly inputsFingerprint: string;
  readonly objects: ReadonlyArray<Pick<ObjectInfo, 'key' | 'size' | 'etag'>>;
  readonly files: readonly StagedFile[];
  readonly rejects: ReadonlyArray<{ key: string; stagingKey: string; rejects: number }>;
  readonly counts: KeyDateCounts;
}

function shardManifestKey(keyDate: string, shard: ShardSpec): string {
  return `${shardManifestPrefix(keyDate)}${shardTag(shard)}.json`;
}

export async function writeShardManifest(dest: Storage, keyDate: string, shard: ShardSpec, staged: Omit<ShardManifest, 'kind' | 'keyDate' | 'shard'>): Promise<void> {
  const manifest: ShardManifest = { kind: 's3logs/shard-manifest', keyDate, shard, ...staged, objects: staged.objects.map((o) => ({ key: o.key, size: o.size, etag: o.etag })) };
  await dest.put(shardManifestKey(keyDate, shard), Buffer.from(JSON.stringify(manifest)));
}

async function readShardManifests(dest: Storage, keyDate: string, count: number): Promise<ShardManifest[] | undefined> {
  const manifests: ShardManifest[] = [];
  for (let index = 0; index < count; index++) {
    const key = shardManifestKey(keyDate, { index, count });
    if (!(await dest.head(key))) return undefined;
    manifests.push(JSON.parse(Buffer.from(await dest.get(key)).toString('utf8')) as ShardManifest);
  }
  return manifests;
}

/**
 * Publishes a sharded key date when all `count` shard manifests are there; undefined when some shard
 * has not finished (or another worker already committed them).
 */
export async function commitShards(settings: ConvertSettings, keyDate: string, count: number): Promise<{ runId: string; outcome: PublishOutcome } | undefined> {
  const { dest } = settings;
  if (!(await readShardManifests(dest, keyDate, count))) return undefined;
  const runId = `commit-${Date.now().toString(36)}`;
  let lock: KeyDateLock;
  try {
    lock = await KeyDateLock.acquire(dest, lockKey(keyDate, 'commit'), runId);
  } catch (error) {
    // Two shards finishing together both see every manifest: the other one is committing.
    if (error instanceof LockedError) return undefined;
    throw error;
  }
  try {
    // Read again under the lock: another worker may have committed in between.
    const manifests = await readShardManifests(dest, keyDate, count);
    if (!manifests) return undefined;
    const fingerprints = new Set(manifests.map((m) => m.inputsFingerprint));
    if (fingerprints.size !== 1) {
      throw new KeyDateError(`the ${count} shards of ${keyDate} saw different input objects (logs arrived during the run); re-run all shards`, keyDate, 'commit');
    }
    const sum = (pick: (c: KeyDateCounts) => number) => manifests.reduce((total, m) => total + pick(m.counts), 0);
    const staged: StagedKeyDate = {
      inputsFingerprint: manifests[0]!.inputsFingerprint,
      objects: manifests[0]!.objects as ObjectInfo[],
      shards: count,
      files: manifests.flatMap((m) => m.files),
      rejects: manifests.flatMap((m) => m.rejects),
      counts: { objects: sum((c) => c.objects), bytesIn: sum((c) => c.bytesIn), lines: sum((c) => c.lines), rows: sum((c) => c.rows), rejects: sum((c) => c.rejects), repairedUtf8: sum((c) => c.repairedUtf8) },
    };
    await lock.verify();
    const outcome = await publish(settings, keyDate, runId, staged);
    await dest.delete(manifests.map((m) => shardManifestKey(keyDate, m.shard)));
    return { runId, outcome };
  } finally {
    await lock.release();
  }
}
