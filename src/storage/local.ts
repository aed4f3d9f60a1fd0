/**
 * Local filesystem store: the embedded default, so `npm start` works with no AWS account. Keys map to
 * paths under the root directory. Writes go to a hidden temp file in the target directory and are
 * renamed into place, so a crash never leaves a half-written file where readers look. A temp file that a
 * killed writer leaves is hidden from listings and removed by the next write, delete or listing of its
 * directory.
 *
 * Conditional writes: putIfAbsent creates the name with link(), which fails on an existing name.
 * putIfMatch compares and replaces under a per-key mutex file (`.<name>.s3logs-cas`, created with
 * O_EXCL), so it is atomic against every other putIfMatch on this host, in any process. Unconditional
 * put/delete do not take the mutex (a crash there must never block later writes); callers that
 * compare-and-swap a key write it with conditional writes only. The mutex names its holder (host and
 * pid): one that a killed holder leaves is broken by the next compare-and-swap read or write of its
 * key, at once when the holder's process is gone from this host, after CAS_STALE_MS otherwise.
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { compareKeys } from '../compare.js';
import { writerGoneHere } from '../processes.js';
import { StorageError } from '../errors.js';
import type { ListOptions, ListPage, ObjectInfo, PutOptions, Storage, StorageStats, VersionedObject } from './Storage.js';

/** A CAS mutex older than this was left by a crashed process (a holder keeps it for milliseconds). */
const CAS_STALE_MS = 10_000;
/** Longer than CAS_STALE_MS, so a crashed holder's mutex delays a later CAS but never fails it. */
const CAS_WAIT_MS = 15_000;
/**
 * A temp file written from another host is judged orphaned only by age (its writer's pid means nothing
 * here). A write keeps touching its temp file until the rename, which follows at once: an hour is far
 * beyond any write in flight.
 */
const FOREIGN_TEMP_STALE_MS = 60 * 60_000;
/** Files a listing stats at once. */
const STAT_BATCH = 64;

export class LocalStorage implements Storage {
  readonly uri: string;
  private readonly counters = { requests: 0, retries: 0, bytesRead: 0, bytesWritten: 0 };

  constructor(readonly root: string) {
    this.uri = root.endsWith(sep) ? root : root + sep;
  }

