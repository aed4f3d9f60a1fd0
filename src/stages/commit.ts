/**
 * commit: publish a key date's staged files and retire what an earlier run of the same key date wrote.
 *
 * Order matters for crash safety:
 *   1. a pending journal lists every final key this run will publish;
 *   2. staged files are moved into place (each move is atomic);
 *   3. files of earlier runs (their manifest and any pending journal left by a crash) that this run
 *      did not write are deleted;
 *   4. the manifest is written — last, so it only ever describes published files;
 *   5. the journal and the staging area are removed.
 * A crash anywhere leaves enough behind (old manifest, journal) for the next run to clean up.
 */
import { createHash } from 'node:crypto';
import { StorageError } from '../errors.js';
import { failpoint } from '../failpoints.js';
import type { ObjectInfo, Storage } from '../storage/Storage.js';

export const CONTROL_PREFIX = '_s3logs/';

export function manifestKey(keyDate: string): string {
  return `${CONTROL_PREFIX}keydates/${keyDate}/manifest.json`;
}

function pendingKey(keyDate: string): string {
  return `${CONTROL_PREFIX}keydates/${keyDate}/pending.json`;
}

export function stagingRoot(keyDate: string): string {
  return `${CONTROL_PREFIX}staging/${keyDate}/`;
}

/** Written after the catalog took a key date's partitions, so a crash before that is re-registered. */
export function registeredKey(keyDate: string): string {
  return `${CONTROL_PREFIX}keydates/${keyDate}/registered.json`;
}

export function lockKey(keyDate: string, tag: string): string {
  return `${CONTROL_PREFIX}keydates/${keyDate}/lock-${tag}.json`;
}

export function shardManifestPrefix(keyDate: string): string {
  return `${CONTROL_PREFIX}keydates/${keyDate}/shards/`;
}

/** Identity of a key date's inputs: every raw object's key, ETag and size. */
export function inputsFingerprint(objects: ReadonlyArray<Pick<ObjectInfo, 'key' | 'size' | 'etag'>>): string {
  const hash = createHash('sha256');
  for (const o of [...objects].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) hash.update(`${o.key}\0${o.etag}\0${o.size}\n`);
  return hash.digest('hex');
}

export interface ManifestFile {
  readonly key: string;
  readonly bucket: string;
  readonly dt: string;
  readonly rows: number;
  readonly bytes: number;
}

export interface KeyDateCounts {
  objects: number;
  bytesIn: number;
  lines: number;
  rows: number;
  rejects: number;
  repairedUtf8: number;
}

export interface KeyDateManifest {
  readonly kind: 's3logs/keydate-manifest';
  readonly manifestVersion: 1;
  readonly keyDate: string;
  readonly runId: string;
  readonly tool: { name: string; version: string };
  readonly schemaVersion: number;
  readonly createdAt: string;
  readonly source: string;
  /** inputsFingerprint(objects): what "already processed with the same inputs" compares. */
  readonly inputsFingerprint: string;
  /** Number of shards the key date was converted in (1 when not sharded). */
  readonly shards: number;
  readonly objects: ReadonlyArray<Pick<ObjectInfo, 'key' | 'size' | 'etag'>>;
  readonly files: readonly ManifestFile[];
  readonly rejectFiles: ReadonlyArray<{ key: string; rejects: number }>;
  readonly counts: KeyDateCounts;
}

interface PendingJournal {
  readonly runId: string;
  readonly keys: readonly string[];
}

async function readJson<T>(storage: Storage, key: string): Promise<T | undefined> {
  let body: Uint8Array;
  try {
    body = await storage.get(key);
  } catch (error) {
    if (error instanceof StorageError && error.code === 'not_found') return undefined;
    throw error;
  }
  try {
    return JSON.parse(Buffer.from(body).toString('utf8')) as T;
  } catch {
    throw new StorageError(`${storage.uri}${key} is not valid JSON; delete it and re-run this key date`, 'io', key);
  }
}

export function readManifest(storage: Storage, keyDate: string): Promise<KeyDateManifest | undefined> {
  return readJson<KeyDateManifest>(storage, manifestKey(keyDate));
}

/** Every key an earlier run of this key date may have published (committed or interrupted). */
export async function previousOutputs(storage: Storage, keyDate: string): Promise<Set<string>> {
  const keys = new Set<string>();
  const manifest = await readManifest(storage, keyDate);
  for (const f of manifest?.files ?? []) keys.add(f.key);
  for (const r of manifest?.rejectFiles ?? []) keys.add(r.key);
  const pending = await readJson<PendingJournal>(storage, pendingKey(keyDate));
  for (const key of pending?.keys ?? []) keys.add(key);
  return keys;
}

/** Removes staging under a prefix (a run's own, or a key date's after commit). */
export async function clearStaging(storage: Storage, prefix: string): Promise<void> {
  // A crash can leave half-written temp files that listings do not show; drop the whole directory.
  if (storage.deletePrefix) return storage.deletePrefix(prefix);
  const page = await storage.list(prefix);
  if (page.objects.length) await storage.delete(page.objects.map((o) => o.key));
}

async function move(storage: Storage, from: string, to: string): Promise<void> {
  if (storage.move) return storage.move(from, to);
  await storage.put(to, await storage.get(from));
  await storage.delete([from]);
}

export interface CommitResult {
  readonly deletedStale: string[];
}

export async function commitKeyDate(
  storage: Storage,
  manifest: KeyDateManifest,
  staged: ReadonlyArray<{ key: string; stagingKey: string }>,
  previous: Set<string>,
): Promise<CommitResult> {
  const keyDate = manifest.keyDate;
  const published = new Set(staged.map((s) => s.key));
  await storage.put(pendingKey(keyDate), Buffer.from(JSON.stringify({ runId: manifest.runId, keys: [...published] } satisfies PendingJournal)));
  for (const s of staged) {
    await move(storage, s.stagingKey, s.key);
    failpoint('published');
  }
  const stale = [...previous].filter((key) => !published.has(key)).sort();
  if (stale.length) await storage.delete(stale);
  failpoint('before-manifest');
  await storage.put(manifestKey(keyDate), Buffer.from(JSON.stringify(manifest, null, 1)), { contentType: 'application/json' });
  await storage.delete([pendingKey(keyDate)]);
  await clearStaging(storage, stagingRoot(keyDate));
  return { deletedStale: stale };
}
