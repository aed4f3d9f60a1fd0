/**
 * commit: publish what a run (or the N shards of a key date) staged, reconciled raw object by raw object
 * with what the lake already holds, and finish a publish that a crash interrupted.
 *
 * The lake owns rows by raw object (manifest `objects`, files' `runs`). A publish:
 *   - replaces the rows of every object it read (new, changed or unchanged alike);
 *   - keeps the rows of every other object: of other sources, and objects gone from the source (expired
 *     raw logs) unless the run was asked to delete vanished objects;
 *   - rewrites a file that holds both ("carries" the kept objects' rows into a new file).
 * Order, under the key date's publish lock:
 *   1. earlier journals are finished (or rolled back when another publish got there first);
 *   2. carried files are written to staging; a journal records the whole publish;
 *   3. staged files are moved into place (readers may now see old and new rows of re-read objects);
 *   4. the manifest is replaced conditionally on the version this publish started from (the commit
 *      point: a run that lost its lock cannot overwrite a newer state);
 *   5. files of the old state that the new one does not have are deleted; shard manifests, staging and
 *      the journal go away.
 * A crash anywhere leaves the journal; the next run of any kind on the key date repeats what is missing.
 */
import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import { ConfigError, PublishConflictError, StorageError } from '../errors.js';
import { failpoint } from '../failpoints.js';
import { clearDeadLock, isHeld, type LeaseLock } from '../lock.js';
import {
  compareKeys,
  lakeKeys,
  readManifest,
  readRecord,
  recordBody,
  writeRecord,
  type FileRecord,
  type GroupJournal,
  type KeyDateManifest,
  type LockRecord,
  type ObjectRecord,
  type PublishJournal,
  type RejectFileRecord,
  type Runs,
  type ShardManifest,
  type StagedPart,
} from '../records.js';
import type { Storage } from '../storage/Storage.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { newRunId } from '../runId.js';
import { SCHEMA_VERSION } from '../../schemas/accessLog.js';
import { resolveGroup } from './group.js';
import { clearPrefix, place } from '../storage/ops.js';
import { listsKey } from './list.js';
import { normalizeRedact, redactLabel, sameRedact, type RedactMode } from './redact.js';
import type { WriteOptions } from './writeOptions.js';

/** Defined in src/errors.ts with the other error classes; exported here too for existing importers. */
export { PublishConflictError };
/** In src/storage/ops.ts (group.ts needs them too, without importing this module); exported here for existing importers. */
export { clearPrefix };

export interface PublishRequest {
  readonly keyDate: string;
  readonly runId: string;
  readonly publishedBy: 'convert' | 'commit';
  /** One part for a whole-key-date run; one per shard for a commit. */
  readonly parts: readonly StagedPart[];
  /** Shard manifests this publish consumes (a commit) or supersedes (a whole-key-date run: all of them). */
  readonly shardManifests: ReadonlyArray<{ readonly key: string; readonly runId: string }>;
  /** For carried files: written like new ones. */
  readonly writeOptions: WriteOptions;
  /** Moves and carries in flight. */
  readonly concurrency: number;
  /** How long to wait for other key dates' locks when a compacted file must be split (default 60 s; a run's --lock-wait-seconds). */
  readonly groupLockWaitMs?: number;
  /** Called once the journal is written: from here on the publish is finished by whoever runs next. */
  readonly onJournal?: () => void;
}

export interface PublishOutcome {
  readonly manifest: KeyDateManifest;
  readonly previous: KeyDateManifest | undefined;
  /** Files this publish put in place (new and carried). */
  readonly filesWritten: number;
  readonly bytesOut: number;
  readonly partitions: number;
  readonly rejectFiles: readonly string[];
  readonly staleFilesDeleted: number;
  readonly carriedFiles: number;
  /** Objects of the listed scope that are gone from the source. */
  readonly gone: GoneObjects;
  /** Objects of other sources (or shards' scopes) whose rows stay as they were. */
  readonly otherObjects: number;
  /** From the first file moved into place to the last old file deleted: readers may see both copies then. */
  readonly windowSeconds: number;
}