  private path(key: string): string {
    if (key.split('/').includes('..')) throw new StorageError(`key ${key} leaves the store root ${this.uri}`, 'io', key);
    return join(this.root, ...key.split('/'));
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    this.counters.requests++;
    const slash = prefix.lastIndexOf('/');
    const dirKey = prefix.slice(0, slash + 1);
    const keys: string[] = [];
    const commonPrefixes: string[] = [];
    /** Directories holding temp files: a killed writer's may sit where nothing is ever written again. */
    const withTemps = new Set<string>();
    const walk = async (key: string, deep: boolean): Promise<void> => {
      let entries;
      try {
        entries = await readdir(this.path(key), { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return;
        throw this.wrap(error, key, 'list');
      }
      for (const entry of entries) {
        const child = key + entry.name;
        if (!child.startsWith(prefix) && !prefix.startsWith(child + '/')) continue;
        if (entry.isDirectory()) {
          if (!deep) commonPrefixes.push(child + '/');
          else await walk(child + '/', true);
        } else if (entry.isFile() && !isTempName(entry.name)) {
          keys.push(child);
        } else if (entry.isFile() && entry.name.endsWith(TEMP_SUFFIX)) {
          withTemps.add(this.path(key === '' ? '.' : key.slice(0, -1)));
        }
      }
    };
    if (options.delimiter === '/') {
      await walk(dirKey, false);
    } else {
      await walk(dirKey, true);
    }
    // E.g. a group's outcome.json whose write was killed between its temp file and the link: no later
    // write goes to that directory, but the next compaction lists it.
    for (const dir of withTemps) {
      await sweepOrphanedTemps(dir);
      await this.pruneEmpty(dir);
    }
    const keep = (key: string) =>
      key.startsWith(prefix) && (!options.startAfter || key > options.startAfter) && (options.endAt === undefined || key <= options.endAt);
    const sorted = keys.filter(keep).sort(compareKeys);
    const truncated = options.maxKeys !== undefined && sorted.length > options.maxKeys;
    // Only the page's own files are stat'ed: a listing in key ranges (list.ts) reads one directory many
    // times, and stat'ing every file of it each time made a 1,400-file listing take seconds.
    const page = truncated ? sorted.slice(0, options.maxKeys) : sorted;
    const objects: ObjectInfo[] = [];
    for (let i = 0; i < page.length; i += STAT_BATCH) {
      const infos = await Promise.all(
        page.slice(i, i + STAT_BATCH).map(async (key) => {
          try {
            const info = await stat(this.path(key));
            return { key, size: info.size, etag: `${info.size}-${Math.trunc(info.mtimeMs)}`, lastModified: info.mtime };
          } catch (error) {
            // Deleted since the directory was read: gone, as from an S3 listing made a moment later.
            if (isMissing(error)) return undefined;
            throw this.wrap(error, key, 'list');
          }
        }),
      );
      for (const info of infos) if (info) objects.push(info);
    }
    return {
      objects,
      commonPrefixes: commonPrefixes.filter(keep).sort(),
      ...(truncated ? { truncated } : {}),
    };
  }

  async get(key: string): Promise<Uint8Array> {
    this.counters.requests++;
    try {
      const body = await readFile(this.path(key));
      this.counters.bytesRead += body.length;
      return body;
    } catch (error) {
      throw this.wrap(error, key, 'read');
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    this.counters.requests++;
    try {
      const info = await stat(this.path(key));
      if (!info.isFile()) return undefined;
      return { key, size: info.size, etag: `${info.size}-${Math.trunc(info.mtimeMs)}`, lastModified: info.mtime };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.wrap(error, key, 'read');
    }
  }

  async put(key: string, body: Uint8Array, _options?: PutOptions): Promise<void> {
    this.counters.requests++;
    const target = this.path(key);
    try {
      await inDirectory(target, () => writeAtomic(target, body));
      this.counters.bytesWritten += body.length;
    } catch (error) {
      throw this.wrap(error, key, 'write');
    }
    await sweepOrphanedTemps(dirname(target));
  }

  async putIfAbsent(key: string, body: Uint8Array): Promise<boolean> {
    this.counters.requests++;
    const target = this.path(key);
    const temp = tempPathOf(target);
    try {
      await inDirectory(target, () => writeFile(temp, body));
      // link() creates the name only if it does not exist: an atomic create-if-absent with full content.
      await link(temp, target);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw this.wrap(error, key, 'write');
    } finally {
      await rm(temp, { force: true });
      await sweepOrphanedTemps(dirname(target));
    }
  }

  async getVersioned(key: string): Promise<VersionedObject | undefined> {
    this.counters.requests++;
    const target = this.path(key);
    let body: Buffer;
    try {
      // One read, hashed: the version always describes exactly these bytes.
      body = await readFile(target);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw this.wrap(error, key, 'read');
    }
    this.counters.bytesRead += body.length;
    // A read that starts a compare-and-swap clears a killed holder's mutex of the key: the swap may never
    // come (nothing to change), and the mutex would stay, delaying the key's next swap by CAS_STALE_MS.
    await breakStaleMutex(mutexPathOf(target));
    return { body, version: contentVersion(body) };
  }

  async putIfMatch(key: string, body: Uint8Array, version: string): Promise<boolean> {
    this.counters.requests++;
    const target = this.path(key);
    let mutex: string | undefined;
    try {
      mutex = await acquireCasMutex(target);
      // No directory, hence no object: nothing to match.
      if (mutex === undefined) return false;
      let current: Buffer;
      try {
        current = await readFile(target);
      } catch (error) {
        if (isMissing(error)) return false;
        throw error;
      }
      if (contentVersion(current) !== version) return false;
      await writeAtomic(target, body);
      this.counters.bytesWritten += body.length;
      await sweepOrphanedTemps(dirname(target));
      return true;
    } catch (error) {
      throw this.wrap(error, key, 'write');
    } finally {
      if (mutex !== undefined) await rm(mutex, { force: true });
    }
  }

  /** Atomic rename within the store (publishing a staged file). */
  async place(fromKey: string, toKey: string): Promise<void> {
    this.counters.requests++;
    try {
      // ENOENT is also a source that is gone (callers act on that): retried only while the source is there.
      await inDirectory(
        this.path(toKey),
        () => rename(this.path(fromKey), this.path(toKey)),
        () => exists(this.path(fromKey)),
      );
    } catch (error) {
      throw this.wrap(error, fromKey, 'write');
    }
    await this.pruneEmpty(dirname(this.path(fromKey)));
  }

  async deletePrefix(prefix: string): Promise<void> {
    if (!prefix.endsWith('/')) throw new StorageError(`deletePrefix needs a directory prefix ending in /, got ${prefix}`, 'io', prefix);
    this.counters.requests++;
    const dir = this.path(prefix.slice(0, -1));
    await rm(dir, { recursive: true, force: true });
    await this.pruneEmpty(dirname(dir));
  }

  async delete(keys: readonly string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const key of keys) {
      this.counters.requests++;
      try {
        await rm(this.path(key), { force: true });
      } catch (error) {
        throw this.wrap(error, key, 'delete');
      }
      dirs.add(dirname(this.path(key)));
    }
    // Like S3, a "directory" exists only while it holds objects: prune the ones emptied here (after their
    // killed writers' temp files, which would keep them).
    for (const dir of [...dirs].sort((a, b) => b.length - a.length)) {
      await sweepOrphanedTemps(dir);
      await this.pruneEmpty(dir);
    }
  }

  private async pruneEmpty(dir: string): Promise<void> {
    const root = join(this.root);
    for (let current = dir; current.length > root.length && current.startsWith(root); current = dirname(current)) {
      try {
        await rmdir(current);
      } catch {
        return;
      }
    }
  }

  stats(): StorageStats {
    return { ...this.counters };
  }

  private wrap(error: unknown, key: string, action: 'list' | 'read' | 'write' | 'delete'): StorageError {
    const code = (error as NodeJS.ErrnoException).code;
    const where = this.path(key);
    if (code === 'ENOENT') return new StorageError(`${where} does not exist`, 'not_found', key, { cause: error });
    if (code === 'EACCES' || code === 'EPERM') {
      return new StorageError(`permission denied to ${action} ${where}; check the file permissions`, 'access_denied', key, {
        cause: error,
      });
    }
    return new StorageError(`cannot ${action} ${where}: ${(error as Error).message}`, 'io', key, { cause: error });
  }
}

/** Hidden from list(): temp files of writes in flight (or crashed) and CAS mutexes. */
function isTempName(name: string): boolean {
  return name.startsWith('.') && (name.endsWith('.s3logs-tmp') || name.endsWith('.s3logs-cas'));
}

const TEMP_SUFFIX = '.s3logs-tmp';
const HOST =
  hostname()
    .replace(/[^A-Za-z0-9.-]/g, '_')
    .slice(0, 64) || 'localhost';

/**
 * `.<target name>~<host>~<pid>~<random>.s3logs-tmp` beside the target: the name says which key it was
 * for and who wrote it, so that a later write in that directory can tell a SIGKILLed writer's leftover
 * from a write in flight (sweepOrphanedTemps).
 */
function tempPathOf(target: string): string {
  return join(dirname(target), `${tempPrefixOf(target)}${HOST}~${process.pid}~${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
}

/** The name part of target's temp files; a long name is hashed so that the temp name stays within NAME_MAX. */
function tempPrefixOf(target: string): string {
  const name = basename(target);
  return `.${name.length <= 128 ? name : createHash('sha256').update(name).digest('hex')}~`;
}

/**
 * Removes the temp files in `dir` whose writer is gone: written on this host by a process that no
 * longer exists, or more than FOREIGN_TEMP_STALE_MS ago on another host (a shared filesystem) or by a
 * version of s3logs whose temp names did not say who wrote them. A write killed between its temp file
 * and its rename leaves one, and its key may never be written again (a journal's name is its run's):
 * so every temp file of the directory is judged, not only the key's own. Best effort: the write it
 * follows has succeeded, and a file it cannot judge or remove is left for the next one.
 */
async function sweepOrphanedTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith('.') || !name.endsWith(TEMP_SUFFIX)) continue;
    // `<…>~host~pid~random`: the last three parts (a key's name may hold `~`; a host name cannot).
    const parts = name.slice(1, -TEMP_SUFFIX.length).split('~');
    const host = parts.length >= 4 ? parts[parts.length - 3] : undefined;
    const pid = Number(parts[parts.length - 2]);
    const path = join(dir, name);
    const gone = writerGoneHere(host, pid, HOST);
    if (gone === false) continue;
    if (gone === undefined) {
      const info = await stat(path).catch(() => undefined);
      if (!info || Date.now() - info.mtimeMs < FOREIGN_TEMP_STALE_MS) continue;
    }
    await unlink(path).catch(() => undefined);
  }
}

function isMissing(error: unknown): boolean {
  // ENOTDIR: a parent "directory" is a file; EISDIR: the key names a directory. Neither is an object.
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

/** A content hash, not size+mtime: two writes of the same size within one mtime tick must differ. */
function contentVersion(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

/**
 * Runs `write` into target's directory, made first. Like S3, a "directory" exists only while it holds
 * objects: another process deleting its last object prunes it, possibly between our mkdir and write
 * (seen: three shards' write checks at once). Then it is made again and the write retried.
 */
async function inDirectory<T>(target: string, write: () => Promise<T>, retryable: () => Promise<boolean> = async () => true): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      // mkdir -p itself can meet the prune half-way (ENOENT on a parent it just made).
      await mkdir(dirname(target), { recursive: true });
      return await write();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 10 || !(await retryable())) throw error;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Temp file in the target's directory, fsync, rename: readers see the old file or the new one. */
async function writeAtomic(target: string, body: Uint8Array): Promise<void> {
  const temp = tempPathOf(target);
  try {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

const mutexPathOf = (target: string): string => join(dirname(target), `.${basename(target)}.s3logs-cas`);

/** What a CAS mutex holds: who took it, so that a later process can tell a killed holder's mutex at once. */
const MUTEX_OWNER = `${HOST}~${process.pid}`;

/**
 * Takes the CAS mutex of `target` (O_EXCL create of `.<name>.s3logs-cas` beside it, holding
 * MUTEX_OWNER) and returns its path, or undefined when the target's directory does not exist. Waits
 * while another holder has it.
 */
async function acquireCasMutex(target: string): Promise<string | undefined> {
  const mutex = mutexPathOf(target);
  const deadline = Date.now() + CAS_WAIT_MS;
  for (;;) {
    try {
      const handle = await open(mutex, 'wx');
      try {
        // A kill before this write leaves an empty mutex: judged by its age alone.
        await handle.writeFile(MUTEX_OWNER);
      } finally {
        await handle.close();
      }
      return mutex;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      if (code !== 'EEXIST') throw error;
    }
    await breakStaleMutex(mutex);
    if (Date.now() >= deadline) {
      throw new Error(
        `the compare-and-swap mutex ${mutex} stayed taken for ${CAS_WAIT_MS / 1000} s; ` + `if no s3logs process is running, remove it`,
      );
    }
    // Jittered, so waiting processes do not retry in lockstep.
    await sleep(5 + Math.random() * 15);
  }
}

/**
 * Whether the mutex at `path` was left by a holder that is gone: its process no longer exists on this
 * host, or it is older than CAS_STALE_MS (a holder keeps it for milliseconds; the only test for a
 * holder on another host, or one killed before it wrote its name). False when there is no such file.
 */
async function isOrphanedMutex(path: string): Promise<boolean> {
  let info;
  let owner: string;
  try {
    info = await stat(path);
    owner = await readFile(path, 'utf8');
  } catch {
    return false;
  }
  if (Date.now() - info.mtimeMs >= CAS_STALE_MS) return true;
  const at = owner.lastIndexOf('~');
  return at > 0 && writerGoneHere(owner.slice(0, at), Number(owner.slice(at + 1)), HOST) === true;
}

/**
 * Removes a mutex whose holder is gone (isOrphanedMutex). It is first renamed aside and judged again
 * there: between our judgement and the rename another waiter may have broken it and a new holder taken
 * the name, and a live holder's mutex caught that way is linked back instead of deleted.
 */
async function breakStaleMutex(mutex: string): Promise<void> {
  if (!(await isOrphanedMutex(mutex))) return;
  const aside = join(dirname(mutex), `.${randomBytes(6).toString('hex')}.s3logs-cas`);
  try {
    await rename(mutex, aside);
  } catch {
    return; // Gone already: another waiter broke it.
  }
  try {
    if (!(await isOrphanedMutex(aside))) await link(aside, mutex).catch(() => undefined);
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}