export interface GoneObjects {
  readonly objects: number;
  readonly rows: number;
  readonly removed: boolean;
}

type Status = 'replaced' | 'kept' | 'removed';

interface Carry {
  readonly kind: 'data' | 'rejects';
  readonly from: FileRecord | RejectFileRecord;
  /** Row (or reject line) ranges of kept objects, half-open, in file order. */
  readonly ranges: Array<[number, number]>;
  /** Kept runs with their objects (remapped to the new manifest's indices later). */
  readonly runs: Array<[ObjectRecord, number]>;
}

interface Plan {
  readonly objects: ObjectRecord[];
  /** Files of the old state that keep all their rows (runs still index the old objects). */
  readonly keptFiles: FileRecord[];
  readonly keptRejects: RejectFileRecord[];
  readonly carries: Carry[];
  readonly deletes: string[];
  readonly gone: GoneObjects;
  readonly otherObjects: number;
}

/** Default wait for the other key dates' locks a split of a compacted file needs. */
const GROUP_LOCK_WAIT_MS = 60_000;

/** Compacted files (holding other key dates' rows too) that a plan would drop or carry. */
function sharedFilesTouched(manifest: KeyDateManifest | undefined, plan: Plan): FileRecord[] {
  const touched = new Set([...plan.deletes, ...plan.carries.map((c) => c.from.key)]);
  return (manifest?.files ?? []).filter((f) => f.shared && touched.has(f.key));
}

/** Which shard (of `count`) converts an object: by its name, so every listing agrees. */
export function shardOf(name: string, count: number): number {
  return createHash('sha256').update(name).digest().readUInt32BE(0) % count;
}

/** The part whose listing was responsible for an object (the shard of its class), if any. */
function responsiblePart(parts: readonly StagedPart[], name: string): StagedPart | undefined {
  for (const part of parts) {
    if (!part.shard || shardOf(name, part.shard.count) === part.shard.index) return part;
  }
  return undefined;
}

/** Whether a part's listing would have listed this object: same store, prefix, key date and layout. */
export function inScope(part: Pick<StagedPart, 'scope' | 'keyDate'>, uri: string): boolean {
  const { storageUri, prefix, layout } = part.scope;
  return uri.startsWith(storageUri) && listsKey(uri.slice(storageUri.length), prefix, part.keyDate, layout);
}

/** The kept objects of a file's runs as ranges and runs; undefined when it keeps all or nothing. */
function split(
  runs: Runs,
  objects: readonly ObjectRecord[],
  status: readonly Status[],
): { all: boolean; none: boolean; ranges: Array<[number, number]>; kept: Array<[ObjectRecord, number]> } {
  const ranges: Array<[number, number]> = [];
  const kept: Array<[ObjectRecord, number]> = [];
  let offset = 0;
  let all = true;
  let none = true;
  for (let i = 0; i < runs.length; i += 2) {
    const object = runs[i]!;
    const rows = runs[i + 1]!;
    if (status[object] === 'kept') {
      none = false;
      const last = ranges[ranges.length - 1];
      if (last && last[1] === offset) last[1] += rows;
      else ranges.push([offset, offset + rows]);
      kept.push([objects[object]!, rows]);
    } else {
      all = false;
    }
    offset += rows;
  }
  return { all, none, ranges, kept };
}

/** What the new state holds, from the old state and what the parts read. Pure: no storage calls. */
export function reconcile(previous: KeyDateManifest | undefined, parts: readonly StagedPart[]): Plan {
  const read = new Map<string, ObjectRecord>();
  for (const part of parts) {
    for (const o of part.objects) {
      const twin = read.get(o.name);
      if (twin)
        throw new StorageError(
          `${twin.uri} and ${o.uri} have the same log object name; s3logs tells raw objects apart by name and cannot convert both into one lake`,
          'io',
        );
      read.set(o.name, o);
    }
  }
  const old = previous?.objects ?? [];
  const status: Status[] = [];
  let goneObjects = 0;
  let goneRows = 0;
  let removedAny = false;
  let otherObjects = 0;
  for (const o of old) {
    if (read.has(o.name)) {
      status.push('replaced');
      continue;
    }
    const part = responsiblePart(parts, o.name);
    if (part && inScope(part, o.uri)) {
      goneObjects++;
      goneRows += o.rows;
      status.push(part.deleteVanished ? 'removed' : 'kept');
      removedAny ||= part.deleteVanished;
    } else {
      otherObjects++;
      status.push('kept');
    }
  }
  const objects = [...read.values(), ...old.filter((_, i) => status[i] === 'kept')].sort((a, b) => compareKeys(a.name, b.name));

  const carries: Carry[] = [];
  const dropped: string[] = [];
  /** Keeps a file whose objects all stay, drops one whose objects all go, carries the kept runs of the rest. */
  const sort = <T extends FileRecord | RejectFileRecord>(records: readonly T[], kind: Carry['kind']): T[] => {
    const kept: T[] = [];
    for (const record of records) {
      const s = split(record.runs, old, status);
      if (s.all) kept.push(record);
      else {
        if (!s.none) carries.push({ kind, from: record, ranges: s.ranges, runs: s.kept });
        dropped.push(record.key);
      }
    }
    return kept;
  };
  const keptFiles = sort(previous?.files ?? [], 'data');
  const keptRejects = sort(previous?.rejectFiles ?? [], 'rejects');
  const published = new Set(parts.flatMap((p) => [...p.files.map((f) => f.key), ...p.rejectFiles.map((r) => r.key)]));
  for (const f of keptFiles) {
    if (published.has(f.key))
      throw new StorageError(`${f.key} would replace a file that keeps other objects' rows; refusing (file name collision)`, 'io', f.key);
  }
  return {
    objects,
    keptFiles,
    keptRejects,
    carries,
    deletes: dropped.filter((key) => !published.has(key)).sort(),
    gone: { objects: goneObjects, rows: goneRows, removed: removedAny },
    otherObjects,
  };
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

function remap(runs: ReadonlyArray<readonly [ObjectRecord, number]>, index: Map<string, number>): number[] {
  const out: number[] = [];
  for (const [object, rows] of runs) out.push(index.get(object.name)!, rows);
  return out;
}

function pairs(runs: Runs, objects: readonly ObjectRecord[]): Array<[ObjectRecord, number]> {
  const out: Array<[ObjectRecord, number]> = [];
  for (let i = 0; i < runs.length; i += 2) out.push([objects[runs[i]!]!, runs[i + 1]!]);
  return out;
}

/** Rewrites a file that keeps some objects' rows into staging; the new name is a hash of what it keeps. */
async function carryFile(
  dest: Storage,
  carry: Carry,
  staging: string,
  writeOptions: WriteOptions,
): Promise<{ key: string; stagingKey: string; bytes: number; count: number }> {
  const { keepRowRanges, keepRejectLines } = await import('./rewrite.js');
  const body = await dest.get(carry.from.key);
  const name = shortHash(carry.from.key + '\n' + carry.runs.map(([o]) => o.name).join('\n'));
  const dir = carry.from.key.slice(0, carry.from.key.lastIndexOf('/') + 1);
  let bytes: Uint8Array;
  let count: number;
  let key: string;
  if (carry.kind === 'data') {
    const file = carry.from as FileRecord;
    key = `${dir}part-${keyDateOfFile(file.key)}c${name}.parquet`;
    const written = await keepRowRanges(body, carry.ranges, writeOptions);
    bytes = written.bytes;
    count = written.rows;
  } else {
    key = `${dir}rejects-c${name}.jsonl`;
    // Reject lines name the object where it was read: the record's uri.
    const keep = new Set(carry.runs.map(([o]) => o.uri));
    const kept = keepRejectLines(body, (uri) => keep.has(uri));
    bytes = kept.bytes;
    count = kept.lines;
  }
  const expected = carry.runs.reduce((sum, [, rows]) => sum + rows, 0);
  if (count !== expected)
    throw new StorageError(
      `carrying ${expected} kept rows out of ${dest.uri}${carry.from.key} gave ${count}; the file does not match its manifest`,
      'io',
      carry.from.key,
    );
  const stagingKey = `${staging}${key}.staged`;
  await dest.put(stagingKey, bytes);
  return { key, stagingKey, bytes: bytes.length, count };
}

/** `bucket=b/dt=d/part-2024-01-29-…` → `2024-01-29-` (carried files keep the key date in their name). */
function keyDateOfFile(key: string): string {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const m = /^part-(\d{4}-\d{2}-\d{2}-)/.exec(name);
  return m ? m[1]! : '';
}

/** Publishes under `lock` (which the caller holds); finishes earlier interrupted publishes first. */
export async function publish(dest: Storage, lock: LeaseLock, request: PublishRequest): Promise<PublishOutcome> {
  const { keyDate, runId } = request;
  const ownStaging = [
    ...new Set([
      ...request.parts.map((p) => lakeKeys.staging(keyDate, p.runId)),
      ...request.shardManifests.map((m) => lakeKeys.staging(keyDate, m.runId)),
    ]),
  ];
  await recoverPublishes(dest, keyDate, lock, request.concurrency, ownStaging);
  let current = await readManifest(dest, keyDate);
  let plan = reconcile(current?.manifest, request.parts);
  const shared = sharedFilesTouched(current?.manifest, plan);
  if (shared.length > 0) {
    // A compacted file holds other key dates' rows too: first split it into one file per key date (a
    // group publish under their locks), then plan again on the manifest that made.
    const { splitSharedFiles } = await import('./compact.js');
    await splitSharedFiles(dest, {
      keyDate,
      lock,
      files: shared,
      concurrency: request.concurrency,
      writeOptions: request.writeOptions,
      lockWaitMs: request.groupLockWaitMs ?? GROUP_LOCK_WAIT_MS,
    });
    current = await readManifest(dest, keyDate);
    plan = reconcile(current?.manifest, request.parts);
    const still = sharedFilesTouched(current?.manifest, plan);
    if (still.length > 0)
      throw new StorageError(
        `${still[0]!.key} still holds other key dates' rows after it was split; nothing of ${keyDate} was published, re-run`,
        'io',
        still[0]!.key,
      );
  }
  const redact = redactOfPublish(keyDate, current?.manifest, request.parts, plan);
  const staging = lakeKeys.staging(keyDate, runId);
  const limit = pLimit(Math.max(1, Math.min(request.concurrency, 8)));
  const carried = await Promise.all(plan.carries.map((c) => limit(() => carryFile(dest, c, staging, request.writeOptions))));

  const index = new Map(plan.objects.map((o, i) => [o.name, i]));
  const files: FileRecord[] = [];
  const rejectFiles: RejectFileRecord[] = [];
  for (const f of plan.keptFiles)
    files.push({
      key: f.key,
      bucket: f.bucket,
      dt: f.dt,
      rows: f.rows,
      bytes: f.bytes,
      runs: remap(pairs(f.runs, current!.manifest.objects), index),
      ...(f.shared ? { shared: f.shared } : {}),
    });
  for (const r of plan.keptRejects)
    rejectFiles.push({ key: r.key, rejects: r.rejects, runs: remap(pairs(r.runs, current!.manifest.objects), index) });
  const moves: Array<[string, string]> = [];
  for (const part of request.parts) {
    for (const f of part.files) {
      files.push({ key: f.key, bucket: f.bucket, dt: f.dt, rows: f.rows, bytes: f.bytes, runs: remap(pairs(f.runs, part.objects), index) });
      moves.push([f.stagingKey, f.key]);
    }
    for (const r of part.rejectFiles) {
      rejectFiles.push({ key: r.key, rejects: r.rejects, runs: remap(pairs(r.runs, part.objects), index) });
      moves.push([r.stagingKey, r.key]);
    }
  }
  plan.carries.forEach((c, i) => {
    const out = carried[i]!;
    moves.push([out.stagingKey, out.key]);
    if (c.kind === 'data') {
      const from = c.from as FileRecord;
      files.push({ key: out.key, bucket: from.bucket, dt: from.dt, rows: out.count, bytes: out.bytes, runs: remap(c.runs, index) });
    } else {
      rejectFiles.push({ key: out.key, rejects: out.count, runs: remap(c.runs, index) });
    }
  });
  files.sort((a, b) => compareKeys(a.key, b.key));
  rejectFiles.sort((a, b) => compareKeys(a.key, b.key));
  const placed = new Set(moves.map(([, to]) => to));

  const sources = new Set(current?.manifest.sources ?? []);
  for (const part of request.parts) sources.add(part.scope.storageUri + part.scope.prefix);
  const manifest: KeyDateManifest = {
    kind: 's3logs/keydate-manifest',
    manifestVersion: 2,
    keyDate,
    runId,
    publishedBy: request.publishedBy,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    schemaVersion: SCHEMA_VERSION,
    createdAt: new Date().toISOString(),
    sources: [...sources].sort(),
    objects: plan.objects,
    files,
    rejectFiles,
    redact,
  };
  checkManifest(manifest);
  const journal: PublishJournal = {
    kind: 's3logs/publish-journal',
    keyDate,
    runId,
    createdAt: manifest.createdAt,
    baseVersion: current?.version ?? null,
    manifest,
    moves,
    // Never a key this publish puts in place (a carried file named like one it replaces).
    deletes: plan.deletes.filter((key) => !placed.has(key)),
    shardManifests: request.shardManifests.map((m) => m.key),
    staging: [...new Set([staging, ...ownStaging])],
  };
  await lock.verify();
  await writeRecord(dest, lakeKeys.journal(keyDate, runId), journal);
  request.onJournal?.();
  const windowStart = performance.now();
  await finishJournal(dest, journal, lock, request.concurrency);
  const windowSeconds = (performance.now() - windowStart) / 1000;

  const written = [
    ...request.parts.flatMap((p) => p.files.map((f) => ({ key: f.key, bytes: f.bytes }))),
    ...plan.carries.flatMap((c, i) => (c.kind === 'data' ? [{ key: carried[i]!.key, bytes: carried[i]!.bytes }] : [])),
  ];
  return {
    manifest,
    previous: current?.manifest,
    filesWritten: written.length,
    bytesOut: written.reduce((sum, f) => sum + f.bytes, 0),
    partitions: new Set(files.map((f) => `${f.bucket}/${f.dt}`)).size,
    rejectFiles: rejectFiles.map((r) => dest.uri + r.key),
    staleFilesDeleted: plan.deletes.length,
    carriedFiles: carried.length,
    gone: plan.gone,
    otherObjects: plan.otherObjects,
    windowSeconds,
  };
}

/**
 * The --redact of the state a publish makes. A key date's manifest states what holds for every one of
 * its rows, so a publish that changes the setting must re-read every object whose rows the key date
 * keeps: rows it keeps without reading them (objects gone from the source, other sources' objects)
 * were written under the old setting, and redacted values cannot be restored. Such a publish is
 * refused (a ConfigError: exit 2 when nothing else failed) before anything is written.
 */
function redactOfPublish(keyDate: string, previous: KeyDateManifest | undefined, parts: readonly StagedPart[], plan: Plan): RedactMode[] {
  const redact = normalizeRedact(parts[0]?.redact);
  for (const part of parts) {
    if (!sameRedact(part.redact, redact)) {
      const label = (p: StagedPart) =>
        `${p.shard ? `shard ${p.shard.index + 1}/${p.shard.count}` : 'run'} ${p.runId}: --redact ${redactLabel(p.redact)}`;
      throw new ConfigError(
        `the shards of ${keyDate} were converted with different --redact settings (${parts.map(label).join('; ')}); re-run the shards with one setting`,
        '--redact',
      );
    }
  }
  if (!previous || sameRedact(previous.redact, redact)) return redact;
  const kept = new Set<number>();
  for (const f of [...plan.keptFiles, ...plan.keptRejects]) for (let i = 0; i < f.runs.length; i += 2) kept.add(f.runs[i]!);
  const carried = plan.carries.flatMap((c) => c.runs.map(([o]) => o));
  const keptObjects = [...[...kept].map((i) => previous.objects[i]!), ...carried];
  if (keptObjects.length === 0) return redact;
  const names = [...new Set(keptObjects.map((o) => o.uri))].sort();
  throw new ConfigError(
    `${keyDate} was published with --redact ${redactLabel(previous.redact)} and this run asks for --redact ${redactLabel(redact)}, ` +
      `but the key date keeps rows of ${names.length} object${names.length === 1 ? '' : 's'} this run did not read (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}): ` +
      `they would keep the old setting and the key date would mix both. Re-run with --redact ${redactLabel(previous.redact)}, ` +
      `or include their source in this run, or drop their rows (--delete-vanished, for objects gone from --source), or convert into a new --dest`,
    '--redact',
  );
}

/** Every file's runs add up to its rows and name a real object; every object's rows are all there. */
export function checkManifest(manifest: KeyDateManifest): void {
  for (const f of manifest.files) {
    const s = f.shared;
    if (s && (s.offset < 0 || s.offset + f.rows > s.fileRows || !s.members.includes(manifest.keyDate))) {
      throw new StorageError(
        `${f.key}: the segment of ${manifest.keyDate} [${s.offset}, ${s.offset + f.rows}) does not fit the file's ${s.fileRows} rows or its members`,
        'io',
        f.key,
      );
    }
  }
  const rows = new Array<number>(manifest.objects.length).fill(0);
  const rejects = new Array<number>(manifest.objects.length).fill(0);
  const tally = (runs: Runs, into: number[], total: number, key: string) => {
    let sum = 0;
    for (let i = 0; i < runs.length; i += 2) {
      into[runs[i]!]! += runs[i + 1]!;
      sum += runs[i + 1]!;
    }
    if (sum !== total) throw new StorageError(`${key}: its runs add up to ${sum} rows, the file has ${total}`, 'io', key);
  };
  for (const f of manifest.files) tally(f.runs, rows, f.rows, f.key);
  for (const r of manifest.rejectFiles) tally(r.runs, rejects, r.rejects, r.key);
  manifest.objects.forEach((o, i) => {
    if (rows[i] !== o.rows || rejects[i] !== o.rejects) {
      throw new StorageError(
        `${o.uri}: the files of ${manifest.keyDate} hold ${rows[i]} rows and ${rejects[i]} rejects of it, its record says ${o.rows} and ${o.rejects}; nothing was published`,
        'io',
      );
    }
  });
}

/** Steps 3–5 of a publish; every step can be repeated, so this also finishes an interrupted publish. */
async function finishJournal(dest: Storage, journal: PublishJournal, lock: LeaseLock, concurrency: number): Promise<void> {
  const limit = pLimit(Math.max(1, concurrency));
  await Promise.all(
    journal.moves.map(([from, to]) =>
      limit(async () => {
        await place(dest, from, to);
        failpoint('published');
      }),
    ),
  );
  failpoint('before-manifest');
  await lock.verify();
  const key = lakeKeys.manifest(journal.keyDate);
  const body = recordBody(journal.manifest);
  const written = journal.baseVersion === null ? await dest.putIfAbsent(key, body) : await dest.putIfMatch(key, body, journal.baseVersion);
  if (!written) {
    // A lost answer finds our own manifest; anything else is a newer publish.
    const now = await readManifest(dest, journal.keyDate);
    if (now?.manifest.runId !== journal.runId) {
      throw new PublishConflictError(
        `the manifest of ${journal.keyDate} changed while run ${journal.runId} was publishing (run ${now?.manifest.runId ?? '?'} published meanwhile); ` +
          'this run stopped; the next run of the key date rolls its files back',
      );
    }
  }
  await cleanUp(dest, journal, journal.manifest);
}

/** After the manifest: old files, consumed shard manifests, staging, the journal. */
async function cleanUp(dest: Storage, journal: PublishJournal, manifest: KeyDateManifest): Promise<void> {
  const referenced = new Set([...manifest.files.map((f) => f.key), ...manifest.rejectFiles.map((r) => r.key)]);
  const stale = journal.deletes.filter((key) => !referenced.has(key));
  if (stale.length) await dest.delete(stale);
  if (journal.shardManifests.length) await dest.delete(journal.shardManifests);
  for (const prefix of journal.staging) await clearPrefix(dest, prefix);
  await dest.delete([lakeKeys.journal(journal.keyDate, journal.runId)]);
}

/** Publishes a crash left half done: finished when the manifest is still the one they started from, else rolled back. */
export async function recoverPublishes(
  dest: Storage,
  keyDate: string,
  lock: LeaseLock,
  concurrency: number,
  keep: readonly string[] = [],
): Promise<number> {
  const listed = await dest.list(lakeKeys.journalPrefix(keyDate));
  const journals: Array<PublishJournal | GroupJournal> = [];
  for (const o of listed.objects) {
    const journal = await readRecord<PublishJournal | GroupJournal>(dest, o.key);
    if (journal) journals.push(journal);
  }
  journals.sort((a, b) => compareKeys(a.createdAt, b.createdAt));
  for (const journal of journals) {
    if (journal.kind === 's3logs/group-journal') {
      // A compaction (or split) that lost this key date's lock: decided and finished or rolled back here.
      await resolveGroup(dest, journal, `a run of ${keyDate}`, concurrency, () => lock.verify());
      continue;
    }
    const current = await readManifest(dest, keyDate);
    if (current?.manifest.runId === journal.runId) await cleanUp(dest, journal, current.manifest);
    else if ((current?.version ?? null) === journal.baseVersion) await finishJournal(dest, journal, lock, concurrency);
    else await rollBack(dest, journal, current?.manifest);
  }
  await collectStaging(dest, keyDate, keep);
  return journals.length;
}

/** Undoes a publish that lost to a newer one: its files that the current state does not have go. */
async function rollBack(dest: Storage, journal: PublishJournal, manifest: KeyDateManifest | undefined): Promise<void> {
  const referenced = new Set([...(manifest?.files ?? []).map((f) => f.key), ...(manifest?.rejectFiles ?? []).map((r) => r.key)]);
  const placed = journal.moves.map(([, to]) => to).filter((key) => !referenced.has(key));
  if (placed.length) await dest.delete(placed);
  for (const prefix of journal.staging) await clearPrefix(dest, prefix);
  await dest.delete([lakeKeys.journal(journal.keyDate, journal.runId)]);
}

/**
 * What runs that died left: their shard locks, and everything under the key date's staging root that no
 * shard manifest, no journal and no live shard lock still needs. Runs only under the publish lock.
 */
async function collectStaging(dest: Storage, keyDate: string, keep: readonly string[]): Promise<void> {
  const needed = new Set<string>(keep);
  const shardKeys = (await dest.list(lakeKeys.shardPrefix(keyDate))).objects.map((o) => o.key);
  for (const key of shardKeys) {
    const name = key.slice(key.lastIndexOf('/') + 1);
    if (name.startsWith('lock-')) {
      const lock = await readRecord<LockRecord>(dest, key).catch(() => undefined);
      if (lock && isHeld(lock)) needed.add(lakeKeys.staging(keyDate, lock.runId));
      // A shard run that died holds nothing: without this, its lock stayed after the round was
      // committed without it (its part was staged) until that shard ran again.
      else await clearDeadLock(dest, key, { runId: newRunId(), purpose: "clear a dead shard run's lock" }).catch(() => false);
    } else {
      const shard = await readRecord<ShardManifest>(dest, key).catch(() => undefined);
      if (shard) needed.add(lakeKeys.staging(keyDate, shard.runId));
    }
  }
  const root = lakeKeys.stagingRoot(keyDate);
  // A run's directory is found from its keys and from a delimiter listing: s3rver (which some use as a
  // local S3) lists no common prefix for keys nested two levels below the prefix, as staged files are,
  // and on the local store a run killed while writing may have left only hidden temp files, which no
  // key shows but its directory does (deletePrefix removes them with it).
  const keys = (await dest.list(root)).objects.map((o) => o.key);
  const dirs = [
    ...new Set([
      ...keys.map((k) => root + k.slice(root.length).split('/')[0] + '/'),
      ...(await dest.list(root, { delimiter: '/' })).commonPrefixes,
    ]),
  ];
  for (const dir of dirs) if (!needed.has(dir)) await clearPrefix(dest, dir);
}
